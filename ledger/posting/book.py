"""The voucher book: drafts → reviewed (审核) → posted (记账), gapless numbers, red-letter
reversals, period close and a tamper-evident hash chain.

    save_drafts(engine, "acme", vouchers)          # idempotent: one voucher per business event
    review(engine, "acme", ids, by="li.kuaiji")    # the agent prepared them; a person reviews
    post(engine, "acme", ids, by="wang.zhuguan")   # numbers 记-2026-11-0001… in this transaction
    reverse(engine, "acme", voucher_id, by=…, reason=…)   # 红字冲销, itself posted
    verify_chain(engine, "acme")                   # None, or the first voucher whose hash breaks

Numbers are assigned at posting from a counter row per (company, period, word) that the
posting transaction increments: a rolled-back posting gives its numbers back, so the posted
numbers are exactly 1..N. Every posting also extends the company's hash chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.posting.tables import AccountingPeriod, VoucherCounter, VoucherLineRow, VoucherRow
from ledger.posting.vouchers import Voucher
from ledger.storage.bulk import insert_rows
from ledger.storage.tables import ExceptionItemRow

AGENT = "yecai"
CHAIN = "chain"


class BookError(ValueError):
    """A refused action; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Broken:
    voucher_no: str
    chain_seq: int
    reason: str


def _insert_ignore(connection: Connection, table, values: dict) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())


def save_drafts(engine: Engine, company_id: str, vouchers: Iterable[Voucher], prepared_by: str = AGENT) -> list[int]:
    """Store vouchers as drafts; an event already booked is left alone. Returns the new ids."""
    with engine.begin() as connection:
        return draft_vouchers(connection, company_id, vouchers, prepared_by)


def draft_vouchers(connection: Connection, company_id: str, vouchers: Iterable[Voucher],
                   prepared_by: str = AGENT) -> list[int]:
    """``save_drafts`` inside the caller's transaction (the review queue drafts a write-off with its audit event)."""
    vouchers = list(vouchers)
    table = VoucherRow.__table__
    where = table.c.company_id == company_id
    if len(vouchers) <= 900:   # a few (the review queue's): look them up; many (a nightly run): read all keys
        where = where & table.c.event_key.in_([v.event.key for v in vouchers])
    known = set(connection.execute(select(table.c.event_key).where(where)).scalars())
    new = [v for v in vouchers if v.event.key not in known]
    ids = insert_rows(connection, table, [
        {"company_id": company_id, "event_key": v.event.key, "event_kind": v.event.kind, "word": v.word,
         "period": v.period, "voucher_date": v.event.date, "state": "draft", "doc_type": v.event.doc_type,
         "doc_no": v.event.doc_no, "currency": v.event.currency, "template_version": v.template_version,
         "reason": "", "prepared_by": prepared_by} for v in new], return_ids=True)
    insert_rows(connection, VoucherLineRow.__table__, [
        {"voucher_id": voucher_id, "line_no": line.line_no, "account_code": line.account_code,
         "account_name": line.account_name, "debit_minor": line.debit.to_minor(),
         "credit_minor": line.credit.to_minor(), "summary": line.summary,
         **{d: line.dimensions.get(d, "") for d in ("customer", "supplier", "project", "department",
                                                     "product_line")}}
        for voucher_id, v in zip(ids, new) for line in v.lines])
    return ids


def cancel_drafts(connection: Connection, company_id: str, event_keys: Sequence[str]) -> tuple[list[dict], list[dict]]:
    """Delete the vouchers of ``event_keys`` not yet posted (draft or reviewed: no number, no
    chain), in the caller's transaction. Returns (cancelled, posted): a posted one stays in the
    books and needs a red-letter reversal by a person."""
    table, lines = VoucherRow.__table__, VoucherLineRow.__table__
    found = connection.execute(select(table.c.id, table.c.event_key, table.c.state, table.c.voucher_no).where(
        (table.c.company_id == company_id) & table.c.event_key.in_(list(event_keys))
        & table.c.reversal_of.is_(None)).order_by(table.c.id)).all()
    cancelled = [row._asdict() for row in found if row.state != "posted"]
    if cancelled:
        ids = [row["id"] for row in cancelled]
        connection.execute(lines.delete().where(lines.c.voucher_id.in_(ids)))
        connection.execute(table.delete().where(table.c.id.in_(ids)))
    return cancelled, [row._asdict() for row in found if row.state == "posted"]


def review(engine: Engine, company_id: str, ids: Sequence[int], by: str) -> None:
    with engine.begin() as connection:
        review_vouchers(connection, company_id, ids, by)


def review_vouchers(connection: Connection, company_id: str, ids: Sequence[int], by: str) -> None:
    """``review`` inside the caller's transaction (approving from the queue reviews, posts and audits at once)."""
    table = VoucherRow.__table__
    for row in connection.execute(select(table).where((table.c.company_id == company_id) & table.c.id.in_(ids))):
        if row.state != "draft":
            raise BookError(f"voucher {row.id} is {row.state}, not a draft")
        if row.prepared_by == by:
            raise BookError(f"voucher {row.id}: {by} prepared it and cannot also review it (segregation of duties)")
    connection.execute(update(table).where((table.c.company_id == company_id) & table.c.id.in_(ids))
                       .values(state="reviewed", reviewed_by=by))


def _take(connection: Connection, company_id: str, period: str, word: str, count: int) -> int:
    """Reserve ``count`` numbers from a counter; returns the first. The UPDATE's row lock
    (PostgreSQL) or write lock (SQLite) serialises posters; a rollback gives the numbers back."""
    table = VoucherCounter.__table__
    where = (table.c.company_id == company_id) & (table.c.period == period) & (table.c.word == word)
    last = connection.execute(update(table).where(where).values(last_number=table.c.last_number + count)
                              .returning(table.c.last_number)).scalar_one()
    return last - count + 1


def _canonical(row, lines) -> bytes:
    content = {"voucher_no": row.voucher_no, "date": row.voucher_date.isoformat(), "word": row.word,
               "event": row.event_key, "currency": row.currency, "doc": [row.doc_type, row.doc_no],
               "reversal_of": row.reversal_of, "posted_by": row.posted_by, "chain_seq": row.chain_seq,
               "lines": [[ln.line_no, ln.account_code, ln.debit_minor, ln.credit_minor, ln.summary, ln.customer,
                          ln.supplier, ln.project, ln.department, ln.product_line] for ln in lines]}
    return json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _digest(previous: str, row, lines) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\x1e" + _canonical(row, lines)).hexdigest()


def post(engine: Engine, company_id: str, ids: Sequence[int], by: str,
         on_numbered: Callable[[int, str], None] | None = None) -> list[str]:
    """Post reviewed vouchers, all or none, in date order; returns their numbers.

    Set-based: one counter update per (period, word) and one for the chain, one read of all
    lines, one executemany of the posted rows, whatever the number of vouchers.
    """
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    with engine.begin() as connection:
        _insert_ignore(connection, VoucherCounter.__table__,
                       {"company_id": company_id, "period": CHAIN, "word": CHAIN, "last_number": 0})
    with engine.begin() as connection:
        return post_vouchers(connection, company_id, ids, by, on_numbered)


def post_vouchers(connection: Connection, company_id: str, ids: Sequence[int], by: str,
                  on_numbered: Callable[[int, str], None] | None = None) -> list[str]:
    """``post`` inside the caller's transaction: a rollback of it gives the numbers back."""
    table, lines = VoucherRow.__table__, VoucherLineRow.__table__
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    _insert_ignore(connection, VoucherCounter.__table__,
                   {"company_id": company_id, "period": CHAIN, "word": CHAIN, "last_number": 0})
    # the first statements write, so SQLite takes its write lock before reading anything
    first_seq = _take(connection, company_id, CHAIN, CHAIN, len(ids))
    rows = []
    for start in range(0, len(ids), 900):
        rows += connection.execute(select(table).where(
            (table.c.company_id == company_id) & table.c.id.in_(ids[start:start + 900]))).all()
    rows.sort(key=lambda r: (r.voucher_date, r.id))
    if len(rows) != len(ids):
        raise BookError(f"vouchers {sorted(set(ids) - {r.id for r in rows})} do not exist")
    for row in rows:
        if row.state != "reviewed":
            raise BookError(f"voucher {row.id} is {row.state}: only reviewed vouchers are posted")
        if row.prepared_by == by:
            raise BookError(f"voucher {row.id}: {by} prepared it and cannot post it (segregation of duties)")
    for period in sorted({row.period for row in rows}):
        _open_period(connection, company_id, period)
    groups: dict[tuple[str, str], int] = {}
    for row in rows:
        groups[(row.period, row.word)] = groups.get((row.period, row.word), 0) + 1
    next_number: dict[tuple[str, str], int] = {}
    for (period, word), count in sorted(groups.items()):
        _insert_ignore(connection, VoucherCounter.__table__,
                       {"company_id": company_id, "period": period, "word": word, "last_number": 0})
        next_number[(period, word)] = _take(connection, company_id, period, word, count)
    by_voucher: dict[int, list] = {}
    for start in range(0, len(ids), 900):
        for line in connection.execute(select(lines).where(lines.c.voucher_id.in_(ids[start:start + 900]))
                                       .order_by(lines.c.voucher_id, lines.c.line_no)):
            by_voucher.setdefault(line.voucher_id, []).append(line)
    previous = connection.execute(select(table.c.hash).where(
        (table.c.company_id == company_id) & (table.c.chain_seq == first_seq - 1))).scalar_one_or_none() or ""
    now, numbers, updates = datetime.now(UTC), [], []
    for offset, row in enumerate(rows):
        number = next_number[(row.period, row.word)]
        next_number[(row.period, row.word)] = number + 1
        values = {"state": "posted", "number": number, "voucher_no": f"{row.word}-{row.period}-{number:04d}",
                  "posted_by": by, "posted_at": now, "chain_seq": first_seq + offset, "prev_hash": previous}
        values["hash"] = previous = _digest(previous, SimpleNamespace(**{**row._asdict(), **values}),
                                            by_voucher.get(row.id, []))
        updates.append({"voucher": row.id, **values})
        numbers.append(values["voucher_no"])
        if on_numbered is not None:
            on_numbered(row.id, values["voucher_no"])
    connection.execute(update(table).where(table.c.id == bindparam("voucher")).values(
        **{key: bindparam(key) for key in updates[0] if key != "voucher"}), updates)
    return numbers


def _open_period(connection: Connection, company_id: str, period: str) -> None:
    table = AccountingPeriod.__table__
    state = connection.execute(select(table.c.state).where(
        (table.c.company_id == company_id) & (table.c.period == period))).scalar_one_or_none()
    if state == "closed":
        raise BookError(f"period {period} is closed: reopen it (finance admin, with a reason) to post into it")


def reverse(engine: Engine, company_id: str, voucher_id: int, by: str, reason: str) -> int:
    """A red-letter (红字) copy of a posted voucher, drafted and linked to it; returns its id."""
    if not reason.strip():
        raise BookError("a reversal needs a reason")
    table, lines = VoucherRow.__table__, VoucherLineRow.__table__
    with engine.begin() as connection:
        original = connection.execute(select(table).where(
            (table.c.company_id == company_id) & (table.c.id == voucher_id))).one_or_none()
        if original is None or original.state != "posted":
            raise BookError(f"voucher {voucher_id} is not posted: only posted vouchers are reversed")
        if original.reversal_of is not None:
            raise BookError(f"voucher {original.voucher_no} is itself a reversal and cannot be reversed")
        if connection.execute(select(table.c.id).where(table.c.reversal_of == voucher_id)).first():
            raise BookError(f"voucher {original.voucher_no} has been reversed already")
        [new_id] = insert_rows(connection, table, [{
            "company_id": company_id, "event_key": f"reversal:{original.event_key}", "event_kind": "reversal",
            "word": original.word, "period": original.period, "voucher_date": original.voucher_date,
            "state": "draft", "doc_type": original.doc_type, "doc_no": original.doc_no,
            "currency": original.currency, "template_version": original.template_version,
            "reversal_of": voucher_id, "reason": reason, "prepared_by": by}], return_ids=True)
        insert_rows(connection, lines, [
            {"voucher_id": new_id, "line_no": ln.line_no, "account_code": ln.account_code,
             "account_name": ln.account_name, "debit_minor": -ln.debit_minor, "credit_minor": -ln.credit_minor,
             "summary": f"冲销 {original.voucher_no}: {ln.summary}", "customer": ln.customer, "supplier": ln.supplier,
             "project": ln.project, "department": ln.department, "product_line": ln.product_line}
            for ln in connection.execute(select(lines).where(lines.c.voucher_id == voucher_id)
                                        .order_by(lines.c.line_no))])
    return new_id


SEVERITIES = ("low", "medium", "high", "critical")


def set_period(engine: Engine, company_id: str, period: str, state: str, by: str, reason: str = "",
               block_severity: str = "high") -> None:
    """Close a period (every voucher in it posted, no open exception at or above
    ``block_severity``) or reopen it (a reason is required)."""
    vouchers, periods = VoucherRow.__table__, AccountingPeriod.__table__
    with engine.begin() as connection:
        if state == "closed":
            pending = connection.execute(select(vouchers.c.id).where(
                (vouchers.c.company_id == company_id) & (vouchers.c.period == period)
                & (vouchers.c.state != "posted"))).scalars().all()
            if pending:
                raise BookError(f"period {period} has {len(pending)} voucher(s) not posted: post them first")
            blocking = SEVERITIES[SEVERITIES.index(block_severity):]
            items = ExceptionItemRow.__table__
            open_items = connection.execute(select(items.c.code).where(
                (items.c.company_id == company_id) & items.c.status.in_(("open", "in_review", "snoozed"))
                & items.c.severity.in_(blocking))).scalars().all()
            if open_items:
                raise BookError(f"period {period} cannot close: {len(open_items)} open exception(s) of severity "
                                f"{block_severity} or above ({', '.join(sorted(set(open_items)))}); resolve them first")
        elif not reason.strip():
            raise BookError(f"reopening period {period} needs a reason")
        values = {"state": state, "changed_by": by, "changed_at": datetime.now(UTC), "reason": reason}
        where = (periods.c.company_id == company_id) & (periods.c.period == period)
        if connection.execute(update(periods).where(where).values(**values)).rowcount == 0:
            connection.execute(periods.insert().values(company_id=company_id, period=period, **values))


def verify_chain(engine: Engine, company_id: str) -> Broken | None:
    """Recompute the chain over posted vouchers; the first one whose stored hash disagrees."""
    table, lines = VoucherRow.__table__, VoucherLineRow.__table__
    with engine.connect() as connection:
        by_voucher: dict[int, list] = {}
        for line in connection.execute(select(lines).join(table, lines.c.voucher_id == table.c.id)
                                       .where(table.c.company_id == company_id).order_by(lines.c.line_no)):
            by_voucher.setdefault(line.voucher_id, []).append(line)
        previous = ""
        for expected_seq, row in enumerate(connection.execute(
                select(table).where((table.c.company_id == company_id) & (table.c.state == "posted"))
                .order_by(table.c.chain_seq)), start=1):
            if row.chain_seq != expected_seq or (row.prev_hash or "") != previous:
                return Broken(row.voucher_no or str(row.id), row.chain_seq, "the chain skips or reorders a voucher")
            if _digest(previous, row, by_voucher.get(row.id, [])) != row.hash:
                return Broken(row.voucher_no, row.chain_seq, "its content no longer matches its hash")
            previous = row.hash
    return None
