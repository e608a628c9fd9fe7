"""Domain records → table rows (plain dicts for the bulk path) and a content hash per record."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from ledger.documents import Invoice, Order, Shipment
from ledger.money import Money
from ledger.records import to_plain


def content_hash(record: object) -> str:
    """Same content, same hash, whatever the Decimal spelling ('1.0' and '1.00' are equal)."""
    canonical = json.dumps({"type": type(record).__name__, **to_plain(record)}, ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _minor(amount: Decimal, currency: str) -> int:
    return Money(amount, currency).to_minor()


def document_rows(document: Order | Shipment | Invoice) -> tuple[dict, list[dict]]:
    header: dict[str, Any] = {
        "kind": document.kind.value, "doc_no": document.number, "doc_date": document.date,
        "due_date": None, "counterparty": document.counterparty, "counterparty_tax_id": None,
        "currency": None, "order_ref": "", "shipment_ref": "", "net_minor": None, "tax_minor": None,
        "project": "", "department": "", "content_hash": content_hash(document),
    }
    lines: list[dict[str, Any]] = []
    if isinstance(document, Order):
        header.update(counterparty_tax_id=document.counterparty_tax_id, currency=document.currency,
                      net_minor=document.net_total.to_minor(), project=document.project,
                      department=document.department)
        lines = [{"line_no": line.line_no, "sku": line.sku, "quantity": line.quantity,
                  "unit_price": line.unit_price, "tax_rate": line.tax_rate,
                  "net_minor": Money(line.net_amount, document.currency).to_minor(
                      rounding="ROUND_HALF_UP"), "tax_minor": None} for line in document.lines]
    elif isinstance(document, Invoice):
        header.update(due_date=document.due_date, counterparty_tax_id=document.counterparty_tax_id,
                      currency=document.currency, order_ref=document.order_ref,
                      shipment_ref=document.shipment_ref, net_minor=document.net_total.to_minor(),
                      tax_minor=document.tax_total.to_minor())
        lines = [{"line_no": line.line_no, "sku": line.sku, "quantity": line.quantity,
                  "unit_price": line.unit_price, "tax_rate": line.tax_rate,
                  "net_minor": _minor(line.net_amount, document.currency),
                  "tax_minor": _minor(line.tax_amount, document.currency)} for line in document.lines]
    else:
        header.update(order_ref=document.order_ref)
        lines = [{"line_no": line.line_no, "sku": line.sku, "quantity": line.quantity, "unit_price": None,
                  "tax_rate": None, "net_minor": None, "tax_minor": None} for line in document.lines]
    return header, lines
