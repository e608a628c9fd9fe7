"""Posting (记账) and the tamper-evident hash chain over posted vouchers.

    post(engine, "acme", ids, by="wang.zhuguan")   # 记-2026-11-0001…, all or none
    verify_chain(engine, "acme")                   # None, or the first voucher whose hash breaks

A voucher's content (header and every line, amounts in minor units) has canonical bytes,
compact JSON, hashed once when the voucher is drafted (``content_hash``). Posting chains it:

    hash = SHA-256(previous hash ‖ 0x1E ‖ voucher_no, posted_by, chain position, content_hash)

``verify_chain`` recomputes every content hash from the stored rows, never trusting the stored
one, so changing any stored amount, account, dimension, rate or number breaks the chain at
that voucher. (Editing a draft's lines behind the application's back is caught the same way:
the posted hash then covers content the lines no longer have.)

Posting is set-based: one counter UPDATE per (period, word) reserves the numbers (the row lock
serialises posters; a rollback gives the numbers back, so posted numbers are exactly 1..N),
one read of the vouchers, one aggregate that every voucher balances in its currency and in
the base currency, the chain in a tight loop whose rows stream into a temporary table as they
are made (executemany on SQLite, COPY on PostgreSQL, so the server stores while the client
hashes), then one UPDATE … FROM posts them all, and one aggregate checks, before the
transaction commits, that every period and word posted into is numbered 1 up to its counter. One
statement instead of one per voucher matters: the immutability triggers make every UPDATE
statement two-pass on SQLite. On PostgreSQL no index covers a column that posting changes
(migration 0011), so each voucher is updated in place (HOT) without writing index entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter

from sqlalchemy import Connection, Engine, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.faults import checkpoint
from ledger.posting import raw
from ledger.posting.tables import VoucherCounter, VoucherRow

CHAIN = "chain"

#: the voucher columns the content covers, in canonical order (dates as ISO text)
CONTENT = ("event_key", "voucher_date", "word", "currency", "doc_type", "doc_no", "reversal_of", "base_currency",
           "fx_rate", "fx_rate_date", "fx_source")
#: the line columns the content covers
LINE = ("line_no", "account_code", "account_name", "debit_minor", "credit_minor", "summary", "customer", "supplier",
        "project", "department", "product_line", "base_debit_minor", "base_credit_minor")
_DATES = (CONTENT.index("voucher_date"), CONTENT.index("fx_rate_date"))


class BookError(ValueError):
    """A refused action; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Broken:
    voucher_no: str
    chain_seq: int
    reason: str


def content_hash(header: Sequence, lines: Sequence[Sequence]) -> str:
    """SHA-256 of a voucher's canonical bytes: ``header`` in CONTENT order, ``lines`` in LINE
    order, sorted by line number."""
    return hashlib.sha256(json.dumps((header, lines), ensure_ascii=False, separators=(",", ":"))
                          .encode("utf-8")).hexdigest()


def chain_link(previous: str, voucher_no: str, posted_by: str, chain_seq: int, content: str) -> str:
    return hashlib.sha256(f"{previous}\x1e{voucher_no}\x1f{posted_by}\x1f{chain_seq}\x1f{content}"
                          .encode()).hexdigest()


def _header(row: Sequence) -> list:
    header = list(row)
    for index in _DATES:
        header[index] = raw.iso(header[index])
    return header


def insert_ignore(connection: Connection, table, values: dict) -> None:
    dialect = postgresql if raw.is_postgres(connection) else sqlite
    connection.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())


def take_numbers(connection: Connection, company_id: str, period: str, word: str, count: int) -> int:
    """Reserve ``count`` numbers from a counter in one UPDATE; returns the first."""
    table = VoucherCounter.__table__
    insert_ignore(connection, table, {"company_id": company_id, "period": period, "word": word, "last_number": 0})
    where = (table.c.company_id == company_id) & (table.c.period == period) & (table.c.word == word)
    last = connection.execute(update(table).where(where).values(last_number=table.c.last_number + count)
                              .returning(table.c.last_number)).scalar_one()
    return last - count + 1


def lines_by_voucher(connection: Connection, company_id: str, ids: Sequence[int], state: str) -> dict[int, list]:
    """Lines in LINE order per voucher; many ids read the company's vouchers in ``state``."""
    columns = ", ".join(f"l.{c}" for c in ("voucher_id", *LINE))
    many = len(ids) > raw.IN_LIMIT
    rows = raw.fetch_by_ids(
        connection, f"SELECT {columns} FROM voucher_line l WHERE l.voucher_id IN ({{ids}})", ids,
        params=(company_id, state) if many else (),
        fallback=f"SELECT {columns} FROM voucher_line l JOIN voucher v ON v.id = l.voucher_id "
                 f"WHERE v.company_id = ? AND v.state = ?")
    wanted = set(ids)
    by_voucher: dict[int, list] = {}
    for line in rows:
        if line[0] in wanted:
            by_voucher.setdefault(line[0], []).append(list(line[1:]))
    for lines in by_voucher.values():
        lines.sort()
    return by_voucher


HEADER = ("id", "state", "prepared_by", "period", "word", "currency", "base_currency", "content_hash", "voucher_date")


def _by_ids(connection: Connection, columns: str, table: str, ids: list[int], where: str, params: Sequence,
            fallback: str, tail: str = "") -> list[tuple]:
    """Rows of ``table`` whose ``voucher_id``/``id`` column is in ``ids``: one ``= ANY(array)`` on
    PostgreSQL, IN lists (or ``fallback``, filtered by the caller) on SQLite."""
    key = "l.voucher_id" if table.endswith(" l") else "id"
    if raw.is_postgres(connection):
        array = "{" + ",".join(map(str, ids)) + "}"   # one text literal: psycopg dumps a list int by int
        return raw.fetch(connection, f"SELECT {columns} FROM {table} WHERE {where}{key} = ANY(?::integer[]) {tail}",
                         (*params, array))
    return raw.fetch_by_ids(connection, f"SELECT {columns} FROM {table} WHERE {where}{key} IN ({{ids}}) {tail}",
                            ids, params=params, fallback=f"{fallback} {tail}")


def _reviewed(connection: Connection, company_id: str, ids: list[int], by: str) -> list[tuple]:
    columns = ", ".join(HEADER)
    wanted = set(ids)
    rows = [r for r in _by_ids(connection, columns, "voucher", ids, "company_id = ? AND state = 'reviewed' AND ",
                               (company_id,), f"SELECT {columns} FROM voucher WHERE company_id = ? "
                                              f"AND state = 'reviewed'") if r[0] in wanted]
    if len(rows) != len(ids):
        found = {r[0] for r in rows}
        states = dict(raw.fetch_by_ids(connection, "SELECT id, state FROM voucher WHERE company_id = ? "
                                                   "AND id IN ({ids})", [i for i in ids if i not in found],
                                       params=(company_id,)))
        missing = sorted(i for i in ids if i not in found and i not in states)
        if missing:
            raise BookError(f"vouchers {missing} do not exist")
        voucher_id, state = min(states.items())
        raise BookError(f"voucher {voucher_id} is {state}: only reviewed vouchers are posted")
    base = raw.fetch(connection, "SELECT base_currency FROM company WHERE id = ?", (company_id,))
    if not base:
        raise BookError(f"company {company_id!r} is not in the database: run yecai sync first")
    for voucher_id, _state, prepared_by, _period, _word, currency, base_currency, *_ in rows:
        if prepared_by == by:
            raise BookError(f"voucher {voucher_id}: {by} prepared it and cannot post it (segregation of duties)")
        if (base_currency or currency) != base[0][0]:
            raise BookError(f"voucher {voucher_id} is in {currency} with no conversion into the base currency "
                            f"{base[0][0]}: add the rate (yecai fx add) and run yecai sync, which redrafts it")
    return rows


def _unbalanced(connection: Connection, company_id: str, ids: list[int]) -> None:
    having = ("GROUP BY l.voucher_id HAVING sum(l.debit_minor) <> sum(l.credit_minor) "
              "OR sum(l.base_debit_minor) <> sum(l.base_credit_minor)")
    wanted = set(ids)
    bad = [r[0] for r in _by_ids(
        connection, "l.voucher_id", "voucher_line l", ids, "",
        (company_id,) if len(ids) > raw.IN_LIMIT and not raw.is_postgres(connection) else (),
        "SELECT l.voucher_id FROM voucher_line l JOIN voucher v ON v.id = l.voucher_id "
        "WHERE v.company_id = ? AND v.state = 'reviewed'", having) if r[0] in wanted]
    if bad:
        raise BookError(f"voucher(s) {sorted(bad)[:10]} do not balance in minor units (in their currency or in "
                        f"the base currency): correct the draft first")


def _contents(connection: Connection, company_id: str, ids: list[int]) -> dict[int, str]:
    """Content hashes of vouchers drafted before content hashes existed (migration 0009)."""
    rows = raw.fetch_by_ids(connection, f"SELECT id, {', '.join(CONTENT)} FROM voucher WHERE id IN ({{ids}})", ids)
    lines = lines_by_voucher(connection, company_id, ids, "reviewed")
    return {row[0]: content_hash(_header(row[1:]), lines.get(row[0], [])) for row in rows}


def post(engine: Engine, company_id: str, ids: Sequence[int], by: str,
         on_numbered: Callable[[int, str], None] | None = None) -> list[str]:
    """Post reviewed vouchers, all or none, in date order; returns their numbers."""
    with engine.begin() as connection:
        numbers = post_vouchers(connection, company_id, ids, by, on_numbered)
    checkpoint("posted")
    return numbers


def post_vouchers(connection: Connection, company_id: str, ids: Sequence[int], by: str,
                  on_numbered: Callable[[int, str], None] | None = None) -> list[str]:
    """``post`` inside the caller's transaction (approving from the queue reviews, posts and audits
    at once): a rollback of it gives the numbers back."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    # the first statement writes, so SQLite takes its write lock before anything is read
    first_seq = take_numbers(connection, company_id, CHAIN, CHAIN, len(ids))
    rows = _reviewed(connection, company_id, ids, by)
    _unbalanced(connection, company_id, ids)
    rows.sort(key=itemgetter(HEADER.index("voucher_date"), 0))   # dates: ISO text on SQLite, date on PostgreSQL
    closed = {p for (p,) in raw.fetch(connection, "SELECT period FROM accounting_period WHERE company_id = ? "
                                                  "AND state = 'closed'", (company_id,))}
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        if row[3] in closed:
            raise BookError(f"period {row[3]} is closed: reopen it (finance admin, with a reason) to post into it")
        counts[(row[3], row[4])] = counts.get((row[3], row[4]), 0) + 1
    next_number = {key: take_numbers(connection, company_id, *key, n) for key, n in sorted(counts.items())}
    unhashed = [r[0] for r in rows if not r[7]]   # drafted before content hashes existed
    contents = _contents(connection, company_id, unhashed) if unhashed else {}
    previous = ""
    if first_seq > 1:
        previous = raw.fetch(connection, "SELECT hash FROM voucher WHERE company_id = ? AND chain_seq = ?",
                             (company_id, first_seq - 1))[0][0]
    numbers: list[str] = []

    def chained() -> Iterator[tuple]:
        nonlocal previous
        seq = first_seq
        for voucher_id, _state, _by, period, word, _cur, _base, content, _date in rows:
            content = content or contents[voucher_id]
            number = next_number[(period, word)]
            next_number[(period, word)] = number + 1
            voucher_no = f"{word}-{period}-{number:04d}"
            previous_hash, previous = previous, chain_link(previous, voucher_no, by, seq, content)
            numbers.append(voucher_no)
            if on_numbered is not None:
                on_numbered(voucher_id, voucher_no)
            yield voucher_id, number, voucher_no, seq, previous_hash, previous, content
            seq += 1

    _write_posted(connection, chained(), len(rows), by, datetime.now(UTC))
    _check_numbers(connection, company_id, next_number)
    return numbers


def _write_posted(connection: Connection, updates: Iterator[tuple], count: int, by: str, now: datetime) -> None:
    """The numbers and hashes into a temporary table as they are made (on PostgreSQL the server
    stores one chunk while the next is hashed), then one UPDATE … FROM posts every voucher."""
    posted_at = raw.db_datetime(connection, VoucherRow.__table__, "posted_at", now)
    postgres = raw.is_postgres(connection)
    with raw.cursor(connection) as cursor:
        cursor.execute("CREATE TEMPORARY TABLE yecai_posting (id integer PRIMARY KEY, number integer, "
                       "voucher_no text, chain_seq integer, prev_hash text, hash text, content_hash text)"
                       + (" ON COMMIT DROP" if postgres else ""))
        if postgres:
            with cursor.copy("COPY yecai_posting FROM STDIN") as copy:
                for chunk in _copy_text(updates):
                    copy.write(chunk)
        else:
            cursor.executemany("INSERT INTO yecai_posting VALUES (?, ?, ?, ?, ?, ?, ?)", updates)
        checkpoint("vouchers_numbered")
        cursor.execute(raw.sql(connection, "UPDATE voucher SET state = 'posted', number = t.number, "
                                           "voucher_no = t.voucher_no, chain_seq = t.chain_seq, "
                                           "prev_hash = t.prev_hash, hash = t.hash, content_hash = t.content_hash, "
                                           "posted_by = ?, posted_at = ? FROM yecai_posting t "
                                           "WHERE voucher.id = t.id AND voucher.state = 'reviewed'"), (by, posted_at))
        if cursor.rowcount != count:
            raise BookError("another poster changed these vouchers meanwhile: nothing was posted, try again")
        if not postgres:
            cursor.execute("DROP TABLE temp.yecai_posting")


_COPY_SPECIAL = frozenset("\\\t\n\r")


def _copy_text(updates: Iterator[tuple], size: int = 2000) -> Iterator[str]:
    """COPY text format, ``size`` rows a chunk. Ids, numbers and hex hashes need no escaping; a
    voucher number whose word holds a COPY special character goes through ``_copy_field``."""
    chunk: list[str] = []
    for voucher_id, number, voucher_no, seq, prev_hash, hash_, content in updates:
        if not _COPY_SPECIAL.isdisjoint(voucher_no):
            voucher_no = _copy_field(voucher_no)
        chunk.append(f"{voucher_id}\t{number}\t{voucher_no}\t{seq}\t{prev_hash}\t{hash_}\t{content}\n")
        if len(chunk) == size:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def _copy_field(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _check_numbers(connection: Connection, company_id: str, following: dict[tuple[str, str], int]) -> None:
    """Before the posting commits: every (period, word) it posted into holds as many numbered
    vouchers as its counter says, numbered 1 up to the counter, so a counter moved behind the
    book's back (a gap or a repeat) refuses the posting. The counters' row locks make numbers
    gapless; this exact check is the database-side guard that replaced UNIQUE (company, period, word,
    number) on PostgreSQL (migration 0011). A number written by hand is named by verify_chain."""
    periods = sorted({period for period, _word in following})
    found = raw.fetch(connection, f"SELECT period, word, count(number), count(DISTINCT number), min(number), "
                                  f"max(number) FROM voucher "
                                  f"WHERE company_id = ? AND period IN ({raw.marks(len(periods))}) "
                                  f"AND number IS NOT NULL GROUP BY period, word", (company_id, *periods))
    for period, word, count, distinct, low, high in found:
        last = following.get((period, word), 0) - 1
        # as many numbers as distinct ones, from 1 to the counter: exactly 1..N, no repeat, no gap
        if last >= 0 and not (count == distinct == high == last and low == 1):
            raise BookError(f"{word}-{period}: {count} numbered vouchers run {low}..{high} but the counter stands "
                            f"at {last}, and the numbers must run from 1 up to the counter: nothing was posted; "
                            f"run yecai ledger verify")


def verify_chain(engine: Engine, company_id: str) -> Broken | None:
    """Recompute the chain over posted vouchers; the first one whose stored hash disagrees, or
    whose number is not the next of its period and word (numbers run 1, 2, 3… in chain order)."""
    with engine.connect() as connection:
        rows = raw.fetch(connection, f"SELECT id, voucher_no, posted_by, chain_seq, prev_hash, hash, period, word, "
                                     f"number, {', '.join(CONTENT)} FROM voucher WHERE company_id = ? "
                                     f"AND state = 'posted' ORDER BY chain_seq", (company_id,))
        lines = lines_by_voucher(connection, company_id, [r[0] for r in rows] or [0], "posted")
    previous = ""
    numbered: dict[tuple[str, str], int] = {}
    for expected_seq, row in enumerate(rows, start=1):
        voucher_id, voucher_no, posted_by, seq, prev_hash, stored, period, word, number = row[:9]
        if seq != expected_seq or (prev_hash or "") != previous:
            return Broken(voucher_no or str(voucher_id), seq, "the chain skips or reorders a voucher")
        expected = numbered.get((period, word), 0) + 1
        if number != expected or voucher_no != f"{word}-{period}-{expected:04d}":
            return Broken(voucher_no or str(voucher_id), seq,
                          f"its number {number} is not the next of {word}-{period} ({expected}): a number "
                          f"repeats or is skipped")
        numbered[(period, word)] = expected
        content = content_hash(_header(row[9:]), lines.get(voucher_id, []))
        if chain_link(previous, voucher_no, posted_by, seq, content) != stored:
            return Broken(voucher_no, seq, "its content no longer matches its hash")
        previous = stored
    return None
