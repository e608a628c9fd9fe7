"""Writing exception items: insert new fingerprints, refresh the ones seen before."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from ledger.exceptions import ExceptionItem
from ledger.storage.bulk import insert_rows
from ledger.storage.tables import ExceptionDocumentRow, ExceptionItemRow


@dataclass(frozen=True, slots=True)
class RaisedCounts:
    new: int
    seen_again: int
    new_items: tuple[ExceptionItem, ...] = ()  # the items raised for the first time


def raise_exceptions(connection: Connection, company_id: str, items: Sequence[ExceptionItem],
                     batch_id: int | None = None) -> RaisedCounts:
    """Upsert ``items`` by fingerprint inside the caller's transaction."""
    if not items:
        return RaisedCounts(0, 0)
    table = ExceptionItemRow.__table__
    by_print = {item.fingerprint: item for item in items}   # a fingerprint is a hash: computed once per item
    unique, fingerprints = list(by_print.values()), list(by_print)
    known: dict[str, int] = {}
    for start in range(0, len(fingerprints), 500):
        known.update(connection.execute(
            select(table.c.fingerprint, table.c.id).where(
                (table.c.company_id == company_id) & table.c.fingerprint.in_(fingerprints[start:start + 500]))
        ).all())
    now = datetime.now(UTC)
    for fingerprint, item in by_print.items():
        if fingerprint in known:
            connection.execute(update(table).where(table.c.id == known[fingerprint]).values(
                last_seen_at=now, message=item.message, times_seen=table.c.times_seen + 1, batch_id=batch_id))
    new = [(fingerprint, item) for fingerprint, item in by_print.items() if fingerprint not in known]
    ids = insert_rows(connection, table, [
        {"company_id": company_id, "fingerprint": fingerprint, "code": item.code.value,
         "severity": item.severity.value, "status": "open", "message": item.message, "source": item.source,
         "detail": item.detail, "first_seen_at": now, "last_seen_at": now, "times_seen": 1,
         "batch_id": batch_id} for fingerprint, item in new], return_ids=True)
    insert_rows(connection, ExceptionDocumentRow.__table__, [
        {"exception_id": exception_id, "doc_type": ref.doc_type, "doc_no": ref.doc_no,
         "amount_minor": ref.amount.to_minor() if ref.amount else None,
         "currency": ref.amount.currency if ref.amount else None}
        for exception_id, (_fingerprint, item) in zip(ids, new)
        for ref in {(r.doc_type, r.doc_no): r for r in item.documents}.values()])
    return RaisedCounts(new=len(new), seen_again=len(unique) - len(new),
                        new_items=tuple(item for _fingerprint, item in new))
