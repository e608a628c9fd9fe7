"""Small builders so that each scenario reads as a table of documents in, links and exceptions out."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from ledger.counterparties import Counterparty, Role
from ledger.documents import (
    BankTransaction,
    InvoiceLine,
    OrderLine,
    PurchaseInvoice,
    SalesInvoice,
    ShipmentLine,
)
from ledger.money import Money
from ledger.settings import Tolerances
from matching.engine import MatchOutput, run_matching
from matching.rules import load_rules

DAY = date(2026, 11, 2)
HAIER = Counterparty(counterparty_id="C1", role=Role.CUSTOMER, name="青岛海尔智家股份有限公司", aliases=("海尔智家",),
                     bank_accounts=("6222000011112222",))
HIK = Counterparty(counterparty_id="C2", role=Role.CUSTOMER, name="杭州海康威视数字技术股份有限公司")
LUX = Counterparty(counterparty_id="S1", role=Role.SUPPLIER, name="东莞市立讯精密工业有限公司",
                   bank_accounts=("6222999988887777",))
PARTIES = [HAIER, HIK, LUX]


def lines(*items: tuple[str, int, str], rate: str = "0.13") -> tuple[InvoiceLine, ...]:
    result = []
    for n, (sku, qty, price) in enumerate(items, start=1):
        net = (Decimal(qty) * Decimal(price)).quantize(Decimal("0.01"))
        result.append(InvoiceLine(line_no=n, sku=sku, quantity=Decimal(qty), unit_price=Decimal(price),
                                  tax_rate=Decimal(rate), net_amount=net,
                                  tax_amount=(net * Decimal(rate)).quantize(Decimal("0.01"))))
    return tuple(result)


def sales_invoice(number: str, *items, party: Counterparty = HAIER, days: int = 0, due: int = 30, **refs):
    return SalesInvoice(number=number, date=DAY + timedelta(days), due_date=DAY + timedelta(days + due),
                        counterparty=party.name, currency="CNY", lines=lines(*items), **refs)


def purchase_invoice(number: str, *items, party: Counterparty = LUX, days: int = 0, **refs):
    return PurchaseInvoice(number=number, date=DAY + timedelta(days), due_date=DAY + timedelta(days + 45),
                           counterparty=party.name, currency="CNY", lines=lines(*items), **refs)


def order(cls, number: str, *items, party: Counterparty = HAIER, days: int = 0):
    return cls(number=number, date=DAY + timedelta(days), counterparty=party.name, currency="CNY",
               lines=tuple(OrderLine(line_no=n, sku=sku, quantity=Decimal(qty), unit_price=Decimal(price),
                                     tax_rate=Decimal("0.13")) for n, (sku, qty, price) in enumerate(items, 1)))


def shipment(cls, number: str, *items, party: Counterparty = HAIER, days: int = 1, order_ref: str = ""):
    return cls(number=number, date=DAY + timedelta(days), counterparty=party.name, order_ref=order_ref,
               lines=tuple(ShipmentLine(line_no=n, sku=sku, quantity=Decimal(qty))
                           for n, (sku, qty) in enumerate(items, 1)))


def txn(txn_id: str, amount: str, counterparty: str = "海尔智家", remittance: str = "", days: int = 5,
        account: str = "") -> BankTransaction:
    return BankTransaction(account_no="3105", txn_id=txn_id, booking_date=DAY + timedelta(days),
                           value_date=DAY + timedelta(days), amount=Money.parse(amount, "CNY"),
                           counterparty=counterparty, counterparty_account=account, remittance=remittance)


def run(documents=(), transactions=(), as_of: date = DAY + timedelta(20), **tolerances) -> MatchOutput:
    return run_matching(list(documents), list(transactions), PARTIES, as_of, load_rules(), Tolerances(**tolerances))


def links(output: MatchOutput) -> set[tuple]:
    return {(link.from_no, link.to_no.removeprefix("3105:"), link.decision.value,
             format(link.amount.amount, "f") if link.amount else None) for link in output.links}


def codes(output: MatchOutput) -> dict[str, set[tuple[str, ...]]]:
    found: dict[str, set[tuple[str, ...]]] = {}
    for item in output.exceptions:
        found.setdefault(item.code.value, set()).add(tuple(sorted(d.doc_no.removeprefix("3105:")
                                                                  for d in item.documents)))
    return found


