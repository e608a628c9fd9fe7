"""Writing exception items: insert new fingerprints, refresh the ones seen before, and after
a full run settle the open ones whose cause went away (``settle_gone``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from ledger.exceptions import ExceptionCode, ExceptionItem
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


AGENT = "yecai"


@dataclass(frozen=True, slots=True)
class Settled:
    resolved: int
    reopened: int


def _snapshot(row) -> dict:
    return {"status": row.status, "assignee": row.assignee, "version": row.version, "resolution": row.resolution,
            "snoozed_until": row.snoozed_until.isoformat() if row.snoozed_until else None}


def settle_gone(connection: Connection, company_id: str, raised: Sequence[ExceptionItem],
                codes: Collection[ExceptionCode]) -> Settled:
    """After a run that looked at everything that raises ``codes``: resolve each item still
    ``open`` (no person took it up: not in review, not snoozed) whose fingerprint this run did
    not raise again, as resolved by yecai; reopen an item yecai resolved that is raised again.
    A person's decision (resolved, ignored, in review, snoozed by someone) is never changed.
    Each change bumps the item's version (a reviewer acting on the old one gets a conflict)
    and appends an audit event in the caller's transaction."""
    from ledger.posting.audit import append_event  # the audit chain lives beside the voucher book

    table = ExceptionItemRow.__table__
    fingerprints = {item.fingerprint for item in raised}
    scope = (table.c.company_id == company_id) & table.c.code.in_(sorted(str(code) for code in codes))
    rows = connection.execute(select(table).where(scope & (
        (table.c.status == "open") | ((table.c.status == "resolved") & (table.c.resolved_by == AGENT))))
        .order_by(table.c.id)).all()
    now, resolved, reopened = datetime.now(UTC), 0, 0
    for row in rows:
        seen = row.fingerprint in fingerprints
        if row.status == "open" and not seen:
            changes = {"status": "resolved", "resolution": "the cause went away: the last run did not raise it again",
                       "resolved_by": AGENT, "resolved_at": now}
            action, resolved = "auto_resolve", resolved + 1
        elif row.status == "resolved" and seen:
            changes = {"status": "open", "resolution": "", "resolved_by": None, "resolved_at": None}
            action, reopened = "auto_reopen", reopened + 1
        else:
            continue
        claimed = connection.execute(update(table).where((table.c.id == row.id) & (table.c.version == row.version)
                                                         & (table.c.status == row.status))
                                     .values(version=row.version + 1, **changes)).rowcount
        if not claimed:   # a person acted on it meanwhile: theirs stands
            continue
        before = _snapshot(row)
        after = {**before, "status": changes["status"], "resolution": changes["resolution"],
                 "version": row.version + 1}
        append_event(connection, company_id, actor=AGENT, role="agent", action=action, subject=f"exception:{row.id}",
                     before=before, after=after, reason=changes["resolution"] or "raised again by the last run")
    return Settled(resolved=resolved, reopened=reopened)
