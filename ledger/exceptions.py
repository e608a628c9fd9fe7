"""Typed exceptions (the spec's codes, plus SOURCE_CHANGED): what finance reviews.

An exception item is fingerprinted from its code and the documents it is about, so a nightly
run that sees the same problem again updates the item instead of adding a second one.

    >>> item = ExceptionItem(code=ExceptionCode.UNPARSEABLE_DOCUMENT, message="bad date",
    ...                      documents=(DocumentRef(doc_type="file", doc_no="sales_orders.csv"),),
    ...                      detail="row 3")
    >>> item.fingerprint == ExceptionItem(code=ExceptionCode.UNPARSEABLE_DOCUMENT, message="other",
    ...     documents=(DocumentRef(doc_type="file", doc_no="sales_orders.csv"),), detail="row 3").fingerprint
    True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import BadInput
from ledger.money import Money


class ExceptionCode(StrEnum):
    UNMATCHED_BANK_TXN = "UNMATCHED_BANK_TXN"
    UNKNOWN_COUNTERPARTY = "UNKNOWN_COUNTERPARTY"
    OVERPAYMENT = "OVERPAYMENT"
    SHORT_PAYMENT = "SHORT_PAYMENT"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"
    DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"
    PRICE_MISMATCH = "PRICE_MISMATCH"
    INVOICE_WITHOUT_RECEIPT = "INVOICE_WITHOUT_RECEIPT"
    DELIVERED_NOT_INVOICED = "DELIVERED_NOT_INVOICED"
    RECEIVED_NOT_INVOICED = "RECEIVED_NOT_INVOICED"
    INVOICE_OVERDUE = "INVOICE_OVERDUE"
    BANK_ACCOUNT_MISMATCH = "BANK_ACCOUNT_MISMATCH"
    LOW_CONFIDENCE_MATCH = "LOW_CONFIDENCE_MATCH"
    UNPARSEABLE_DOCUMENT = "UNPARSEABLE_DOCUMENT"
    SOURCE_CHANGED = "SOURCE_CHANGED"


# raised while reading a source, not by matching: a nightly match run neither raises nor settles them
INGEST_CODES = frozenset({ExceptionCode.UNPARSEABLE_DOCUMENT, ExceptionCode.SOURCE_CHANGED})
MATCH_CODES = frozenset(set(ExceptionCode) - INGEST_CODES)


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


DEFAULT_SEVERITY: dict[ExceptionCode, Severity] = {
    ExceptionCode.UNMATCHED_BANK_TXN: Severity.MEDIUM,
    ExceptionCode.UNKNOWN_COUNTERPARTY: Severity.MEDIUM,
    ExceptionCode.OVERPAYMENT: Severity.MEDIUM,
    ExceptionCode.SHORT_PAYMENT: Severity.MEDIUM,
    ExceptionCode.DUPLICATE_INVOICE: Severity.HIGH,
    ExceptionCode.DUPLICATE_PAYMENT: Severity.CRITICAL,
    ExceptionCode.QUANTITY_MISMATCH: Severity.HIGH,
    ExceptionCode.PRICE_MISMATCH: Severity.HIGH,
    ExceptionCode.INVOICE_WITHOUT_RECEIPT: Severity.MEDIUM,
    ExceptionCode.DELIVERED_NOT_INVOICED: Severity.MEDIUM,
    ExceptionCode.RECEIVED_NOT_INVOICED: Severity.LOW,
    ExceptionCode.INVOICE_OVERDUE: Severity.LOW,
    ExceptionCode.BANK_ACCOUNT_MISMATCH: Severity.CRITICAL,
    ExceptionCode.LOW_CONFIDENCE_MATCH: Severity.LOW,
    ExceptionCode.UNPARSEABLE_DOCUMENT: Severity.HIGH,
    ExceptionCode.SOURCE_CHANGED: Severity.HIGH,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRef:
    doc_type: str          # a document kind, or "file" for a file-level problem
    doc_no: str            # the document number, bank "account:txn", or a path in the folder
    amount: Money | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionItem:
    code: ExceptionCode
    message: str
    documents: tuple[DocumentRef, ...]
    severity: Severity | None = None
    source: str = ""
    detail: str = ""       # what, beyond the documents, makes this problem distinct (row, field)

    def __post_init__(self) -> None:
        if not self.documents:
            raise ValueError("an exception item is about at least one document or file")
        if self.severity is None:
            object.__setattr__(self, "severity", DEFAULT_SEVERITY[self.code])

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.code.value, self.source, self.detail, [(d.doc_type, d.doc_no) for d in self.documents])

    def row(self) -> ExceptionRow:
        """This item as the plain tuple the store writes (amounts in minor units; a zero amount is none)."""
        return (self.fingerprint, self.code.value, self.severity.value, self.message, self.source, self.detail,
                tuple((d.doc_type, d.doc_no, d.amount.to_minor() if d.amount else None,
                       d.amount.currency if d.amount else None) for d in self.documents))


DocumentTuple = tuple[str, str, int | None, str | None]   # doc_type, doc_no, amount_minor, currency
# (fingerprint, code, severity, message, source, detail, documents): an exception item without objects,
# for runs that raise hundreds of thousands of them
ExceptionRow = tuple[str, str, str, str, str, str, tuple[DocumentTuple, ...]]


def fingerprint(code: str, source: str, detail: str, documents) -> str:
    """The identity of an exception: its code, source, detail and the (doc_type, doc_no) it is about."""
    parts = [code, source, detail, *sorted(f"{doc_type}\x1f{doc_no}" for doc_type, doc_no in documents)]
    return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()[:32]


def exception_row(code: ExceptionCode, message: str, documents: tuple[DocumentTuple, ...], source: str = "",
                  detail: str = "") -> ExceptionRow:
    """What ``ExceptionItem(...).row()`` gives, without building the item (zero amounts must be None already)."""
    if not documents:
        raise ValueError("an exception item is about at least one document or file")
    return (fingerprint(code.value, source, detail, [(d[0], d[1]) for d in documents]), code.value,
            DEFAULT_SEVERITY[code].value, message, source, detail, documents)


def unparseable(problem: BadInput, source: str = "") -> ExceptionItem:
    """A record or file that could not be read, as the spec's UNPARSEABLE_DOCUMENT."""
    detail = f"row {problem.row}" if problem.row is not None else ""
    if problem.field:
        detail += f", field {problem.field}"
    return ExceptionItem(code=ExceptionCode.UNPARSEABLE_DOCUMENT, message=str(problem), source=source,
                         documents=(DocumentRef(doc_type="file", doc_no=problem.file),), detail=detail)


def source_changed(kind: str, number: str, source: str) -> ExceptionItem:
    return ExceptionItem(code=ExceptionCode.SOURCE_CHANGED, source=source,
                         message=f"{kind} {number} arrived again from {source} with different content; "
                                 f"the stored version is kept until someone decides",
                         documents=(DocumentRef(doc_type=kind, doc_no=number),))
