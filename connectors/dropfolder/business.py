"""The six business-document files of the drop folder: rows grouped into documents.

One row per document line; header columns repeat on every line and must agree. A bad row
rejects its whole document (a document is never stored with a line missing), reported with
the file, the row and the column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from connectors.dropfolder.csvfile import BAD, Row, parse_date, parse_decimal, parse_int, require
from ledger.documents import (
    Delivery,
    DocumentKind,
    GoodsReceipt,
    InvoiceLine,
    OrderLine,
    PurchaseInvoice,
    PurchaseOrder,
    SalesInvoice,
    SalesOrder,
    ShipmentLine,
)
from ledger.errors import BadInput, FieldError

Cells = dict[str, str]


@dataclass(frozen=True, slots=True)
class FileSchema:
    filename: str
    kind: DocumentKind
    number: str                      # the column holding the document number
    header: tuple[str, ...]          # columns that repeat on every line and must agree
    line: tuple[str, ...]            # columns of one line
    build: Callable[[Cells, list[Cells]], object]
    fields: dict[str, str]           # document field -> column, to name columns in errors

    @property
    def columns(self) -> tuple[str, ...]:
        return self.header + self.line


def _order_line(cells: Cells) -> OrderLine:
    return OrderLine(line_no=parse_int("line_no", cells["line_no"]), sku=cells["sku"],
                     quantity=parse_decimal("quantity", cells["quantity"]),
                     unit_price=parse_decimal("unit_price", cells["unit_price"]),
                     tax_rate=parse_decimal("tax_rate", cells["tax_rate"]))


def _shipment_line(cells: Cells) -> ShipmentLine:
    return ShipmentLine(line_no=parse_int("line_no", cells["line_no"]), sku=cells["sku"],
                        quantity=parse_decimal("quantity", cells["quantity"]))


def _invoice_line(cells: Cells) -> InvoiceLine:
    return InvoiceLine(line_no=parse_int("line_no", cells["line_no"]), sku=cells["sku"],
                       quantity=parse_decimal("quantity", cells["quantity"]),
                       unit_price=parse_decimal("unit_price", cells["unit_price"]),
                       tax_rate=parse_decimal("tax_rate", cells["tax_rate"]),
                       net_amount=parse_decimal("net_amount", cells["net_amount"]),
                       tax_amount=parse_decimal("tax_amount", cells["tax_amount"]))


def _order(cls: type, number: str, date: str, party: str) -> Callable[[Cells, list[Cells]], object]:
    def build(head: Cells, lines: list[Cells]) -> object:
        return cls(number=require(number, head[number]), date=parse_date(date, head[date]),
                   counterparty=require(party, head[party]),
                   counterparty_tax_id=head[f"{party}_tax_id"] or None, currency=head["currency"],
                   lines=tuple(_order_line(line) for line in lines),
                   project=head["project"], department=head["department"])
    return build


def _shipment(cls: type, number: str, date: str, ref: str, party: str):
    def build(head: Cells, lines: list[Cells]) -> object:
        return cls(number=require(number, head[number]), date=parse_date(date, head[date]),
                   counterparty=require(party, head[party]), order_ref=head[ref],
                   lines=tuple(_shipment_line(line) for line in lines))
    return build


def _invoice(cls: type, party: str, order_ref: str, shipment_ref: str):
    def build(head: Cells, lines: list[Cells]) -> object:
        return cls(number=require("invoice_no", head["invoice_no"]),
                   date=parse_date("invoice_date", head["invoice_date"]),
                   due_date=parse_date("due_date", head["due_date"]),
                   counterparty=require(party, head[party]),
                   counterparty_tax_id=head[f"{party}_tax_id"] or None, currency=head["currency"],
                   order_ref=head[order_ref], shipment_ref=head[shipment_ref],
                   lines=tuple(_invoice_line(line) for line in lines))
    return build


_ORDER_LINE = ("line_no", "sku", "quantity", "unit_price", "tax_rate")
_SHIPMENT_LINE = ("line_no", "sku", "quantity")
_INVOICE_LINE = ("line_no", "sku", "quantity", "unit_price", "tax_rate", "net_amount", "tax_amount")


def _fields(number: str, date: str, party: str, **more: str) -> dict[str, str]:
    return {"number": number, "date": date, "counterparty": party,
            "counterparty_tax_id": f"{party}_tax_id", **more}


SCHEMAS: tuple[FileSchema, ...] = (
    FileSchema("sales_orders.csv", DocumentKind.SALES_ORDER, "order_no",
               ("order_no", "order_date", "customer", "customer_tax_id", "currency", "project",
                "department"), _ORDER_LINE, _order(SalesOrder, "order_no", "order_date", "customer"),
               _fields("order_no", "order_date", "customer")),
    FileSchema("deliveries.csv", DocumentKind.DELIVERY, "delivery_no",
               ("delivery_no", "delivery_date", "order_ref", "customer"), _SHIPMENT_LINE,
               _shipment(Delivery, "delivery_no", "delivery_date", "order_ref", "customer"),
               _fields("delivery_no", "delivery_date", "customer")),
    FileSchema("sales_invoices.csv", DocumentKind.SALES_INVOICE, "invoice_no",
               ("invoice_no", "invoice_date", "due_date", "customer", "customer_tax_id",
                "order_ref", "delivery_ref", "currency"), _INVOICE_LINE,
               _invoice(SalesInvoice, "customer", "order_ref", "delivery_ref"),
               _fields("invoice_no", "invoice_date", "customer", shipment_ref="delivery_ref")),
    FileSchema("purchase_orders.csv", DocumentKind.PURCHASE_ORDER, "po_no",
               ("po_no", "po_date", "supplier", "supplier_tax_id", "currency", "project",
                "department"), _ORDER_LINE, _order(PurchaseOrder, "po_no", "po_date", "supplier"),
               _fields("po_no", "po_date", "supplier")),
    FileSchema("goods_receipts.csv", DocumentKind.GOODS_RECEIPT, "receipt_no",
               ("receipt_no", "receipt_date", "po_ref", "supplier"), _SHIPMENT_LINE,
               _shipment(GoodsReceipt, "receipt_no", "receipt_date", "po_ref", "supplier"),
               _fields("receipt_no", "receipt_date", "supplier", order_ref="po_ref")),
    FileSchema("purchase_invoices.csv", DocumentKind.PURCHASE_INVOICE, "invoice_no",
               ("invoice_no", "invoice_date", "due_date", "supplier", "supplier_tax_id", "po_ref",
                "receipt_ref", "currency"), _INVOICE_LINE,
               _invoice(PurchaseInvoice, "supplier", "po_ref", "receipt_ref"),
               _fields("invoice_no", "invoice_date", "supplier", order_ref="po_ref",
                       shipment_ref="receipt_ref")),
)


def group_documents(schema: FileSchema, rows: Iterable[Row]) -> Iterator[tuple[int, object] | BadInput]:
    """Yield (first row number, document) or a BadInput per rejected document, in file order."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        if BAD in row.cells:
            yield BadInput(file=schema.filename, row=row.number, field=None, message=row.cells[BAD])
            continue
        number = row.cells[schema.number]
        if not number:
            yield BadInput(file=schema.filename, row=row.number, field=schema.number,
                           message="found '', expected a document number")
            continue
        groups.setdefault(number, []).append(row)
    for group in groups.values():
        yield _one_document(schema, group)


def _one_document(schema: FileSchema, group: list[Row]) -> tuple[int, object] | BadInput:
    first = group[0]
    for row in group[1:]:
        for column in schema.header:
            if row.cells[column] != first.cells[column]:
                return BadInput(file=schema.filename, row=row.number, field=column,
                                message=f"found {row.cells[column]!r}, expected {first.cells[column]!r} "
                                        f"as on row {first.number} of the same document")
    current = first
    try:
        for current in group:  # cell-level checks name the exact row
            schema.build(first.cells, [current.cells])
        return first.number, schema.build(first.cells, [row.cells for row in group])
    except FieldError as error:
        column = schema.fields.get(error.field, error.field)
        row_number = first.number if column in schema.header else current.number
        return BadInput(file=schema.filename, row=row_number, field=column,
                        message=f"found {error.found!r}, expected {error.expected}")
