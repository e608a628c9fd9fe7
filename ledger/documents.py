"""The seven canonical document kinds of spec/interchange-v1.md, as frozen records.

Orders, shipments (deliveries and goods receipts) and invoices each come in a sales and a
purchase flavour sharing one shape; ``counterparty`` is the customer or the supplier as the
source wrote it. Amounts are Decimals at the currency's minor unit; ``*_total`` give Money.

    >>> order = SalesOrder(number="SO-1", date=date(2026, 11, 2), counterparty="华为技术有限公司",
    ...     currency="CNY", lines=(OrderLine(line_no=1, sku="A", quantity=Decimal(2),
    ...     unit_price=Decimal("10.50"), tax_rate=Decimal("0.13")),))
    >>> order.net_total
    Money('21.00', 'CNY')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import ClassVar

from ledger.counterparties import normalise_tax_id
from ledger.errors import FieldError
from ledger.money import Money, MoneyError, minor_units, total


class DocumentKind(StrEnum):
    SALES_ORDER = "sales_order"
    DELIVERY = "delivery"
    SALES_INVOICE = "sales_invoice"
    PURCHASE_ORDER = "purchase_order"
    GOODS_RECEIPT = "goods_receipt"
    PURCHASE_INVOICE = "purchase_invoice"
    BANK_TXN = "bank_txn"


# --- field checks ---------------------------------------------------------------------------
def _text(name: str, value: object, *, required: bool = True) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        raise FieldError(name, value, "non-empty text" if required else "text")


def _date(name: str, value: object) -> None:
    if not isinstance(value, date) or isinstance(value, dt.datetime):
        raise FieldError(name, value, "a date (YYYY-MM-DD)")


def _decimal(name: str, value: object) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise FieldError(name, value, "a finite Decimal")
    return value


def _amount(name: str, value: object, currency: str) -> None:
    amount = _decimal(name, value)
    if amount != amount.quantize(Decimal(1).scaleb(-minor_units(currency))):
        raise FieldError(name, value, f"at most {minor_units(currency)} decimals for {currency}")


def _currency(value: object) -> None:
    try:
        minor_units(value)  # type: ignore[arg-type]
    except MoneyError:
        raise FieldError("currency", value, "an ISO 4217 code such as CNY") from None


def _lines(lines: object) -> None:
    if not isinstance(lines, tuple) or not lines:
        raise FieldError("lines", lines, "a non-empty tuple of lines")
    numbers = [line.line_no for line in lines]
    if len(set(numbers)) != len(numbers):
        raise FieldError("line_no", numbers, "each line number once per document")


# --- lines ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentLine:
    line_no: int
    sku: str
    quantity: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.line_no, int) or self.line_no < 1:
            raise FieldError("line_no", self.line_no, "a positive integer")
        _text("sku", self.sku, required=False)
        if _decimal("quantity", self.quantity) <= 0:
            raise FieldError("quantity", self.quantity, "a positive quantity")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine(ShipmentLine):
    unit_price: Decimal
    tax_rate: Decimal

    def __post_init__(self) -> None:
        ShipmentLine.__post_init__(self)
        if _decimal("unit_price", self.unit_price) < 0:
            raise FieldError("unit_price", self.unit_price, "a non-negative price (excluding VAT)")
        if not Decimal(0) <= _decimal("tax_rate", self.tax_rate) < 1:
            raise FieldError("tax_rate", self.tax_rate, "a fraction such as 0.13")

    @property
    def net_amount(self) -> Decimal:
        """quantity × unit price, unrounded; the document rounds at the currency's unit."""
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceLine:
    line_no: int
    sku: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.line_no, int) or self.line_no < 1:
            raise FieldError("line_no", self.line_no, "a positive integer")
        _text("sku", self.sku, required=False)
        _decimal("quantity", self.quantity)
        if _decimal("unit_price", self.unit_price) < 0:
            raise FieldError("unit_price", self.unit_price, "a non-negative price (excluding VAT)")
        if not Decimal(0) <= _decimal("tax_rate", self.tax_rate) < 1:
            raise FieldError("tax_rate", self.tax_rate, "a fraction such as 0.13")
        _decimal("net_amount", self.net_amount)
        _decimal("tax_amount", self.tax_amount)

    @property
    def gross_amount(self) -> Decimal:
        return self.net_amount + self.tax_amount


# --- documents ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    kind: ClassVar[DocumentKind]
    number: str
    date: date
    counterparty: str

    def __post_init__(self) -> None:
        _text("number", self.number)
        if self.number != self.number.strip():
            raise FieldError("number", self.number, "no leading or trailing spaces")
        _date("date", self.date)
        _text("counterparty", self.counterparty)

    @property
    def key(self) -> tuple[DocumentKind, str]:
        """Identity within a company: (kind, number), as the spec says."""
        return (self.kind, self.number)


@dataclass(frozen=True, slots=True, kw_only=True)
class Order(Document):
    currency: str
    lines: tuple[OrderLine, ...]
    counterparty_tax_id: str | None = None
    project: str = ""
    department: str = ""

    def __post_init__(self) -> None:
        Document.__post_init__(self)
        _currency(self.currency)
        _lines(self.lines)
        object.__setattr__(self, "counterparty_tax_id",
                           normalise_tax_id(self.counterparty_tax_id, "counterparty_tax_id", None))

    @property
    def net_total(self) -> Money:
        return Money(sum((line.net_amount for line in self.lines), Decimal(0)), self.currency).quantize()


@dataclass(frozen=True, slots=True, kw_only=True)
class SalesOrder(Order):
    kind: ClassVar[DocumentKind] = DocumentKind.SALES_ORDER


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseOrder(Order):
    kind: ClassVar[DocumentKind] = DocumentKind.PURCHASE_ORDER


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipment(Document):
    lines: tuple[ShipmentLine, ...]
    order_ref: str = ""

    def __post_init__(self) -> None:
        Document.__post_init__(self)
        _text("order_ref", self.order_ref, required=False)
        _lines(self.lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery(Shipment):
    kind: ClassVar[DocumentKind] = DocumentKind.DELIVERY


@dataclass(frozen=True, slots=True, kw_only=True)
class GoodsReceipt(Shipment):
    kind: ClassVar[DocumentKind] = DocumentKind.GOODS_RECEIPT


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice(Document):
    due_date: date
    currency: str
    lines: tuple[InvoiceLine, ...]
    counterparty_tax_id: str | None = None
    order_ref: str = ""
    shipment_ref: str = ""

    def __post_init__(self) -> None:
        Document.__post_init__(self)
        _date("due_date", self.due_date)
        if self.due_date < self.date:
            raise FieldError("due_date", self.due_date.isoformat(),
                             f"on or after the invoice date {self.date.isoformat()}")
        _currency(self.currency)
        _lines(self.lines)
        for line in self.lines:
            _amount("net_amount", line.net_amount, self.currency)
            _amount("tax_amount", line.tax_amount, self.currency)
        _text("order_ref", self.order_ref, required=False)
        _text("shipment_ref", self.shipment_ref, required=False)
        object.__setattr__(self, "counterparty_tax_id",
                           normalise_tax_id(self.counterparty_tax_id, "counterparty_tax_id", None))

    @property
    def net_total(self) -> Money:
        return total((Money(line.net_amount, self.currency) for line in self.lines), self.currency)

    @property
    def tax_total(self) -> Money:
        return total((Money(line.tax_amount, self.currency) for line in self.lines), self.currency)

    @property
    def gross_total(self) -> Money:
        return self.net_total + self.tax_total


@dataclass(frozen=True, slots=True, kw_only=True)
class SalesInvoice(Invoice):
    kind: ClassVar[DocumentKind] = DocumentKind.SALES_INVOICE


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseInvoice(Invoice):
    kind: ClassVar[DocumentKind] = DocumentKind.PURCHASE_INVOICE


@dataclass(frozen=True, slots=True, kw_only=True)
class BankTransaction:
    """One line of a bank statement. ``amount`` is signed: positive is money in."""

    kind: ClassVar[DocumentKind] = DocumentKind.BANK_TXN
    account_no: str
    txn_id: str
    booking_date: date
    value_date: date
    amount: Money
    counterparty: str = ""
    counterparty_account: str = ""
    remittance: str = ""

    def __post_init__(self) -> None:
        # Statements run to millions of rows: the common, valid case is checked in few steps.
        _text("account_no", self.account_no)
        _text("txn_id", self.txn_id)
        if ":" in self.account_no:
            raise FieldError("account_no", self.account_no, "no ':' (it separates account and txn id)")
        _date("booking_date", self.booking_date)
        _date("value_date", self.value_date)
        amount = self.amount
        if type(amount) is not Money:
            raise FieldError("amount", amount, "Money")
        try:
            exact = amount.amount.quantize(amount.exponent) == amount.amount
        except InvalidOperation:  # more digits than Decimal's precision: no real amount
            raise FieldError("amount", str(amount.amount), "at most 28 digits") from None
        if not exact:
            raise FieldError("amount", str(amount.amount),
                             f"at most {minor_units(amount.currency)} decimals for {amount.currency}")
        if not amount.amount:
            raise FieldError("amount", "0", "a non-zero amount (positive in, negative out)")
        if not (type(self.counterparty) is str and type(self.counterparty_account) is str
                and type(self.remittance) is str):
            for name in ("counterparty", "counterparty_account", "remittance"):
                _text(name, getattr(self, name), required=False)

    @classmethod
    def from_checked(cls, account_no: str, txn_id: str, booking_date: date, value_date: date,
                     amount: Money, counterparty: str, counterparty_account: str,
                     remittance: str) -> BankTransaction:
        """The transaction of fields its caller has already checked, without checking again.

        For statement parsers, which read millions of lines and know most of these facts
        once per statement or from their own grammar; the caller guarantees what
        ``__post_init__`` checks: ``account_no`` and ``txn_id`` non-empty ``str``s, no ':' in
        the account, ``date``s (not datetimes), a non-zero ``Money`` with at most its
        currency's decimals, ``str`` texts. Anything it cannot vouch for goes through the
        constructor, which raises the ``FieldError``.
        """
        txn = _new(cls)
        _SET_ACCOUNT(txn, account_no)
        _SET_ID(txn, txn_id)
        _SET_BOOKING(txn, booking_date)
        _SET_VALUE(txn, value_date)
        _SET_AMOUNT(txn, amount)
        _SET_COUNTERPARTY(txn, counterparty)
        _SET_COUNTERPARTY_ACCOUNT(txn, counterparty_account)
        _SET_REMITTANCE(txn, remittance)
        return txn

    @property
    def number(self) -> str:
        """The spec's document number for a bank transaction: ``account_no:txn_id``."""
        return f"{self.account_no}:{self.txn_id}"

    @property
    def date(self) -> date:
        return self.booking_date

    @property
    def key(self) -> tuple[DocumentKind, str]:
        return (self.kind, self.number)


# The slots' own setters: a frozen dataclass refuses ``setattr``, these write the slot directly.
_new = object.__new__
(_SET_ACCOUNT, _SET_ID, _SET_BOOKING, _SET_VALUE, _SET_AMOUNT, _SET_COUNTERPARTY,
 _SET_COUNTERPARTY_ACCOUNT, _SET_REMITTANCE) = (
    BankTransaction.__dict__[name].__set__ for name in (
        "account_no", "txn_id", "booking_date", "value_date", "amount", "counterparty",
        "counterparty_account", "remittance"))

BusinessDocument = SalesOrder | PurchaseOrder | Delivery | GoodsReceipt | SalesInvoice | PurchaseInvoice
AnyDocument = BusinessDocument | BankTransaction

DOCUMENT_CLASSES: dict[DocumentKind, type] = {
    cls.kind: cls for cls in (SalesOrder, Delivery, SalesInvoice, PurchaseOrder, GoodsReceipt,
                              PurchaseInvoice, BankTransaction)
}
