"""From extracted e-invoice fields to a ``SalesInvoice`` or ``PurchaseInvoice``, checked.

Which one depends on the company's own tax id: seller = us is a sales invoice (counterparty:
the buyer), buyer = us a purchase invoice (counterparty: the seller). Invoices carry no due
date, so ``due_date`` is the invoice date plus ``payment_terms_days``. A legacy invoice's
number is ``发票代码-发票号码`` (its 8-digit number alone repeats across codes); a 数电票's is
its 20-digit 发票号码. Every total is cross-checked:

    lines' 金额 sum  == 合计 net            100.00 + 200.00 == 300.00
    lines' 税额 sum  == 合计 tax              6.00 +  12.00 ==  18.00
    net + tax        == 价税合计 (小写)     300.00 +  18.00 == 318.00
    价税合计 (大写)   == 价税合计 (小写)     叁佰壹拾捌圆整 == 318.00
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.einvoice.amounts import AmountError, parse_uppercase
from connectors.einvoice.fields import ExtractedLine, InvoiceFields
from ledger.counterparties import validate_uscc
from ledger.documents import InvoiceLine, PurchaseInvoice, SalesInvoice
from ledger.errors import BadInput, FieldError


def invoice_number(fields: InvoiceFields) -> str:
    return f"{fields.code}-{fields.number}" if fields.code else fields.number


def _invoice_line(line_no: int, line: ExtractedLine) -> InvoiceLine:
    quantity = line.quantity
    if quantity is None:  # services are often invoiced without 数量 and 单价
        quantity = Decimal(1) if line.net_amount >= 0 else Decimal(-1)
    unit_price = line.unit_price
    if unit_price is None:
        unit_price = abs(line.net_amount / quantity) if quantity else Decimal(0)
    return InvoiceLine(line_no=line_no, sku=line.item, quantity=quantity, unit_price=unit_price,
                       tax_rate=line.tax_rate, net_amount=line.net_amount,
                       tax_amount=line.tax_amount)


def _totals(fields: InvoiceFields) -> list[tuple[str, str]]:
    problems = []
    net = sum((line.net_amount for line in fields.lines), Decimal(0))
    tax = sum((line.tax_amount for line in fields.lines), Decimal(0))
    if net != fields.net_total:
        problems.append(("net_total", f"合计 net {fields.net_total} differs from the lines' "
                                      f"sum {net}"))
    if tax != fields.tax_total:
        problems.append(("tax_total", f"合计 tax {fields.tax_total} differs from the lines' "
                                      f"sum {tax}"))
    if fields.net_total + fields.tax_total != fields.gross_total:
        problems.append(("gross_total", f"价税合计 {fields.gross_total} is not net "
                                        f"{fields.net_total} + tax {fields.tax_total}"))
    if fields.gross_upper:
        try:
            upper = parse_uppercase(fields.gross_upper)
        except AmountError as error:
            problems.append(("gross_upper", str(error)))
        else:
            if upper != fields.gross_total:
                problems.append(("gross_upper", f"价税合计 (大写) {fields.gross_upper} is {upper}, "
                                                f"but (小写) says {fields.gross_total}"))
    return problems


def to_invoice(fields: InvoiceFields, *, company_tax_id: str, payment_terms_days: int,
               file: str) -> tuple[SalesInvoice | PurchaseInvoice | None, list[BadInput]]:
    """The ledger document for ``fields``, or every problem found with it."""
    found: list[tuple[str | None, str]] = list(_totals(fields))
    for role, party in (("buyer", fields.buyer), ("seller", fields.seller)):
        try:
            validate_uscc(party.tax_id, f"{role}_tax_id")
        except FieldError as error:
            found.append((error.field, f"{role} {party.name}: found {party.tax_id!r}, "
                                       f"expected {error.expected}"))
    ours = company_tax_id.strip().upper()
    if fields.seller.tax_id == ours and fields.buyer.tax_id != ours:
        cls, counterparty = SalesInvoice, fields.buyer
    elif fields.buyer.tax_id == ours and fields.seller.tax_id != ours:
        cls, counterparty = PurchaseInvoice, fields.seller
    else:
        found.append((None, f"neither buyer ({fields.buyer.tax_id}) nor seller "
                            f"({fields.seller.tax_id}) alone is this company ({ours})"))
    problems = [BadInput(file=file, row=None, field=field, message=message)
                for field, message in found]
    if problems:
        return None, problems
    try:
        invoice = cls(number=invoice_number(fields), date=fields.date,
                      due_date=fields.date + dt.timedelta(days=payment_terms_days),
                      counterparty=counterparty.name, counterparty_tax_id=counterparty.tax_id,
                      currency="CNY",
                      lines=tuple(_invoice_line(n, line) for n, line in enumerate(fields.lines, 1)))
    except FieldError as error:
        return None, [BadInput.from_field_error(file, None, error)]
    return invoice, []
