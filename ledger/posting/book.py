"""The voucher book: drafts → reviewed (审核) → posted (记账), gapless numbers, red-letter
reversals, period close and a tamper-evident hash chain.

    save_drafts(engine, "acme", vouchers)          # idempotent: one voucher per business event
    review(engine, "acme", ids, by="li.kuaiji")    # the agent prepared them; a person reviews
    post(engine, "acme", ids, by="wang.zhuguan")   # numbers 记-2026-11-0001… in this transaction
    reverse(engine, "acme", voucher_id, by=…, reason=…)   # 红字冲销, a draft to review and post
    reverse_settlement(engine, "acme", txn_no, …)  # unmatching a link reverses its vouchers
    verify_chain(engine, "acme")                   # None, or the first voucher whose hash breaks

An event whose voucher was reversed (or whose unposted voucher was discarded) is booked
again under a revision of its key (``bank_txn:x@r2``), so the next sync drafts the voucher
the event now calls for. Posting and the chain live in ledger.posting.chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, delete, select, update

from ledger.money import Money
from ledger.posting import raw
from ledger.posting.audit import append_event
from ledger.posting.chain import LINE, BookError, Broken, content_hash, post, post_vouchers, verify_chain
from ledger.posting.tables import AccountingPeriod, VoucherLineRow, VoucherRow
from ledger.posting.vouchers import REVISION, Voucher, bank_event_key, base_key, revision_of
from ledger.storage.bulk import insert_values
from ledger.storage.review_tables import ReviewUser
from ledger.storage.tables import ExceptionItemRow

__all__ = [
    "AGENT",
    "SEVERITIES",
    "BookError",
    "Broken",
    "cancel_drafts",
    "post",
    "post_vouchers",
    "reverse",
    "reverse_events",
    "reverse_settlement",
    "review",
    "review_vouchers",
    "save_drafts",
    "set_period",
    "verify_chain",
]

AGENT = "yecai"
#: the kind of a reversal after which the event is booked again as it now stands
REBOOK = "reversal_rebook"
DIMENSIONS = ("customer", "supplier", "project", "department", "product_line")
VOUCHER_COLUMNS = ("company_id", "event_key", "event_kind", "word", "period", "voucher_date", "state", "doc_type",
                   "doc_no", "currency", "template_version", "reason", "prepared_by", "base_currency", "fx_rate",
                   "fx_rate_date", "fx_source", "content_hash")
LINE_COLUMNS = ("voucher_id", *LINE)


@dataclass(frozen=True, slots=True)
class Booked:
    """The voucher an event has now: the newest revision of its key, and whether it still stands."""

    voucher_id: int
    event_key: str
    state: str
    base_currency: str
    standing: bool      # False once reversed to be booked again (unmatching): it gets a new revision


#: up to this many event keys are looked up one by one; more read the company's whole book
FEW_KEYS = 50


def booked(connection: Connection, company_id: str, keys: Sequence[str] | None = None) -> dict[str, Booked]:
    """The current voucher per business event (base key), reversals left out; with a few
    ``keys`` only those events (and their revisions) are read."""
    query = ("SELECT v.id, v.event_key, v.state, v.base_currency, r.event_kind FROM voucher v "
             "LEFT JOIN voucher r ON r.reversal_of = v.id WHERE v.company_id = ? AND v.reversal_of IS NULL")
    params: list = [company_id]
    if keys is not None and len(keys) <= FEW_KEYS:
        if not keys:
            return {}
        query += " AND (" + " OR ".join("v.event_key = ? OR v.event_key LIKE ? ESCAPE '!'" for _ in keys) + ")"
        for key in keys:
            escaped = key.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            params += [key, f"{escaped}{REVISION}%"]
    rows = raw.fetch(connection, query, params)
    current: dict[str, Booked] = {}
    for voucher_id, event_key, state, base_currency, reversal_kind in rows:
        key = base_key(event_key)
        known = current.get(key)
        if known is None or revision_of(event_key) > revision_of(known.event_key):
            current[key] = Booked(voucher_id, event_key, state, base_currency, reversal_kind != REBOOK)
    return current


def _minor(amount: Money) -> int:
    return 0 if not amount.amount else amount.to_minor()


def _line_content(voucher: Voucher) -> list[tuple]:
    """The voucher's lines in chain.LINE order."""
    lines = []
    for line in voucher.lines:
        dimensions = line.dimensions
        debit, credit = _minor(line.debit), _minor(line.credit)
        base_debit = debit if line.base_debit is None else _minor(line.base_debit)
        base_credit = credit if line.base_credit is None else _minor(line.base_credit)
        lines.append((line.line_no, line.account_code, line.account_name, debit, credit, line.summary,
                      dimensions.get("customer", ""), dimensions.get("supplier", ""), dimensions.get("project", ""),
                      dimensions.get("department", ""), dimensions.get("product_line", ""), base_debit, base_credit))
    return lines


def _voucher_tuple(connection: Connection, company_id: str, voucher: Voucher, event_key: str, prepared_by: str,
                   lines: list[tuple]) -> tuple:
    """The voucher in VOUCHER_COLUMNS order, its content hash last."""
    event, conversion = voucher.event, voucher.conversion
    rate = "1" if conversion is None else format(conversion.rate, "f")
    rate_date = None if conversion is None else conversion.rate_date
    source = "" if conversion is None else conversion.source
    content = content_hash((event_key, event.date.isoformat(), voucher.word, event.currency, event.doc_type,
                            event.doc_no, None, voucher.base_currency, rate,
                            None if rate_date is None else rate_date.isoformat(), source), lines)
    day = event.date
    return (company_id, event_key, event.kind, voucher.word, f"{day.year:04d}-{day.month:02d}",
            raw.db_date(connection, day), "draft", event.doc_type, event.doc_no, event.currency,
            voucher.template_version, "", prepared_by, voucher.base_currency, rate,
            raw.db_date(connection, rate_date), source, content)


def save_drafts(engine: Engine, company_id: str, vouchers: Iterable[Voucher], prepared_by: str = AGENT) -> list[int]:
    """Store vouchers as drafts; an event booked already is left alone. Returns the new ids.

    An unposted voucher kept in its own currency for want of a rate is replaced once the
    event's new voucher has a conversion (it must be reviewed again: its amounts changed).
    """
    with engine.begin() as connection:
        return draft_vouchers(connection, company_id, vouchers, prepared_by)


def draft_vouchers(connection: Connection, company_id: str, vouchers: Iterable[Voucher],
                   prepared_by: str = AGENT) -> list[int]:
    """``save_drafts`` inside the caller's transaction (the review queue drafts a write-off with its audit event)."""
    vouchers = list(vouchers)
    current = booked(connection, company_id, [v.event.key for v in vouchers])
    new, keys, stale = [], [], []
    for voucher in vouchers:
        known = current.get(voucher.event.key)
        key = voucher.event.key
        if known is not None and known.standing:
            if known.state == "posted" or known.base_currency == voucher.base_currency:
                continue
            stale.append(known.voucher_id)
            key = known.event_key
        elif known is not None:
            key = f"{voucher.event.key}{REVISION}{revision_of(known.event_key) + 1}"
        new.append(voucher)
        keys.append(key)
        current[voucher.event.key] = Booked(0, key, "draft", voucher.base_currency, True)
    if stale:
        _discard(connection, stale)
    if not new:
        return []
    contents = [_line_content(v) for v in new]
    rows = [_voucher_tuple(connection, company_id, v, k, prepared_by, lines)
            for v, k, lines in zip(new, keys, contents)]
    if raw.is_postgres(connection):
        ids = [i for (i,) in raw.fetch(connection, "SELECT nextval(pg_get_serial_sequence('voucher', 'id')) "
                                                   "FROM generate_series(1, ?)", (len(rows),))]
        insert_values(connection, "voucher", ("id", *VOUCHER_COLUMNS), [(i, *r) for i, r in zip(ids, rows)])
    else:
        insert_values(connection, "voucher", VOUCHER_COLUMNS, rows)
        by_key = dict(raw.fetch_by_ids(
            connection, "SELECT event_key, id FROM voucher WHERE company_id = ? AND event_key IN ({ids})", keys,
            params=(company_id,), fallback="SELECT event_key, id FROM voucher WHERE company_id = ? "
                                           "AND state = 'draft'"))
        ids = [by_key[k] for k in keys]
    insert_values(connection, "voucher_line", LINE_COLUMNS,
                  [(voucher_id, *line) for voucher_id, lines in zip(ids, contents) for line in lines])
    return ids


def _discard(connection: Connection, ids: Sequence[int]) -> None:
    """Delete unposted vouchers (the triggers refuse posted ones)."""
    lines, table = VoucherLineRow.__table__, VoucherRow.__table__
    connection.execute(delete(lines).where(lines.c.voucher_id.in_(ids)))
    connection.execute(delete(table).where(table.c.id.in_(ids) & (table.c.state != "posted")))


def cancel_drafts(connection: Connection, company_id: str, event_keys: Sequence[str]) -> tuple[list[dict], list[dict]]:
    """Delete the vouchers of ``event_keys`` (any revision) not yet posted (draft or reviewed: no
    number, no chain), in the caller's transaction. Returns (cancelled, posted): a posted one stays
    in the books and needs a red-letter reversal by a person."""
    table = VoucherRow.__table__
    wanted = set(event_keys)
    matches = None
    for key in wanted:
        clause = (table.c.event_key == key) | table.c.event_key.like(f"{key}{REVISION}%")
        matches = clause if matches is None else matches | clause
    if matches is None:
        return [], []
    found = [row._asdict() for row in connection.execute(
        select(table.c.id, table.c.event_key, table.c.state, table.c.voucher_no).where(
            (table.c.company_id == company_id) & matches & table.c.reversal_of.is_(None)).order_by(table.c.id))
        if base_key(row.event_key) in wanted]
    cancelled = [row for row in found if row["state"] != "posted"]
    if cancelled:
        _discard(connection, [row["id"] for row in cancelled])
    return cancelled, [row for row in found if row["state"] == "posted"]


def review(engine: Engine, company_id: str, ids: Sequence[int], by: str) -> None:
    with engine.begin() as connection:
        review_vouchers(connection, company_id, ids, by)


def review_vouchers(connection: Connection, company_id: str, ids: Sequence[int], by: str) -> None:
    """``review`` inside the caller's transaction (approving from the queue reviews, posts and audits at once)."""
    ids = list(dict.fromkeys(ids))
    table = VoucherRow.__table__
    rows = raw.fetch_by_ids(connection, "SELECT id, state, prepared_by FROM voucher WHERE company_id = ? "
                                        "AND id IN ({ids})", ids, params=(company_id,))
    if len(rows) != len(ids):
        raise BookError(f"vouchers {sorted(set(ids) - {r[0] for r in rows})} do not exist")
    for voucher_id, state, prepared_by in rows:
        if state != "draft":
            raise BookError(f"voucher {voucher_id} is {state}, not a draft")
        if prepared_by == by:
            raise BookError(f"voucher {voucher_id}: {by} prepared it and cannot also review it "
                            f"(segregation of duties)")
    for start in range(0, len(ids), raw.IN_LIMIT):
        connection.execute(update(table).where((table.c.company_id == company_id)
                                               & table.c.id.in_(ids[start:start + raw.IN_LIMIT]))
                           .values(state="reviewed", reviewed_by=by))


def _reverse(connection: Connection, company_id: str, voucher_id: int, by: str, reason: str,
             on: date | None, kind: str = "reversal") -> int:
    table, lines_table = VoucherRow.__table__, VoucherLineRow.__table__
    original = connection.execute(select(table).where(
        (table.c.company_id == company_id) & (table.c.id == voucher_id))).one_or_none()
    if original is None or original.state != "posted":
        raise BookError(f"voucher {voucher_id} is not posted: only posted vouchers are reversed")
    if original.reversal_of is not None:
        raise BookError(f"voucher {original.voucher_no} is itself a reversal and cannot be reversed")
    if connection.execute(select(table.c.id).where(table.c.reversal_of == voucher_id)).first():
        raise BookError(f"voucher {original.voucher_no} has been reversed already")
    day = on or original.voucher_date
    event_key = f"reversal:{original.event_key}"
    lines = [(ln.line_no, ln.account_code, ln.account_name, -ln.debit_minor, -ln.credit_minor,
              f"冲销 {original.voucher_no}: {ln.summary}", ln.customer, ln.supplier, ln.project, ln.department,
              ln.product_line, -ln.base_debit_minor, -ln.base_credit_minor)
             for ln in connection.execute(select(lines_table).where(lines_table.c.voucher_id == voucher_id)
                                          .order_by(lines_table.c.line_no))]
    content = content_hash((event_key, day.isoformat(), original.word, original.currency, original.doc_type,
                            original.doc_no, voucher_id, original.base_currency, original.fx_rate,
                            None if original.fx_rate_date is None else original.fx_rate_date.isoformat(),
                            original.fx_source), lines)
    [new_id] = connection.execute(table.insert().values(
        company_id=company_id, event_key=event_key, event_kind=kind, word=original.word,
        period=day.strftime("%Y-%m"), voucher_date=day, state="draft", doc_type=original.doc_type,
        doc_no=original.doc_no, currency=original.currency, template_version=original.template_version,
        reversal_of=voucher_id, reason=reason, prepared_by=by, base_currency=original.base_currency,
        fx_rate=original.fx_rate, fx_rate_date=original.fx_rate_date, fx_source=original.fx_source,
        content_hash=content).returning(table.c.id)).one()
    insert_values(connection, "voucher_line", LINE_COLUMNS, [(new_id, *line) for line in lines])
    return new_id


def reverse(engine: Engine, company_id: str, voucher_id: int, by: str, reason: str, on: date | None = None) -> int:
    """A red-letter (红字) copy of a posted voucher, drafted and linked to it; returns its id.
    ``on`` dates it in another (open) period when the original's period is closed. The event
    stays booked: the correcting voucher is the preparer's to make."""
    if not reason.strip():
        raise BookError("a reversal needs a reason")
    with engine.begin() as connection:
        return _reverse(connection, company_id, voucher_id, by, reason, on)


@dataclass(frozen=True, slots=True)
class Undone:
    event_key: str
    voucher_id: int
    action: str              # "reversed" (a red-letter draft was made) or "discarded" (it was not posted)
    reversal_id: int | None = None


def reverse_events(engine: Engine, company_id: str, event_keys: Iterable[str], by: str, reason: str,
                   on: date | None = None) -> list[Undone]:
    """Undo the current voucher of each business event, in one transaction: a posted one gets
    a red-letter reversal draft, an unposted one is discarded. The next sync books the events
    again under a new revision of their keys, as they now stand."""
    if not reason.strip():
        raise BookError("undoing vouchers needs a reason")
    undone: list[Undone] = []
    with engine.begin() as connection:
        current = booked(connection, company_id)
        for key in dict.fromkeys(event_keys):
            known = current.get(key)
            if known is None or not known.standing:
                continue
            if known.state == "posted":
                reversal = _reverse(connection, company_id, known.voucher_id, by, reason, on, REBOOK)
                undone.append(Undone(known.event_key, known.voucher_id, "reversed", reversal))
            else:
                _discard(connection, [known.voucher_id])
                undone.append(Undone(known.event_key, known.voucher_id, "discarded"))
    return undone


def reverse_settlement(engine: Engine, company_id: str, txn_no: str, by: str, reason: str,
                       on: date | None = None) -> list[Undone]:
    """Unmatching a settled link (invoice → bank transaction ``txn_no``): the transaction's
    voucher and the exchange differences booked on its settlements are undone."""
    prefix = f"fx_difference:{txn_no}:"
    with engine.connect() as connection:
        fx_keys = [k for k in booked(connection, company_id) if k.startswith(prefix)]
    return reverse_events(engine, company_id, [bank_event_key(txn_no), *fx_keys], by, reason, on)


SEVERITIES = ("low", "medium", "high", "critical")


#: the role a person needs to reopen a closed period (review/roles.py ROLES)
REOPEN_ROLE = "finance_admin"


def _roles(connection: Connection, username: str) -> set[str]:
    users = ReviewUser.__table__
    row = connection.execute(select(users.c.roles, users.c.disabled).where(users.c.username == username)).first()
    if row is None or row.disabled:
        return set()
    return {r.strip() for r in row.roles.split(",") if r.strip()}


def set_period(engine: Engine, company_id: str, period: str, state: str, by: str, reason: str = "",
               block_severity: str = "high") -> None:
    """Close a period (every voucher in it posted, no open exception at or above
    ``block_severity``) or reopen it (a user with the finance_admin role, and a reason).
    Either change is appended to the audit chain in the same transaction."""
    vouchers, periods = VoucherRow.__table__, AccountingPeriod.__table__
    with engine.begin() as connection:
        where = (periods.c.company_id == company_id) & (periods.c.period == period)
        before = connection.execute(select(periods.c.state).where(where)).scalar_one_or_none() or "open"
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
        else:
            if not reason.strip():
                raise BookError(f"reopening period {period} needs a reason")
            if REOPEN_ROLE not in _roles(connection, by):
                raise BookError(f"reopening period {period} needs the {REOPEN_ROLE} role, which {by!r} does not "
                                f"have (yecai users add/roles)")
        values = {"state": state, "changed_by": by, "changed_at": datetime.now(UTC), "reason": reason}
        if connection.execute(update(periods).where(where).values(**values)).rowcount == 0:
            connection.execute(periods.insert().values(company_id=company_id, period=period, **values))
        append_event(connection, company_id, actor=by, role=REOPEN_ROLE if state == "open" else "",
                     action="period_reopen" if state == "open" else "period_close", subject=f"period:{period}",
                     before={"state": before}, after={"state": state}, reason=reason)
