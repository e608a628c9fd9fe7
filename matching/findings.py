"""Exceptions that the document chains show: three-way match, ageing, duplicates, overdue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from ledger.documents import Invoice, Order, Shipment
from ledger.exceptions import DocumentRef, ExceptionCode, ExceptionItem, ExceptionRow, exception_row
from ledger.money import Money, format_minor
from ledger.settings import Tolerances
from matching.chains import ChainResult, order_price, quantities, received_quantity
from matching.rules import MatchingRules


def ref(document, amount: Money | None = None) -> DocumentRef:
    return DocumentRef(doc_type=document.kind.value, doc_no=document.number, amount=amount)


def three_way(invoices: Sequence[Invoice], orders: dict[str, Order], shipments: dict[str, Shipment],
              chains: ChainResult, tolerances: Tolerances, rules: MatchingRules) -> list[ExceptionItem]:
    findings = []
    for invoice in invoices:
        goods = [line for line in invoice.lines if not rules.is_service(line.sku)]
        if not goods:
            continue
        received_shipments = chains.shipments_of_invoice.get(invoice.number, [])
        order_no = chains.order_of_invoice.get(invoice.number) or next(
            (chains.order_of[s] for s in received_shipments if s in chains.order_of), None) or (
            invoice.order_ref if invoice.order_ref in orders else None)
        order = orders.get(order_no) if order_no else None
        if not received_shipments:
            findings.append(ExceptionItem(code=ExceptionCode.INVOICE_WITHOUT_RECEIPT, documents=(
                ref(invoice, invoice.gross_total), *((ref(order),) if order else ())),
                message=f"purchase invoice {invoice.number} bills goods but no goods receipt matches it"))
            continue
        received = received_quantity(chains, shipments, invoice.number)
        billed = quantities(invoice)
        short = [(sku, billed[sku], received[sku]) for sku in sorted(set(billed) | set(received))
                 if abs(billed[sku] - received[sku]) > tolerances.quantity]
        if short:
            at_risk = sum((abs(b - r) * _price(invoice, sku) for sku, b, r in short), Decimal(0))
            findings.append(ExceptionItem(code=ExceptionCode.QUANTITY_MISMATCH, documents=(
                ref(invoice, Money(at_risk, invoice.currency).quantize()),
                *(ref(shipments[s]) for s in received_shipments)),
                message=f"{invoice.number} bills " + "; ".join(f"{b} × {sku} (received {r})" for sku, b, r in short)))
        priced = [(line, order_price(order, line.sku)) for line in goods]
        off = [(line, agreed) for line, agreed in priced
               if agreed and abs(line.unit_price - agreed) > agreed * tolerances.unit_price_ratio]
        if off:
            excess = sum(((line.unit_price - agreed) * line.quantity for line, agreed in off), Decimal(0))
            findings.append(ExceptionItem(code=ExceptionCode.PRICE_MISMATCH, documents=(
                ref(invoice, abs(Money(excess, invoice.currency).quantize())), ref(order)),
                message=f"{invoice.number} prices " + "; ".join(
                    f"{line.sku} at {line.unit_price} (order {order.number}: {agreed})" for line, agreed in off)))
    return findings


def _price(invoice: Invoice, sku: str) -> Decimal:
    return next((line.unit_price for line in invoice.lines if line.sku == sku), Decimal(0))


def not_invoiced(shipments: Sequence[Shipment], chains: ChainResult, as_of: date, tolerances: Tolerances,
                 code: ExceptionCode) -> list[ExceptionItem]:
    cutoff = as_of - timedelta(days=tolerances.ageing_days)
    return [ExceptionItem(code=code, documents=(ref(shipment),),
                          message=f"{shipment.kind.value} {shipment.number} of {shipment.date} has no invoice "
                                  f"after {(as_of - shipment.date).days} days")
            for shipment in shipments if shipment.date < cutoff and shipment.number not in chains.invoiced]


def duplicate_invoices(invoices: Sequence[Invoice], party: dict) -> list[ExceptionItem]:
    """Same supplier with the same amount and date under different numbers (same numbers merge on input)."""
    groups: dict[tuple, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        supplier = party.get((invoice.kind.value, invoice.number)) or invoice.counterparty
        groups[(supplier, invoice.gross_total, invoice.date)].append(invoice)
    return [ExceptionItem(code=ExceptionCode.DUPLICATE_INVOICE, documents=tuple(ref(i, i.gross_total) for i in group),
                          message=f"{', '.join(i.number for i in group)}: same supplier, amount "
                                  f"{group[0].gross_total} and date {group[0].date}")
            for group in groups.values() if len(group) > 1]


def overdue(invoices: Sequence[Invoice], open_amounts: dict[tuple[str, str], Money], as_of: date,
            tolerances: Tolerances) -> list[ExceptionItem]:
    findings = []
    for invoice in invoices:
        still_open = open_amounts.get((invoice.kind.value, invoice.number), invoice.gross_total)
        if invoice.due_date < as_of and still_open.amount > tolerances.amount:
            findings.append(ExceptionItem(code=ExceptionCode.INVOICE_OVERDUE, documents=(ref(invoice, still_open),),
                                          message=f"{invoice.number} was due {invoice.due_date}; {still_open} open"))
    return findings


def unmatched_bank_txn(number: str, amount: Money, counterparty: str, remittance: str) -> ExceptionItem:
    return ExceptionItem(code=ExceptionCode.UNMATCHED_BANK_TXN,
                         documents=(DocumentRef(doc_type="bank_txn", doc_no=number, amount=amount),),
                         message=_unmatched(number, str(amount), counterparty, remittance))


def unknown_counterparty(number: str, amount: Money, counterparty: str, closest: str, score: float) -> ExceptionItem:
    return ExceptionItem(code=ExceptionCode.UNKNOWN_COUNTERPARTY,
                         documents=(DocumentRef(doc_type="bank_txn", doc_no=number, amount=amount),),
                         message=_unknown(counterparty, closest, score))


def low_confidence(from_type: str, from_no: str, to_type: str, to_no: str, amount: Money | None, score: float,
                   rule: str) -> ExceptionItem:
    return ExceptionItem(code=ExceptionCode.LOW_CONFIDENCE_MATCH, detail=f"{from_no}->{to_no}",
                         documents=(DocumentRef(doc_type=from_type, doc_no=from_no),
                                    DocumentRef(doc_type=to_type, doc_no=to_no, amount=amount)),
                         message=_low_confidence(from_type, from_no, to_type, to_no, score, rule))


# The same three as plain rows (``ExceptionItem.row()``), for runs that raise hundreds of thousands:
# amounts in minor units, no Money, DocumentRef or item built.
def unmatched_bank_txn_row(number: str, amount_minor: int, currency: str, counterparty: str,
                           remittance: str) -> ExceptionRow:
    message = _unmatched(number, format_minor(amount_minor, currency), counterparty, remittance)
    return exception_row(ExceptionCode.UNMATCHED_BANK_TXN, message, (_bank(number, amount_minor, currency),))


def unknown_counterparty_row(number: str, amount_minor: int, currency: str, counterparty: str, closest: str,
                             score: float) -> ExceptionRow:
    return exception_row(ExceptionCode.UNKNOWN_COUNTERPARTY, _unknown(counterparty, closest, score),
                         (_bank(number, amount_minor, currency),))


def low_confidence_row(from_type: str, from_no: str, to_type: str, to_no: str, amount_minor: int, currency: str,
                       score: float, rule: str) -> ExceptionRow:
    return exception_row(ExceptionCode.LOW_CONFIDENCE_MATCH, _low_confidence(from_type, from_no, to_type, to_no,
                                                                             score, rule),
                         ((from_type, from_no, None, None), (to_type, to_no, amount_minor or None,
                                                             currency if amount_minor else None)),
                         detail=f"{from_no}->{to_no}")


def _bank(number: str, amount_minor: int, currency: str) -> tuple[str, str, int | None, str | None]:
    return ("bank_txn", number, amount_minor or None, currency if amount_minor else None)


def _unmatched(number: str, amount: str, counterparty: str, remittance: str) -> str:
    return f"{number} {amount} from {counterparty or '?'} ({remittance}) settles no document"


def _unknown(counterparty: str, closest: str, score: float) -> str:
    return f"{counterparty!r} matches no known party (closest: {closest or 'none'}, {score:.2f})"


def _low_confidence(from_type: str, from_no: str, to_type: str, to_no: str, score: float, rule: str) -> str:
    return f"suggested {from_type} {from_no} → {to_type} {to_no} (score {score:.2f}, rule {rule}) waits for a person"
