from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from ledger.counterparties import Counterparty, Role, validate_uscc
from ledger.documents import (
    BankTransaction,
    Delivery,
    InvoiceLine,
    OrderLine,
    PurchaseInvoice,
    SalesOrder,
    ShipmentLine,
)
from ledger.errors import FieldError
from ledger.money import Money

VALID_USCC = "914403001922038216"


def order_line(**changes) -> OrderLine:
    values = {"line_no": 1, "sku": "A", "quantity": Decimal(3), "unit_price": Decimal("9.99"),
              "tax_rate": Decimal("0.13")} | changes
    return OrderLine(**values)


def invoice(**changes) -> PurchaseInvoice:
    line = InvoiceLine(line_no=1, sku="A", quantity=Decimal(2), unit_price=Decimal("10.00"),
                       tax_rate=Decimal("0.13"), net_amount=Decimal("20.00"), tax_amount=Decimal("2.60"))
    values = {"number": "44001234", "date": date(2026, 11, 1), "due_date": date(2026, 12, 1),
              "counterparty": "立讯精密", "currency": "CNY", "lines": (line,)} | changes
    return PurchaseInvoice(**values)


def test_totals_are_money_in_the_document_currency() -> None:
    doc = invoice()
    assert (doc.net_total, doc.tax_total, doc.gross_total) == (
        Money.parse("20.00", "CNY"), Money.parse("2.60", "CNY"), Money.parse("22.60", "CNY"))
    order = SalesOrder(number="SO-1", date=date(2026, 11, 1), counterparty="x", currency="CNY",
                       lines=(order_line(), order_line(line_no=2, quantity=Decimal("0.5"))))
    assert order.net_total == Money.parse("34.97", "CNY")  # 29.97 + 4.995 → 34.965 → half up


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"number": ""}, "number", "non-empty"),
    ({"number": " 44001234"}, "number", "spaces"),
    ({"date": datetime(2026, 11, 1)}, "date", "a date"),
    ({"due_date": date(2026, 10, 1)}, "due_date", "on or after"),
    ({"currency": "RMB"}, "currency", "ISO 4217"),
    ({"lines": ()}, "lines", "non-empty"),
    ({"counterparty_tax_id": "914403001922038217"}, "counterparty_tax_id", "check digit"),
    ({"counterparty_tax_id": "12345678901234567X"}, "counterparty_tax_id", "统一社会信用代码"),
])
def test_invalid_documents_name_the_field(changes, field, expected) -> None:
    with pytest.raises(FieldError) as caught:
        invoice(**changes)
    assert caught.value.field == field
    assert expected in str(caught.value)


def test_invoice_amounts_must_fit_the_currency() -> None:
    line = InvoiceLine(line_no=1, sku="A", quantity=Decimal(1), unit_price=Decimal("1"),
                       tax_rate=Decimal(0), net_amount=Decimal("1.005"), tax_amount=Decimal(0))
    with pytest.raises(FieldError, match="at most 2 decimals for CNY"):
        invoice(lines=(line,))
    jpy_line = InvoiceLine(line_no=1, sku="A", quantity=Decimal(1), unit_price=Decimal("100"),
                           tax_rate=Decimal(0), net_amount=Decimal("100.5"), tax_amount=Decimal(0))
    with pytest.raises(FieldError, match="at most 0 decimals for JPY"):
        invoice(currency="JPY", lines=(jpy_line,))


@pytest.mark.parametrize(("changes", "field"), [
    ({"line_no": 0}, "line_no"), ({"quantity": Decimal(0)}, "quantity"),
    ({"unit_price": Decimal(-1)}, "unit_price"), ({"tax_rate": Decimal(13)}, "tax_rate"),
    ({"quantity": Decimal("NaN")}, "quantity"),
])
def test_invalid_lines_name_the_field(changes, field) -> None:
    with pytest.raises(FieldError) as caught:
        order_line(**changes)
    assert caught.value.field == field


def test_line_numbers_are_unique_per_document() -> None:
    with pytest.raises(FieldError, match="each line number once"):
        Delivery(number="DN-1", date=date(2026, 11, 1), counterparty="x",
                 lines=(ShipmentLine(line_no=1, sku="A", quantity=Decimal(1)),
                        ShipmentLine(line_no=1, sku="B", quantity=Decimal(1))))


def test_documents_are_frozen() -> None:
    doc = invoice()
    with pytest.raises(AttributeError):
        doc.number = "x"  # type: ignore[misc]


def test_bank_transaction_identity_and_checks() -> None:
    txn = BankTransaction(account_no="3105", txn_id="T1", booking_date=date(2026, 11, 2),
                          value_date=date(2026, 11, 2), amount=Money.parse("-12.50", "CNY"))
    assert txn.number == "3105:T1"
    with pytest.raises(FieldError, match="non-zero"):
        BankTransaction(account_no="3105", txn_id="T1", booking_date=date(2026, 11, 2),
                        value_date=date(2026, 11, 2), amount=Money.parse("0", "CNY"))
    with pytest.raises(FieldError, match="decimals"):
        BankTransaction(account_no="3105", txn_id="T1", booking_date=date(2026, 11, 2),
                        value_date=date(2026, 11, 2), amount=Money.parse("1.001", "CNY"))


def test_bank_transaction_from_checked_fields_equals_the_constructed_one() -> None:
    fields = ("NL91", "B7", date(2026, 11, 2), date(2026, 11, 3), Money.parse("-12.50", "EUR"),
              "ACME", "DE02", "fee")
    built = BankTransaction(account_no="NL91", txn_id="B7", booking_date=date(2026, 11, 2),
                            value_date=date(2026, 11, 3), amount=Money.parse("-12.50", "EUR"),
                            counterparty="ACME", counterparty_account="DE02", remittance="fee")
    checked = BankTransaction.from_checked(*fields)
    assert type(checked) is BankTransaction
    assert checked == built and hash(checked) == hash(built) and repr(checked) == repr(built)
    with pytest.raises(AttributeError):
        checked.txn_id = "x"  # type: ignore[misc]


def test_counterparty_tax_id_is_checked_for_chinese_parties_only() -> None:
    party = Counterparty(counterparty_id="C1", role=Role.CUSTOMER, name="华为",
                         tax_id="9144 0300 1922 0382 16", aliases=("华为技术", " ", "华为"))
    assert party.tax_id == VALID_USCC
    assert party.names == ("华为", "华为技术")
    with pytest.raises(FieldError, match="check digit"):
        Counterparty(counterparty_id="C1", role=Role.CUSTOMER, name="华为", tax_id=VALID_USCC[:-1] + "7")
    foreign = Counterparty(counterparty_id="C2", role=Role.SUPPLIER, name="Northwind GmbH",
                           country="DE", tax_id="DE123456789")
    assert foreign.tax_id == "DE123456789"
    assert Role.BOTH.covers(Role.CUSTOMER) and not Role.SUPPLIER.covers(Role.CUSTOMER)


def test_uscc_validation_says_what_is_wrong() -> None:
    with pytest.raises(FieldError, match="18 characters"):
        validate_uscc("9144")
    assert validate_uscc(VALID_USCC) == VALID_USCC
