"""Generate the bundled sample company's drop folder (config/example/dropfolder), seeded.

    python -m benchmarks.sample_company            # rewrites config/example/dropfolder

Realistic on purpose: Chinese and English counterparties under several names each (legal,
short, traditional, pinyin/English, bank-truncated, typo), valid 统一社会信用代码, multi-line
orders, partial deliveries, services invoiced without delivery, batch and partial payments,
bank fees, overlapping bank exports, and a few anomalies (over- and short payment, a
duplicate supplier invoice, a price and a quantity mismatch, a payment to an unknown account,
unrelated bank lines). The output is committed; re-running with the same seed rewrites the
same bytes.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from benchmarks.uscc import make_uscc

CENT = Decimal("0.01")
START = date(2026, 10, 1)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Party:
    pid: str
    role: str
    legal: str
    variants: list[str]            # names other sources use
    tax_id: str
    account: str
    currency: str = "CNY"
    aliases: list[str] = field(default_factory=list)


CUSTOMERS = [
    # legal name, short/alias names (master data), variants seen elsewhere (not in master data)
    ("北京京东世纪贸易有限公司", ["京东世纪", "京东"], ["北京京东世纪贸易", "Beijing Jingdong Century Trading Co., Ltd.", "北京京东世纪贸易有限公"]),
    ("深圳市腾讯计算机系统有限公司", ["腾讯计算机"], ["腾讯计算机系统有限公司", "深圳市騰訊計算機系統有限公司", "Shenzhen Tencent Computer Systems Co Ltd"]),
    ("杭州海康威视数字技术股份有限公司", ["海康威视"], ["海康威视数字技术股份有限公司", "杭州海康威視數字技術股份有限公司", "Hangzhou Hikvision Digital Tech"]),
    ("上海联影医疗科技股份有限公司", ["联影医疗"], ["联影医疗科技", "(上海)联影医疗科技股份有限公司", "上海联影医疗科技股分有限公司"]),
    ("苏州汇川技术有限公司", ["汇川技术"], ["汇川技术有限公司", "苏州匯川技術有限公司", "Suzhou Inovance Technology"]),
    ("成都京东方光电科技有限公司", ["成都京东方"], ["京东方光电科技", "Chengdu BOE Optoelectronics", "成都京东方光电科技有限公司(成都分公司)"]),
    ("武汉长江存储科技有限责任公司", ["长江存储"], ["长江存储科技有限责任公司", "Yangtze Memory Technologies Co., Ltd.", "武汉长江存储科技"]),
    ("青岛海尔智家股份有限公司", ["海尔智家"], ["海尔智家股份有限公司", "Qingdao Haier Smart Home", "青岛海尔智家股份有限公司"]),
]
FOREIGN_CUSTOMERS = [
    ("Northwind Traders GmbH", ["Northwind"], ["NORTHWIND TRADERS GMBH", "Northwind Traders", "Nothwind Traders GmbH"], "DE"),
    ("Contoso Electronics Pte. Ltd.", ["Contoso"], ["CONTOSO ELECTRONICS PTE LTD", "Contoso Electronics", "Contoso Electronics Pte Ltd Singapore Branch"], "SG"),
]
SUPPLIERS = [
    ("宁波舜宇光学科技(集团)有限公司", ["舜宇光学"], ["舜宇光学科技集团有限公司", "宁波舜宇光学科技有限公司", "Sunny Optical Technology"]),
    ("东莞市立讯精密工业有限公司", ["立讯精密"], ["立讯精密工业有限公司", "東莞市立訊精密工業有限公司", "Luxshare Precision Industry"]),
    ("厦门宏发电声股份有限公司", ["宏发电声"], ["宏发电声股份有限公司", "厦门宏发电声股份公司", "Xiamen Hongfa Electroacoustic"]),
    ("无锡先导智能装备股份有限公司", ["先导智能"], ["先导智能装备股份有限公司", "无锡先导智能装备", "Wuxi Lead Intelligent Equipment"]),
    ("天津中环半导体股份有限公司", ["中环半导体"], ["中环半导体股份有限公司", "天津中環半導體股份有限公司", "Tianjin Zhonghuan Semiconductor"]),
    ("广州视源电子科技股份有限公司", ["视源股份", "CVTE"], ["视源电子科技股份有限公司", "广州视源电子科技股份有限公司", "Guangzhou Shiyuan Electronic"]),
]
PRODUCTS = [
    ("SKU-CAM-01", "Decimal('1280.00')", "0.13"), ("SKU-LENS-02", "Decimal('356.50')", "0.13"),
    ("SKU-SSD-1T", "Decimal('499.00')", "0.13"), ("SKU-PCB-A4", "Decimal('86.40')", "0.13"),
    ("SKU-CBL-USB", "Decimal('12.80')", "0.13"), ("SKU-RLY-05", "Decimal('7.35')", "0.13"),
    ("SKU-MOD-4G", "Decimal('215.00')", "0.13"), ("SKU-BAT-LI", "Decimal('168.90')", "0.13"),
    ("SKU-PNL-27", "Decimal('1899.00')", "0.13"), ("SKU-FEED-AG", "Decimal('45.60')", "0.09"),
]
SERVICES = [("SVC-INSTALL", "Decimal('3500.00')", "0.06"), ("SVC-SUPPORT", "Decimal('12000.00')", "0.06")]
OWN_ACCOUNTS = {"CNY": "31050161373600001234", "USD": "31050161373600005678"}
PROJECTS = ["", "P-华东扩建", "P-Smart-Factory", "P-运维"]
DEPARTMENTS = ["销售一部", "销售二部", "采购部", "海外业务部"]


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.bank_rows: list[list[str]] = []
        self.txn_seq = 0
        self.rows: dict[str, list[list[str]]] = {name: [] for name in (
            "sales_orders", "deliveries", "sales_invoices", "purchase_orders", "goods_receipts",
            "purchase_invoices")}
        self.parties: list[Party] = []
        self.inv_seq = 0

    # --- parties ---------------------------------------------------------------------------
    def make_parties(self) -> tuple[list[Party], list[Party]]:
        customers, suppliers = [], []
        for i, (legal, aliases, variants) in enumerate(CUSTOMERS, start=1):
            customers.append(Party(f"C{i:03d}", "customer", legal, variants, make_uscc(self.rng),
                                   self._account(), aliases=aliases))
        for j, (legal, aliases, variants, _country) in enumerate(FOREIGN_CUSTOMERS, start=len(customers) + 1):
            customers.append(Party(f"C{j:03d}", "customer", legal, variants, "", self._account(),
                                   currency="USD", aliases=aliases))
        for i, (legal, aliases, variants) in enumerate(SUPPLIERS, start=1):
            suppliers.append(Party(f"S{i:03d}", "supplier", legal, variants, make_uscc(self.rng),
                                   self._account(), aliases=aliases))
        self.parties = customers + suppliers
        return customers, suppliers

    def _account(self) -> str:
        return "6222" + "".join(self.rng.choice("0123456789") for _ in range(15))

    def name_for(self, party: Party, source: str) -> str:
        """ERP documents mostly use the legal name; banks and others use variants."""
        roll = self.rng.random()
        if source == "erp":
            return party.legal if roll < 0.8 else self.rng.choice(party.aliases + party.variants)
        if roll < 0.45:
            return party.legal[:35] if len(party.legal) > 35 else party.legal
        return self.rng.choice(party.variants)[:35]

    # --- lines -----------------------------------------------------------------------------
    def order_lines(self, services: bool = False) -> list[tuple[int, str, Decimal, Decimal, Decimal]]:
        catalogue = SERVICES if services else PRODUCTS
        picks = self.rng.sample(catalogue, k=1 if services else self.rng.randint(1, 4))
        lines = []
        for n, (sku, price, rate) in enumerate(picks, start=1):
            qty = Decimal(1) if services else Decimal(self.rng.choice([2, 5, 10, 20, 24, 50, 100, 120]))
            lines.append((n, sku, qty, eval(price), Decimal(rate)))
        return lines

    def next_invoice_no(self, twenty_digits: bool) -> str:
        self.inv_seq += 1
        if twenty_digits:  # 数电票: 2-digit year, 2-digit region code, 16-digit sequence
            return f"2631{self.rng.randint(0, 99):02d}{self.inv_seq:014d}"
        return f"{44000000 + self.inv_seq * 7919 % 1000000:08d}"

    # --- bank ------------------------------------------------------------------------------
    def bank(self, day: date, amount: Decimal, currency: str, party: Party | None, name: str,
             remittance: str, account_override: str | None = None) -> str:
        self.txn_seq += 1
        txn_id = f"T{day:%Y%m%d}{self.txn_seq:05d}"
        account = party.account if party else "6217" + "".join(self.rng.choice("0123456789") for _ in range(15))
        self.bank_rows.append([OWN_ACCOUNTS[currency], txn_id, day.isoformat(),
                               (day + timedelta(days=self.rng.choice([0, 0, 1]))).isoformat(),
                               f"{amount:.2f}", currency, name, account_override or account, remittance])
        return txn_id

    # --- order to cash ---------------------------------------------------------------------
    def sales(self, customers: list[Party], count: int) -> None:
        for k in range(1, count + 1):
            customer = self.rng.choice(customers)
            services = k % 9 == 0
            order_no = f"SO2026{k:04d}"
            order_date = START + timedelta(days=self.rng.randint(0, 40))
            lines = self.order_lines(services)
            project, department = self.rng.choice(PROJECTS), self.rng.choice(DEPARTMENTS[:2])
            if customer.currency == "USD":
                department = "海外业务部"
            name = self.name_for(customer, "erp")
            for n, sku, qty, price, rate in lines:
                self.rows["sales_orders"].append([order_no, order_date.isoformat(), name,
                                                  customer.tax_id, customer.currency, str(n), sku, str(qty),
                                                  f"{price:.2f}", str(rate), project, department])
            if services:
                self.sales_invoice(customer, order_no, "", order_date + timedelta(days=3), lines, k)
                continue
            partial = k % 4 == 0
            shipments = [[(n, sku, (qty / 2).to_integral_value(), price, rate) for n, sku, qty, price, rate in lines],
                         [(n, sku, qty - (qty / 2).to_integral_value(), price, rate) for n, sku, qty, price, rate in lines]
                         ] if partial else [lines]
            for s, shipped in enumerate(shipments, start=1):
                delivery_no = f"DN2026{k:04d}-{s}"
                delivery_date = order_date + timedelta(days=2 + 6 * (s - 1) + self.rng.randint(0, 3))
                order_ref = order_no if self.rng.random() > 0.1 else ""
                name = self.name_for(customer, "erp")
                for n, sku, qty, _price, _rate in shipped:
                    self.rows["deliveries"].append([delivery_no, delivery_date.isoformat(), order_ref,
                                                    name, str(n), sku, str(qty)])
                if k % 13 == 5 and s == len(shipments):
                    continue  # delivered, not invoiced yet
                self.sales_invoice(customer, order_no, delivery_no, delivery_date + timedelta(days=1), shipped, k)

    def sales_invoice(self, customer: Party, order_no: str, delivery_no: str, day: date,
                      lines: list, k: int) -> None:
        invoice_no = self.next_invoice_no(twenty_digits=customer.currency == "CNY" and k % 3 != 0)
        due = day + timedelta(days=30)
        gross = Decimal(0)
        name = self.name_for(customer, "erp")
        order_ref = order_no if self.rng.random() > 0.15 else ""
        for n, sku, qty, price, rate in lines:
            net = cents(qty * price)
            tax = cents(net * rate) if customer.currency == "CNY" else Decimal("0.00")
            gross += net + tax
            self.rows["sales_invoices"].append([invoice_no, day.isoformat(), due.isoformat(), name,
                                                customer.tax_id, order_ref,
                                                delivery_no, customer.currency, str(n), sku, str(qty),
                                                f"{price:.2f}", str(0 if customer.currency != "CNY" else rate),
                                                f"{net:.2f}", f"{tax:.2f}"])
        self.open_receivables.append((customer, invoice_no, gross, day))

    def receipts(self) -> None:
        by_customer: dict[str, list] = {}
        for item in self.open_receivables:
            by_customer.setdefault(item[0].pid, []).append(item)
        for items in by_customer.values():
            i = 0
            while i < len(items):
                customer, invoice_no, gross, day = items[i]
                pay_day = day + timedelta(days=self.rng.randint(5, 35))
                if pay_day > date(2026, 11, 20):
                    i += 1
                    continue  # still open at the export date
                roll = self.rng.random()
                bank_name = self.name_for(customer, "bank")
                if roll < 0.15 and i + 2 < len(items):  # batch payment of three invoices
                    batch = items[i:i + 3]
                    amount = sum((it[2] for it in batch), Decimal(0))
                    refs = ",".join(it[1] for it in batch) if self.rng.random() < 0.6 else ""
                    self.bank(pay_day, amount, customer.currency, customer, bank_name,
                              f"货款 {refs}".strip() if customer.currency == "CNY" else f"PAYMENT {refs}".strip())
                    i += 3
                    continue
                if roll < 0.25:  # paid in two instalments
                    first = cents(gross * Decimal("0.4"))
                    self.bank(pay_day, first, customer.currency, customer, bank_name, f"预付 {invoice_no} 40%")
                    self.bank(pay_day + timedelta(days=10), gross - first, customer.currency, customer,
                              bank_name, f"尾款 {invoice_no}")
                elif roll < 0.35:  # bank fee deducted by the payer's bank
                    fee = Decimal(self.rng.choice(["15.00", "25.00", "35.50"]))
                    self.bank(pay_day, gross - fee, customer.currency, customer, bank_name,
                              f"INV {invoice_no} less charges" if customer.currency == "USD" else f"发票{invoice_no}")
                elif roll < 0.40:  # reference mistyped (two digits swapped)
                    wrong = invoice_no[:-2] + invoice_no[-1] + invoice_no[-2]
                    self.bank(pay_day, gross, customer.currency, customer, bank_name, f"付货款 发票号{wrong}")
                else:
                    remittance = self.rng.choice([f"货款 {invoice_no}", f"发票号:{invoice_no}", "货款",
                                                  f"Invoice {invoice_no}", "支付货款"])
                    self.bank(pay_day, gross, customer.currency, customer, bank_name, remittance)
                i += 1

    # --- procure to pay --------------------------------------------------------------------
    def purchases(self, suppliers: list[Party], count: int) -> None:
        payables = []
        for k in range(1, count + 1):
            supplier = self.rng.choice(suppliers)
            po_no = f"PO2026{k:04d}"
            po_date = START + timedelta(days=self.rng.randint(0, 35))
            lines = self.order_lines()
            name, project = self.name_for(supplier, "erp"), self.rng.choice(PROJECTS)
            for n, sku, qty, price, rate in lines:
                cost = cents(price * Decimal("0.62"))
                self.rows["purchase_orders"].append([po_no, po_date.isoformat(), name,
                                                     supplier.tax_id, "CNY", str(n), sku, str(qty), f"{cost:.2f}",
                                                     str(rate), project, "采购部"])
            receipt_no = f"GR2026{k:04d}"
            receipt_date = po_date + timedelta(days=self.rng.randint(3, 9))
            received = [(n, sku, qty - (1 if k % 11 == 3 else 0), cents(price * Decimal("0.62")), rate)
                        for n, sku, qty, price, rate in lines]  # k%11==3: short delivery
            po_ref, name = (po_no if self.rng.random() > 0.1 else ""), self.name_for(supplier, "erp")
            for n, sku, qty, _cost, _rate in received:
                self.rows["goods_receipts"].append([receipt_no, receipt_date.isoformat(), po_ref,
                                                    name, str(n), sku, str(qty)])
            if k % 10 == 7:
                continue  # received, not invoiced
            invoice_no = self.next_invoice_no(twenty_digits=k % 2 == 0)
            invoice_date = receipt_date + timedelta(days=self.rng.randint(1, 5))
            gross = Decimal(0)
            name, receipt_ref = self.name_for(supplier, "erp"), (receipt_no if self.rng.random() > 0.2 else "")
            for n, sku, qty, cost, rate in received:
                invoiced_qty = qty + (1 if k % 11 == 3 else 0)  # invoices the ordered quantity
                unit = cost * (Decimal("1.05") if k % 17 == 8 else 1)  # 5 % over the PO price
                unit = cents(unit)
                net = cents(invoiced_qty * unit)
                tax = cents(net * rate)
                gross += net + tax
                self.rows["purchase_invoices"].append([invoice_no, invoice_date.isoformat(),
                                                       (invoice_date + timedelta(days=45)).isoformat(),
                                                       name, supplier.tax_id, po_no, receipt_ref, "CNY",
                                                       str(n), sku, str(invoiced_qty), f"{unit:.2f}", str(rate),
                                                       f"{net:.2f}", f"{tax:.2f}"])
            payables.append((supplier, invoice_no, gross, invoice_date, k))
        # a duplicate: the same supplier invoice keyed in again under a mistyped number
        _supplier, dup_no, _gross, _date, _k = payables[3]
        for row in [r for r in self.rows["purchase_invoices"] if r[0] == dup_no]:
            self.rows["purchase_invoices"].append([dup_no[:-1] + str((int(dup_no[-1]) + 1) % 10), *row[1:]])
        for supplier, invoice_no, gross, day, k in payables:
            pay_day = day + timedelta(days=self.rng.randint(10, 40))
            if pay_day > date(2026, 11, 20):
                continue
            account = None if k % 19 != 4 else "6228" + "0" * 15  # paid to an account not on file
            self.bank(pay_day, -gross, "CNY", supplier, self.name_for(supplier, "bank"),
                      f"付{invoice_no}货款", account_override=account)

    def noise(self) -> None:
        """Bank lines that settle no document: fees, interest, a stranger's transfer."""
        for m, day in enumerate((date(2026, 10, 21), date(2026, 11, 20)), start=10):
            self.bank(day, Decimal("-28.00"), "CNY", None, "中国工商银行", f"{m}月账户管理费")
            self.bank(day, Decimal("12.47"), "CNY", None, "中国工商银行", "结息")
        self.bank(date(2026, 11, 6), Decimal("8800.00"), "CNY", None, "南京紫金山贸易有限公司", "往来款")

    # --- output ----------------------------------------------------------------------------
    def run(self, out: Path) -> dict[str, int]:
        self.open_receivables: list = []
        customers, suppliers = self.make_parties()
        self.sales(customers, 70)
        self.receipts()
        self.purchases(suppliers, 45)
        self.noise()
        out.mkdir(parents=True, exist_ok=True)
        (out / "bank").mkdir(exist_ok=True)
        headers = {
            "sales_orders": "order_no,order_date,customer,customer_tax_id,currency,line_no,sku,quantity,unit_price,tax_rate,project,department",
            "deliveries": "delivery_no,delivery_date,order_ref,customer,line_no,sku,quantity",
            "sales_invoices": "invoice_no,invoice_date,due_date,customer,customer_tax_id,order_ref,delivery_ref,currency,line_no,sku,quantity,unit_price,tax_rate,net_amount,tax_amount",
            "purchase_orders": "po_no,po_date,supplier,supplier_tax_id,currency,line_no,sku,quantity,unit_price,tax_rate,project,department",
            "goods_receipts": "receipt_no,receipt_date,po_ref,supplier,line_no,sku,quantity",
            "purchase_invoices": "invoice_no,invoice_date,due_date,supplier,supplier_tax_id,po_ref,receipt_ref,currency,line_no,sku,quantity,unit_price,tax_rate,net_amount,tax_amount",
        }
        for name, header in headers.items():
            write_csv(out / f"{name}.csv", header.split(","), self.rows[name])
        write_csv(out / "counterparties.csv", ["counterparty_id", "role", "name", "tax_id", "bank_account", "aliases"],
                  [[p.pid, p.role, p.legal, p.tax_id, p.account, "|".join(p.aliases)] for p in self.parties])
        bank_header = ["account_no", "txn_id", "booking_date", "value_date", "amount", "currency",
                       "counterparty", "counterparty_account", "remittance"]
        rows = sorted(self.bank_rows, key=lambda r: (r[0], r[2], r[1]))
        cny = [r for r in rows if r[5] == "CNY"]
        october = [r for r in cny if r[2] <= "2026-10-31"]
        november = [r for r in cny if r[2] >= "2026-10-29"]  # overlaps October's last days
        write_csv(out / "bank" / "icbc_cny_2026-10.csv", bank_header, october)
        write_csv(out / "bank" / "icbc_cny_2026-11.csv", bank_header, november)
        write_csv(out / "bank" / "icbc_usd_2026.csv", bank_header, [r for r in rows if r[5] == "USD"])
        return {name: len({r[0] for r in rows_}) for name, rows_ in self.rows.items()} | {
            "bank_txn": len(self.bank_rows), "counterparty": len(self.parties)}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("config/example/dropfolder"))
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    counts = Generator(args.seed).run(args.out)
    for name, count in counts.items():
        print(f"{name:18} {count}")


if __name__ == "__main__":
    main()
