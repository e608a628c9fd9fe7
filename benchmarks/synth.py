"""Synthetic companies in the drop-folder format, with the ground truth to score a matcher.

    python -m benchmarks.synth --chains 1000 --profile standard --out /tmp/synth

writes the drop folder and ``truth.json``: every true adjacent link and every exception the
data was built to contain (code, document). Noise knobs per profile: name variants,
missing and wrong references, typos in remittance references, batch payments with and
without references, bank fees, partial, short and over-payments, duplicate payments and
invoices, timing, unrelated transactions.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from benchmarks.uscc import make_uscc

CENT = Decimal("0.01")
START = date(2026, 6, 1)
ACCOUNT = "31050161373600001234"


@dataclass(frozen=True)
class Profile:
    variant_name: float        # a document or bank line uses a name variant instead of the legal name
    drop_ref: float            # order_ref / delivery_ref / receipt_ref left empty
    remit_ref: float           # the remittance names the invoice(s)
    typo_ref: float            # … with two adjacent digits swapped
    batch: float               # one payment settles 2-3 invoices of a party
    fee: float                 # the payer's bank deducts a fee within tolerance
    partial: float             # paid in two instalments
    short: float               # paid short by 2-8 %
    over: float                # overpaid by 5-50
    duplicate_payment: float
    duplicate_invoice: float
    qty_mismatch: float
    price_mismatch: float
    unrelated: float           # unrelated bank lines per chain
    unpaid: float


PROFILES = {
    "clean": Profile(0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1),
    "standard": Profile(0.35, 0.15, 0.65, 0.05, 0.08, 0.06, 0.05, 0.015, 0.015, 0.01, 0.01, 0.02, 0.02, 0.03, 0.15),
    "hard": Profile(0.6, 0.35, 0.4, 0.12, 0.15, 0.1, 0.08, 0.03, 0.03, 0.02, 0.02, 0.04, 0.04, 0.08, 0.2),
}

STEMS = ["海尔智家", "京东世纪贸易", "海康威视数字技术", "联影医疗科技", "汇川技术", "京东方光电科技", "长江存储科技",
         "舜宇光学科技", "立讯精密工业", "宏发电声", "先导智能装备", "中环半导体", "视源电子科技", "蓝思科技", "歌尔声学",
         "比亚迪电子", "宁德时代新能源", "隆基绿能科技", "三一重工", "潍柴动力", "恒瑞医药", "迈瑞医疗电子", "大华技术",
         "科大讯飞", "用友网络科技", "金蝶软件", "顺丰速运", "美的集团", "格力电器", "TCL科技"]
CITIES = ["青岛", "北京", "杭州", "上海", "苏州", "成都", "武汉", "宁波", "东莞", "厦门", "无锡", "天津", "广州", "深圳"]
FORMS = ["股份有限公司", "有限公司", "有限责任公司"]
TRAD = str.maketrans("东华门电发术机开业国际贸汇长视时宁泽恒讯龙", "東華門電發術機開業國際貿匯長視時寧澤恆訊龍")


@dataclass
class Party:
    pid: str
    role: str
    legal: str
    short: str
    tax_id: str
    account: str

    def variants(self) -> list[str]:
        city = next((c for c in CITIES if self.legal.startswith(c)), "")
        core = self.legal.removeprefix(city)
        return [self.short, core, self.legal.translate(TRAD), f"{self.legal}({city}分公司)", self.legal[:-1],
                self.legal[:35]]


@dataclass
class Truth:
    links: set[tuple[str, str, str, str]] = field(default_factory=set)
    exceptions: set[tuple[str, str, str]] = field(default_factory=set)   # (code, doc_type, doc_no)
    settled: dict[str, set[str]] = field(default_factory=dict)           # bank txn → invoices it fully settles


class _Discard(list):
    """Rows of a file the caller does not want (the scale benchmark keeps only invoices and bank lines)."""

    def append(self, row) -> None:
        pass


FILES = ("sales_orders", "deliveries", "sales_invoices", "purchase_orders", "goods_receipts", "purchase_invoices",
         "bank")


class Synth:
    def __init__(self, chains: int, profile: Profile, seed: int, files: tuple[str, ...] = FILES) -> None:
        self.n, self.p, self.rng = chains, profile, random.Random(seed)
        self.rows: dict[str, list[list[str]]] = {k: [] if k in files else _Discard() for k in FILES}
        self.truth = Truth()
        self.seq = 0
        parties = max(12, chains // 25)
        self.customers = [self._party(f"C{i:05d}", "customer", i) for i in range(parties)]
        self.suppliers = [self._party(f"S{i:05d}", "supplier", parties + i) for i in range(max(6, parties // 2))]
        self.as_of = START + timedelta(days=150)

    def _party(self, pid: str, role: str, i: int) -> Party:
        stem = STEMS[i % len(STEMS)] + ("" if i < len(STEMS) else f"{i // len(STEMS)}号")
        city = CITIES[i % len(CITIES)]
        return Party(pid, role, f"{city}{stem}{FORMS[i % 3]}", stem, make_uscc(self.rng),
                     "6222" + "".join(self.rng.choice("0123456789") for _ in range(15)))

    def name(self, party: Party) -> str:
        return self.rng.choice(party.variants()) if self.rng.random() < self.p.variant_name else party.legal

    def ref(self, value: str) -> str:
        return "" if self.rng.random() < self.p.drop_ref else value

    def number(self) -> str:
        self.seq += 1
        return f"{26310000000000000000 + self.seq * 7}" if self.rng.random() < 0.6 else f"{40000000 + self.seq * 7}"

    def txn(self, day: date, amount: Decimal, party: Party | None, remittance: str, name: str | None = None,
            account: str | None = None) -> str:
        self.seq += 1
        txn_id = f"T{self.seq:08d}"
        self.rows["bank"].append([ACCOUNT, txn_id, day.isoformat(), day.isoformat(), f"{amount:.2f}", "CNY",
                                  name if name is not None else (self.name(party) if party else ""),
                                  account if account is not None else (party.account if party else ""), remittance])
        return f"{ACCOUNT}:{txn_id}"

    def remittance(self, numbers: list[str], word: str) -> str:
        if self.rng.random() >= self.p.remit_ref:
            return word
        shown = []
        for n in numbers:
            if self.rng.random() < self.p.typo_ref:
                i = self.rng.randrange(len(n) - 1)
                while n[i] == n[i + 1]:
                    i = (i + 1) % (len(n) - 1)
                n = n[:i] + n[i + 1] + n[i] + n[i + 2:]
            shown.append(n)
        return f"{word} {','.join(shown)}"

    # --- one chain -------------------------------------------------------------------------
    def chain(self, k: int, sales: bool) -> tuple[Party, str, Decimal, date, date] | None:
        party = self.rng.choice(self.customers if sales else self.suppliers)
        kinds = ("sales_order", "delivery", "sales_invoice") if sales else ("purchase_order", "goods_receipt",
                                                                          "purchase_invoice")
        files = ("sales_orders", "deliveries", "sales_invoices") if sales else ("purchase_orders", "goods_receipts",
                                                                               "purchase_invoices")
        prefix = ("SO", "DN") if sales else ("PO", "GR")
        order_no, day = f"{prefix[0]}{k:07d}", START + timedelta(days=self.rng.randint(0, 100))
        skus = self.rng.sample(range(1, 60), self.rng.randint(1, 3))
        lines = [(f"SKU-{s:03d}", Decimal(self.rng.choice([1, 2, 5, 10, 12, 20, 50])),
                  Decimal(self.rng.randint(500, 900000)) / 100) for s in skus]
        order_name = self.name(party)
        for n, (sku, qty, price) in enumerate(lines, 1):
            self.rows[files[0]].append([order_no, day.isoformat(), order_name, party.tax_id, "CNY", str(n), sku,
                                        str(qty), f"{price:.2f}", "0.13", "", ""])
        ship_no, ship_day = f"{prefix[1]}{k:07d}", day + timedelta(days=self.rng.randint(1, 6))
        short_qty = not sales and self.rng.random() < self.p.qty_mismatch
        shipped = [(sku, qty - (1 if short_qty and qty > 1 else 0), price) for sku, qty, price in lines]
        short_qty = short_qty and shipped != lines
        ship_name, ship_order_ref = self.name(party), self.ref(order_no)
        for n, (sku, qty, _price) in enumerate(shipped, 1):
            self.rows[files[1]].append([ship_no, ship_day.isoformat(), ship_order_ref, ship_name, str(n), sku,
                                        str(qty)])
        self.truth.links.add((kinds[0], order_no, kinds[1], ship_no))
        if self.rng.random() < 0.04:   # delivered or received, never invoiced
            if (self.as_of - ship_day).days > 30:
                code = "DELIVERED_NOT_INVOICED" if sales else "RECEIVED_NOT_INVOICED"
                self.truth.exceptions.add((code, kinds[1], ship_no))
            return None
        invoice_no, invoice_day = self.number(), ship_day + timedelta(days=self.rng.randint(0, 4))
        over_price = not sales and self.rng.random() < self.p.price_mismatch
        gross = Decimal(0)
        invoice_name = self.name(party)
        order_ref, ship_ref = self.ref(order_no), self.ref(ship_no)
        due = invoice_day + timedelta(days=30)
        invoice_rows = []
        for n, (sku, qty, price) in enumerate(lines, 1):
            unit = (price * Decimal("1.05")).quantize(CENT) if over_price else price
            net = (qty * unit).quantize(CENT, ROUND_HALF_UP)
            tax = (net * Decimal("0.13")).quantize(CENT, ROUND_HALF_UP)
            gross += net + tax
            invoice_rows.append([invoice_no, invoice_day.isoformat(), due.isoformat(), invoice_name, party.tax_id,
                                 order_ref, ship_ref, "CNY", str(n), sku, str(qty), f"{unit:.2f}", "0.13",
                                 f"{net:.2f}", f"{tax:.2f}"])
        for row in invoice_rows:
            self.rows[files[2]].append(row)
        self.truth.links.add((kinds[1], ship_no, kinds[2], invoice_no))
        if short_qty:
            self.truth.exceptions.add(("QUANTITY_MISMATCH", kinds[2], invoice_no))
        if over_price:
            self.truth.exceptions.add(("PRICE_MISMATCH", kinds[2], invoice_no))
        if not sales and self.rng.random() < self.p.duplicate_invoice:
            twin = self.number()
            for row in invoice_rows:
                self.rows[files[2]].append([twin, *row[1:5], "", "", *row[7:]])
            self.truth.exceptions.add(("DUPLICATE_INVOICE", kinds[2], invoice_no))
            self.truth.exceptions.add(("DUPLICATE_INVOICE", kinds[2], twin))
            self.truth.exceptions.add(("INVOICE_WITHOUT_RECEIPT", kinds[2], twin))
            if due < self.as_of:
                self.truth.exceptions.add(("INVOICE_OVERDUE", kinds[2], twin))
        return party, invoice_no, gross, invoice_day, due

    # --- payments --------------------------------------------------------------------------
    def pay(self, invoices: list[tuple[Party, str, Decimal, date, date]], sales: bool) -> None:
        kind = "sales_invoice" if sales else "purchase_invoice"
        sign = 1 if sales else -1
        word = "货款" if sales else "付货款"
        queue = list(invoices)
        self.rng.shuffle(queue)
        # each party's invoices in queue order, so a batch finds its siblings without a scan
        pending: dict[str, deque] = {}
        for invoice in queue:
            pending.setdefault(invoice[0].pid, deque()).append(invoice)
        taken: set[str] = set()
        while queue:
            party, number, gross, day, due = queue.pop()
            if number in taken:
                continue
            pending[party.pid].pop()
            pay_day = day + timedelta(days=self.rng.randint(3, 40))
            if self.rng.random() < self.p.unpaid or pay_day > self.as_of:
                if due < self.as_of:
                    self.truth.exceptions.add(("INVOICE_OVERDUE", kind, number))
                continue
            same = pending[party.pid]
            roll = self.rng.random()
            if roll < self.p.batch and same:
                batch = [(party, number, gross, day, due), *list(same)[: self.rng.randint(1, 2)]]
                for item in batch[1:]:
                    same.popleft()
                    taken.add(item[1])
                total = sum(i[2] for i in batch)
                pay_day = max(i[3] for i in batch) + timedelta(days=self.rng.randint(3, 30))
                txn = self.txn(pay_day, sign * total, party, self.remittance([i[1] for i in batch], word))
                self._settle(txn, kind, [i[1] for i in batch])
                continue
            roll -= self.p.batch
            if roll < self.p.partial:
                first = (gross * Decimal("0.4")).quantize(CENT)
                one = self.txn(pay_day, sign * first, party, self.remittance([number], "预付"))
                two = self.txn(pay_day + timedelta(days=7), sign * (gross - first), party,
                               self.remittance([number], "尾款"))
                self.truth.links |= {(kind, number, "bank_txn", one), (kind, number, "bank_txn", two)}
                self.truth.settled[one] = self.truth.settled[two] = {number}
                continue
            roll -= self.p.partial
            amount, remittance = gross, self.remittance([number], word)
            if roll < self.p.fee and sales:
                amount = gross - min(Decimal("50"), (gross * Decimal("0.01")).quantize(CENT, "ROUND_DOWN"),
                                     Decimal(self.rng.choice(["15.00", "25.00", "35.00"])))
            elif roll < self.p.fee + self.p.short:
                amount = (gross * (1 - Decimal(self.rng.randint(2, 8)) / 100)).quantize(CENT)
                remittance = f"{word} {number}"
                self.truth.exceptions.add(("SHORT_PAYMENT", kind, number))
                if due < self.as_of:  # the shortfall stays open past the due date
                    self.truth.exceptions.add(("INVOICE_OVERDUE", kind, number))
            elif roll < self.p.fee + self.p.short + self.p.over:
                amount = gross + Decimal(self.rng.randint(5, 50))
                remittance = f"{word} {number}"
                self.truth.exceptions.add(("OVERPAYMENT", kind, number))
            account = None
            if not sales and self.rng.random() < 0.01:
                account = "6228" + "0" * 15
                self.truth.exceptions.add(("BANK_ACCOUNT_MISMATCH", kind, number))
            txn = self.txn(pay_day, sign * amount, party, remittance, account=account)
            self.truth.links.add((kind, number, "bank_txn", txn))
            if amount <= gross:  # exact, short by a fee, or short: the whole payment is applied
                self.truth.settled[txn] = {number}
            if self.rng.random() < self.p.duplicate_payment:
                again = self.txn(pay_day + timedelta(days=self.rng.randint(1, 9)), sign * gross, party,
                                 f"{word} {number}")
                self.truth.exceptions.add(("DUPLICATE_PAYMENT", kind, number))
                self.truth.exceptions.add(("UNMATCHED_BANK_TXN", "bank_txn", again))

    def _settle(self, txn: str, kind: str, numbers: list[str]) -> None:
        for number in numbers:
            self.truth.links.add((kind, number, "bank_txn", txn))
        self.truth.settled[txn] = set(numbers)

    def unrelated(self) -> None:
        for _ in range(int(self.n * self.p.unrelated)):
            day = START + timedelta(days=self.rng.randint(0, 140))
            txn = self.txn(day, Decimal(self.rng.randint(100, 99999)) / 100 * self.rng.choice([1, -1]), None,
                           self.rng.choice(["往来款", "结息", "账户管理费", "退款"]),
                           name=self.rng.choice(["南京紫金山贸易有限公司", "中国工商银行", "个人转账", ""]), account="")
            self.truth.exceptions.add(("UNMATCHED_BANK_TXN", "bank_txn", txn))
            if self.rows["bank"][-1][6]:
                self.truth.exceptions.add(("UNKNOWN_COUNTERPARTY", "bank_txn", txn))

    def build(self) -> Truth:
        """Every row and the truth, in memory (``run`` writes them out)."""
        for sales in (True, False):
            invoices = [c for k in range(self.n // 2) if (c := self.chain(k + (0 if sales else self.n), sales))]
            self.pay(invoices, sales)
        self.unrelated()
        return self.truth

    def run(self, out: Path) -> Truth:
        self.build()
        out.mkdir(parents=True, exist_ok=True)
        (out / "bank").mkdir(exist_ok=True)
        headers = {
            "sales_orders": "order_no,order_date,customer,customer_tax_id,currency,line_no,sku,quantity,unit_price,"
                            "tax_rate,project,department",
            "deliveries": "delivery_no,delivery_date,order_ref,customer,line_no,sku,quantity",
            "sales_invoices": "invoice_no,invoice_date,due_date,customer,customer_tax_id,order_ref,delivery_ref,"
                              "currency,line_no,sku,quantity,unit_price,tax_rate,net_amount,tax_amount",
            "purchase_orders": "po_no,po_date,supplier,supplier_tax_id,currency,line_no,sku,quantity,unit_price,"
                               "tax_rate,project,department",
            "goods_receipts": "receipt_no,receipt_date,po_ref,supplier,line_no,sku,quantity",
            "purchase_invoices": "invoice_no,invoice_date,due_date,supplier,supplier_tax_id,po_ref,receipt_ref,currency,"
                                 "line_no,sku,quantity,unit_price,tax_rate,net_amount,tax_amount",
            "bank": "account_no,txn_id,booking_date,value_date,amount,currency,counterparty,counterparty_account,"
                    "remittance",
        }
        for name, header in headers.items():
            path = out / "bank" / "statement.csv" if name == "bank" else out / f"{name}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(header.split(","))
                writer.writerows(self.rows[name])
        with (out / "counterparties.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["counterparty_id", "role", "name", "tax_id", "bank_account", "aliases"])
            for p in self.customers + self.suppliers:
                writer.writerow([p.pid, p.role, p.legal, p.tax_id, p.account, p.short])
        return self.truth


def write_truth(path: Path, truth: Truth, as_of: date) -> None:
    path.write_text(json.dumps({"as_of": as_of.isoformat(), "links": sorted(truth.links),
                                "exceptions": sorted(truth.exceptions),
                                "settled": {k: sorted(v) for k, v in sorted(truth.settled.items())}},
                               ensure_ascii=False), encoding="utf-8")


def generate(out: Path, chains: int, profile: str, seed: int = 1) -> Path:
    synth = Synth(chains, PROFILES[profile], seed)
    truth = synth.run(out / "drop")
    write_truth(out / "truth.json", truth, synth.as_of)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=int, default=1000)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="standard")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/synth"))
    args = parser.parse_args()
    generate(args.out, args.chains, args.profile, args.seed)
    print(f"wrote {args.out / 'drop'} and {args.out / 'truth.json'}")


if __name__ == "__main__":
    main()
