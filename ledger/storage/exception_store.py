"""Writing exception items: insert new fingerprints, refresh the ones seen before, and after
a full run settle the open ones whose cause went away (``settle_gone``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from ledger.exceptions import ExceptionCode, ExceptionItem, ExceptionRow
from ledger.storage.bulk import (
    driver_cursor,
    driver_rows,
    driver_rows_in,
    driver_value,
    insert_values,
    new_ids,
    param_mark,
)
from ledger.storage.tables import ExceptionDocumentRow, ExceptionItemRow


@dataclass(frozen=True, slots=True)
class RaisedCounts:
    new: int
    seen_again: int
    new_items: tuple[ExceptionItem, ...] = ()  # the items raised for the first time


def raise_exceptions(connection: Connection, company_id: str, items: Sequence[ExceptionItem],
                     batch_id: int | None = None) -> RaisedCounts:
    """Upsert ``items`` by fingerprint inside the caller's transaction."""
    new, seen_again = raise_exception_rows(connection, company_id, [item.row() for item in items], batch_id)
    by_print = {item.fingerprint: item for item in items}
    return RaisedCounts(new=len(new), seen_again=seen_again, new_items=tuple(by_print[f] for f in new))


ITEM_COLUMNS = ("id", "fingerprint", "code", "severity", "message", "source", "detail")   # each new item's own
DOCUMENT_COLUMNS = ("exception_id", "doc_type", "doc_no", "amount_minor", "currency")


def raise_exception_rows(connection: Connection, company_id: str, rows: Sequence[ExceptionRow],
                         batch_id: int | None = None) -> tuple[list[str], int]:
    """Upsert exception rows (``ExceptionItem.row()``) by fingerprint inside the caller's transaction:
    new fingerprints are inserted (COPY or executemany of plain tuples), known ones refreshed.
    Returns (the new fingerprints in order, how many were seen again). Of rows sharing a fingerprint
    the last one's content is written, in the first one's place."""
    if not rows:
        return [], 0
    table = ExceptionItemRow.__table__
    by_print = {row[0]: row for row in rows}
    fingerprints = list(by_print)
    # a company's first exceptions (a first load's 245,000) skip looking each one up (0.2 s)
    first = not driver_rows(connection, f"SELECT 1 FROM {table.name} WHERE company_id = {{}} LIMIT 1", (company_id,))
    known: dict[str, int] = {} if first else dict(driver_rows_in(   # driver rows: no statement to compile per chunk
        connection, f"SELECT fingerprint, id FROM {table.name} WHERE company_id = {{}} AND fingerprint IN ({{values}})",
        (company_id,), fingerprints))
    now = driver_value(connection, table, "last_seen_at", datetime.now(UTC))
    mark = param_mark(connection)
    with driver_cursor(connection) as cursor:
        if known:
            cursor.executemany(f"UPDATE {table.name} SET last_seen_at = {mark}, message = {mark}, "
                               f"times_seen = times_seen + 1, batch_id = {mark} WHERE id = {mark}",
                               [(now, by_print[f][3], batch_id, row_id) for f, row_id in known.items()])
        new = [f for f in fingerprints if f not in known]
        ids = new_ids(connection, table, len(new))
        # what every new row shares goes into the statement once (SQLite binds only each row's own values)
        insert_values(connection, table.name, ITEM_COLUMNS, [
            (row_id, f, *by_print[f][1:6]) for row_id, f in zip(ids, new)],
            constants={"company_id": company_id, "status": "open", "first_seen_at": now, "last_seen_at": now,
                       "times_seen": 1, "batch_id": batch_id}, cursor=cursor)
        documents = []
        for row_id, f in zip(ids, new):
            refs = by_print[f][6]
            if len(refs) == 1:
                documents.append((row_id, *refs[0]))
            else:   # one row per document: a document named twice keeps its first place, its last amount
                documents += [(row_id, *ref) for ref in {(r[0], r[1]): r for r in refs}.values()]
        insert_values(connection, ExceptionDocumentRow.__table__.name, DOCUMENT_COLUMNS, documents, cursor=cursor)
    return new, len(known)


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
