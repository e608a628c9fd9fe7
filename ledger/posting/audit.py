"""The audit chain: every state change a person (or the agent) makes, hash-chained per company.

    seq 1  li.kuaiji  reviewer  accept  exception:17  {"status": "open"} → {"status": "resolved"}
    hash_1 = sha256("" + canonical(event 1)),  hash_n = sha256(hash_{n-1} + canonical(event n))

An event is appended inside the transaction of the change it records, so both commit or
neither does. Sequence numbers come from a counter row (as voucher numbers do), whose UPDATE
serialises writers; ``verify_audit`` recomputes the chain (``yecai ledger verify`` runs it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from ledger.posting.chain import insert_ignore, take_numbers
from ledger.posting.tables import VoucherCounter
from ledger.storage.review_tables import AuditEvent

AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class BrokenAudit:
    seq: int
    reason: str


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _canonical(row) -> bytes:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    content = {"seq": row.seq, "at": at.astimezone(UTC).isoformat(), "actor": row.actor, "role": row.role,
               "action": row.action, "subject": row.subject, "before": row.before, "after": row.after,
               "reason": row.reason}
    return _json(content).encode("utf-8")


def _digest(previous: str, row) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\x1e" + _canonical(row)).hexdigest()


def append_event(connection: Connection, company_id: str, *, actor: str, role: str, action: str, subject: str,
                 before: Any, after: Any, reason: str = "") -> int:
    """Append one event in the caller's transaction; returns its sequence number."""
    insert_ignore(connection, VoucherCounter.__table__,
                  {"company_id": company_id, "period": AUDIT, "word": AUDIT, "last_number": 0})
    seq = take_numbers(connection, company_id, AUDIT, AUDIT, 1)
    table = AuditEvent.__table__
    previous = connection.execute(select(table.c.hash).where(
        (table.c.company_id == company_id) & (table.c.seq == seq - 1))).scalar_one_or_none() or ""
    # microseconds dropped: every database gives the same instant back, so the hash recomputes
    values = {"company_id": company_id, "seq": seq, "at": datetime.now(UTC).replace(microsecond=0), "actor": actor,
              "role": role, "action": action, "subject": subject, "before": _json(before), "after": _json(after),
              "reason": reason, "prev_hash": previous}
    values["hash"] = _digest(previous, _Row(**values))
    connection.execute(table.insert().values(**values))
    return seq


class _Row:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def verify_audit(engine: Engine, company_id: str) -> BrokenAudit | None:
    """Recompute the audit chain; the first event whose position or hash disagrees."""
    table = AuditEvent.__table__
    previous = ""
    with engine.connect() as connection:
        for expected, row in enumerate(connection.execute(
                select(table).where(table.c.company_id == company_id).order_by(table.c.seq)), start=1):
            if row.seq != expected or row.prev_hash != previous:
                return BrokenAudit(row.seq, "the audit chain skips or reorders an event")
            if _digest(previous, row) != row.hash:
                return BrokenAudit(row.seq, "its content no longer matches its hash")
            previous = row.hash
    return None
