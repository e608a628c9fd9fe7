"""What the matcher keeps between runs.

- ``open_item``: invoices with money open, the nightly working set (loaded as columns);
- ``party_name``: each name seen and the party it resolved to (the resolution cache), which
  also holds a reviewer's answer to "who is this name?" (``decide_name``);
- ``match_cursor``: the last stored row each kind of run has worked through.

Reviewers' other decisions live with the review queue and are read from there: aliases are
``counterparty_alias`` rows (source 'review', ``review.learning.learn_alias``; read with the
master data, and any change of them invalidates the automatic cache entries through
``master_version``), rejected pairs are ``rejected_pair`` (``ledger.storage.decisions``).
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Connection, delete, func, select, update

from ledger.counterparties import PartyNames
from ledger.storage.bulk import driver_cursor, driver_rows, driver_rows_in, insert_rows, insert_values, param_mark
from ledger.storage.tables import (
    BankTxnRow,
    CounterpartyRow,
    DocumentRow,
    MatchCursor,
    OpenItemRow,
    PartyIndexRow,
    PartyNameRow,
)

INVOICE_KINDS = ("sales_invoice", "purchase_invoice")
AGENT = "yecai"


# --- reviewers' decisions ------------------------------------------------------------------
def _party_row_id(connection: Connection, company_id: str, counterparty_id: str) -> int:
    table = CounterpartyRow.__table__
    row_id = connection.execute(select(table.c.id).where(
        (table.c.company_id == company_id) & (table.c.external_id == counterparty_id))).scalar()
    if row_id is None:
        raise LookupError(f"company {company_id} has no counterparty {counterparty_id!r}")
    return row_id


def decide_name(connection: Connection, company_id: str, name: str, counterparty_id: str | None,
                decided_by: str) -> None:
    """A reviewer's answer to "who is this name?" (None: nobody we know); it outlives master data changes."""
    party = _party_row_id(connection, company_id, counterparty_id) if counterparty_id else None
    table = PartyNameRow.__table__
    connection.execute(delete(table).where((table.c.company_id == company_id) & (table.c.name == name)))
    connection.execute(table.insert().values(
        company_id=company_id, name=name, name_key="", party_id=party, level="reviewer" if party else "none",
        score=1.0 if party else 0.0, matched=counterparty_id or "", master_version="", decided_by=decided_by,
        decided_at=datetime.now(UTC)))


# --- the resolution cache ------------------------------------------------------------------
def master_version(connection: Connection, company_id: str, rules_version: str) -> str:
    """Changes whenever master data (parties, aliases, accounts) or the rules change.

    A digest of the content, not of surrogate ids: PostgreSQL sequences skip the ids of a
    rolled-back run, and the same master data must give the same version whatever happened."""
    digest = hashlib.sha256(rules_version.encode())
    text = "COALESCE({}, '')"   # every column is text
    queries = (
        f"SELECT {', '.join(text.format(c) for c in ('external_id', 'role', 'name', 'tax_id', 'country'))} "
        "FROM counterparty WHERE company_id = {}",
        f"SELECT {text.format('p.external_id')}, {text.format('a.alias')}, {text.format('a.source')} FROM "
        "counterparty_alias a JOIN counterparty p ON p.id = a.counterparty_id WHERE p.company_id = {}",
        f"SELECT {text.format('p.external_id')}, {text.format('b.account_no')} FROM counterparty_bank_account b "
        "JOIN counterparty p ON p.id = b.counterparty_id WHERE p.company_id = {}")
    for query in queries:
        rows = driver_rows(connection, query, (company_id,))   # plain tuples of text, sorted as before
        rows.sort()
        digest.update("".join("\x1f".join(row) + "\x1e" for row in rows).encode())
        digest.update(b"\x1d")
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CachedName:
    party: str | None       # counterparty external id
    level: str
    score: float
    matched: str
    key: str = ""           # the normalised name


def load_name_cache(connection: Connection, company_id: str, version: str | Callable[[], str],
                    only: Iterable[str] | None = None) -> dict[str, CachedName]:
    """Decisions still valid: automatic ones made against this master data, and every reviewer's.

    ``only``: just these names (a nightly delta asks for the names on its new transactions,
    not for every name ever seen). ``version`` may be where the master data's version comes from,
    called once the rows are read (a side of the cash step reads them while another process
    works the version out), which then keeps the valid ones."""
    query = ("SELECT n.name, p.external_id, n.level, n.score, n.matched, n.name_key, n.master_version, n.decided_by "
             "FROM party_name n LEFT JOIN counterparty p ON p.id = n.party_id WHERE n.company_id = {}")
    parameters: tuple = (company_id,)
    if not callable(version):   # known: the database keeps only the valid ones
        query += " AND (n.master_version = {} OR n.decided_by != {})"
        parameters += (version, AGENT)
    if only is None:
        rows = driver_rows(connection, query, parameters)
    else:
        rows = driver_rows_in(connection, query + " AND n.name IN ({values})", parameters, sorted(set(only)))
    if callable(version):
        current = version()
        rows = [row for row in rows if row[6] == current or row[7] != AGENT]
    return {name: CachedName(party, level, score, matched, key) for name, party, level, score, matched, key, *_ in rows}


def load_party_names(connection: Connection, company_id: str) -> tuple[list[PartyNames], dict[str, str]]:
    """(each party's names, in storage order; the cached normalised key of each of those names that has
    one), read in two queries of plain rows: what an index build needs, and no more."""
    # the key of a name rides along by the (company_id, name) unique index of the cache
    keyed = "LEFT JOIN party_name n ON n.company_id = p.company_id AND n.name = {}"
    parties = driver_rows(connection, f"SELECT p.id, p.external_id, p.name, n.name_key FROM counterparty p "
                          f"{keyed.format('p.name')} WHERE p.company_id = {{}} ORDER BY p.id", (company_id,))
    aliases: dict[int, list[str]] = {}
    keys = {name: key for _id, _party, name, key in parties if key}
    for row_id, alias, key in driver_rows(
            connection, "SELECT a.counterparty_id, a.alias, n.name_key FROM counterparty_alias a "
            f"JOIN counterparty p ON p.id = a.counterparty_id {keyed.format('a.alias')} "
            "WHERE p.company_id = {} ORDER BY a.id", (company_id,)):
        if alias.strip():
            aliases.setdefault(row_id, []).append(alias.strip())
            if key:
                keys[alias] = key
    return [PartyNames(party, _names(name, aliases.get(row_id))) for row_id, party, name, _key in parties], keys


def _names(name: str, aliases: list[str] | None) -> tuple[str, ...]:
    """A party's names, legal name first, each once (``tuple(dict.fromkeys(...))``, quick for the usual
    party of one alias or none)."""
    if not aliases:
        return (name,)
    if len(aliases) == 1:
        return (name,) if aliases[0] == name else (name, aliases[0])
    return tuple(dict.fromkeys((name, *aliases)))


def load_party_index(connection: Connection, company_id: str, version: str, code_version: str) -> dict | None:
    """The party index's tables kept for this master data and code (``PartyIndexRow``), or none: also where
    what is kept is not such tables (a cache: the index is built again, and kept in its place)."""
    table = PartyIndexRow.__table__
    text = connection.execute(select(table.c.tables).where(
        (table.c.company_id == company_id) & (table.c.master_version == version)
        & (table.c.code_version == code_version))).scalar()
    try:
        tables = json.loads(text) if text is not None else None
        if tables is not None and len(tables["keys"]) == len(tables["owners"]) == len(tables["source"]):
            return tables
    except (ValueError, TypeError, KeyError):
        pass
    return None


def save_party_index(connection: Connection, company_id: str, version: str, code_version: str, tables: str) -> None:
    """Keep ``tables`` (JSON of ``PartyIndex.tables``) as the company's party index, in place of any other."""
    table = PartyIndexRow.__table__
    connection.execute(delete(table).where(table.c.company_id == company_id))
    connection.execute(table.insert().values(company_id=company_id, master_version=version,
                                             code_version=code_version, tables=tables, made_at=datetime.now(UTC)))


def save_name_cache(connection: Connection, company_id: str, version: str,
                    decided: dict[str, tuple[str, CachedName]]) -> int:
    """Store new automatic decisions (name → (normalised key, decision)); stale automatic ones go."""
    names, parties = PartyNameRow.__table__, CounterpartyRow.__table__
    automatic = (names.c.company_id == company_id) & (names.c.decided_by == AGENT)
    for stale in (names.c.master_version < version, names.c.master_version > version):   # two index ranges
        connection.execute(delete(names).where(automatic & stale))
    if not decided:
        return 0
    row_of = dict(connection.execute(select(parties.c.external_id, parties.c.id)
                                     .where(parties.c.company_id == company_id)).all())
    known = {name for name, in driver_rows_in(connection, "SELECT name FROM party_name WHERE company_id = {} "
                                               "AND name IN ({values})", (company_id,), sorted(decided))}
    now = datetime.now(UTC)
    rows = [{"company_id": company_id, "name": name, "name_key": key, "party_id": row_of.get(d.party),
             "level": d.level, "score": d.score, "matched": d.matched, "master_version": version,
             "decided_by": AGENT, "decided_at": now}
            for name, (key, d) in decided.items() if name not in known]
    insert_rows(connection, names, rows)
    return len(rows)


def load_party_keys(connection: Connection, company_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(tax id → counterparty id, bank account → counterparty id), read as plain columns."""
    tax_ids = dict(driver_rows(connection, "SELECT tax_id, external_id FROM counterparty WHERE company_id = {} "
                               "AND tax_id IS NOT NULL", (company_id,)))
    by_account = {account.replace(" ", ""): party for account, party in driver_rows(
        connection, "SELECT b.account_no, p.external_id FROM counterparty_bank_account b JOIN counterparty p "
        "ON p.id = b.counterparty_id WHERE p.company_id = {}", (company_id,))}
    return tax_ids, by_account


# --- cursors -------------------------------------------------------------------------------
def get_cursor(connection: Connection, company_id: str, name: str) -> int:
    table = MatchCursor.__table__
    return connection.execute(select(table.c.position).where(
        (table.c.company_id == company_id) & (table.c.name == name))).scalar() or 0


def set_cursor(connection: Connection, company_id: str, name: str, position: int) -> None:
    table = MatchCursor.__table__
    done = connection.execute(update(table).where((table.c.company_id == company_id) & (table.c.name == name))
                              .values(position=position))
    if not done.rowcount:
        connection.execute(table.insert().values(company_id=company_id, name=name, position=position))


# --- open items ----------------------------------------------------------------------------
def refresh_open_items(connection: Connection, company_id: str,
                       resolve: Callable[[list[str], list[str | None]], list[str | None]]) -> int:
    """Add the invoices stored since the last refresh to ``open_item``; ``resolve`` maps
    (names, tax ids) to counterparty ids. Returns how many were added."""
    documents, parties = DocumentRow.__table__, CounterpartyRow.__table__
    since = get_cursor(connection, company_id, "invoice")
    rows = connection.execute(
        select(documents.c.id, documents.c.kind, documents.c.doc_no, documents.c.counterparty,
               documents.c.counterparty_tax_id, documents.c.currency, documents.c.net_minor, documents.c.tax_minor,
               documents.c.doc_date, documents.c.due_date)
        .where((documents.c.company_id == company_id) & documents.c.kind.in_(INVOICE_KINDS)
               & (documents.c.id > since)).order_by(documents.c.id)).all()
    if not rows:
        return 0
    party_ids = resolve([r.counterparty for r in rows], [r.counterparty_tax_id for r in rows])
    row_of = dict(connection.execute(select(parties.c.external_id, parties.c.id)
                                     .where(parties.c.company_id == company_id)).all())
    columns = ("company_id", "document_id", "doc_type", "doc_no", "party_id", "currency", "gross_minor",
               "open_minor", "doc_date", "due_date")
    values = [(company_id, r.id, r.kind, r.doc_no, row_of.get(p) if p else None, r.currency,
               (r.net_minor or 0) + (r.tax_minor or 0), (r.net_minor or 0) + (r.tax_minor or 0),
               r.doc_date.isoformat(), r.due_date.isoformat() if r.due_date else None)
              for r, p in zip(rows, party_ids)]
    insert_values(connection, OpenItemRow.__table__.name, columns, values)
    set_cursor(connection, company_id, "invoice", rows[-1].id)
    return len(values)


def _day(connection: Connection, column: str) -> str:
    """SQL for ``column`` (a date) as its day ordinal (``date.toordinal``), computed by the database."""
    if connection.dialect.name == "postgresql":
        return f"({column} - DATE '0001-01-01' + 1)"
    return f"CAST(julianday({column}) - 1721424.5 AS INTEGER)"


def _fetch_columns(connection: Connection, sql: str, parameters: tuple, *, shared: tuple[int, ...] = ()) -> list[list]:
    """Columns straight from the driver, in chunks: no row objects, no per-value type processing.

    The loads run to millions of rows, so memory counts: values that repeat (``shared`` columns:
    kinds, currencies, parties, accounts) are kept once. ``{}`` in ``sql`` marks a parameter.
    """
    memos: dict[int, dict] = {i: {} for i in shared}
    with driver_cursor(connection, sql, parameters) as cursor:
        columns = [[] for _ in cursor.description]
        while chunk := cursor.fetchmany(200_000):
            for i, values in enumerate(zip(*chunk)):
                if i in shared:
                    memo = memos[i]
                    columns[i] += map(memo.setdefault, values, values)
                else:
                    columns[i] += values
            del chunk
    return columns


@dataclass(slots=True)
class OpenItemColumns:
    row_id: list[int]
    doc_type: list[str]
    doc_no: list[str]
    party: list[str | None]     # counterparty external id
    currency: list[str]
    open_minor: list[int]
    day: list[int]              # doc_date ordinal


def load_open_items(connection: Connection, company_id: str, doc_type: str | None = None) -> OpenItemColumns:
    """Only the open invoices (of ``doc_type``, or of both kinds) and only the columns matching needs,
    read as columns."""
    kind = " AND o.doc_type = {}" if doc_type else ""
    row_id, doc_types, doc_no, party, currency, open_minor, day = _fetch_columns(
        connection, f"SELECT o.id, {'NULL' if doc_type else 'o.doc_type'}, o.doc_no, o.party_id, o.currency, "
        f"o.open_minor, {_day(connection, 'o.doc_date')} FROM open_item o "
        f"WHERE o.company_id = {{}} AND o.open_minor > 0{kind} ORDER BY o.id",
        (company_id, doc_type) if doc_type else (company_id,), shared=(1, 4))
    # parties by their external id, from one read of the company's parties (a join would look each up
    # once per open item); one string object per party, as the memo of the other shared columns does
    external = dict(driver_rows(connection, "SELECT id, external_id FROM counterparty WHERE company_id = {}",
                                (company_id,)))
    for missing in sorted({p for p in party if p is not None} - external.keys()):   # another company's party
        external.update(driver_rows(connection, "SELECT id, external_id FROM counterparty WHERE id = {}", (missing,)))
    return OpenItemColumns(row_id, [doc_type] * len(row_id) if doc_type else doc_types, doc_no,
                           [external[p] if p is not None else None for p in party], currency, open_minor, day)


def apply_settlement(connection: Connection, reduced: Sequence[tuple[int, int]],
                     closed: Iterable[int]) -> tuple[int, int]:
    """Write the open amounts a run changed: ``reduced`` (new open amount, id), ``closed`` ids leave
    ``open_item``; (reduced, closed). Closed ids that follow one another go in one statement (a first
    load closes three quarters of the table, in runs of four on average: 946,568 rows in 229,533
    ranges, 1.4–1.9 s → 0.7 s)."""
    table, mark = OpenItemRow.__table__, param_mark(connection)
    ranges = id_ranges(closed)
    with driver_cursor(connection) as cursor:
        if ranges:
            cursor.executemany(f"DELETE FROM {table.name} WHERE id BETWEEN {mark} AND {mark}", ranges)
        if reduced:
            cursor.executemany(f"UPDATE {table.name} SET open_minor = {mark} WHERE id = {mark}", reduced)
    return len(reduced), sum(last - first + 1 for first, last in ranges)


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Distinct ``ids`` as runs of consecutive numbers, ascending: [first, last] each.

        >>> id_ranges([7, 3, 4, 5, 9, 8, 4])
        [[3, 5], [7, 9]]
    """
    ranges: list[list[int]] = []
    for row_id in sorted(set(ids)):
        if ranges and ranges[-1][1] == row_id - 1:
            ranges[-1][1] = row_id
        else:
            ranges.append([row_id, row_id])
    return ranges


@dataclass(slots=True)
class BankColumns:
    row_id: list[int]
    account_no: list[str]
    txn_id: list[str]
    day: list[int]
    amount_minor: list[int]
    currency: list[str]
    counterparty: list[str]
    counterparty_account: list[str]
    remittance: list[str]


def last_bank_row(connection: Connection, company_id: str) -> int:
    """The largest id of the company's stored bank transactions (0 for none)."""
    table = BankTxnRow.__table__
    if connection.dialect.name == "sqlite":
        # from the newest row backwards: SQLite would otherwise read max(id) off every index entry of the
        # company (a million rows: 0.09 s); ``+`` keeps it off that index
        rows = driver_rows(connection, "SELECT id FROM bank_txn WHERE +company_id = {} ORDER BY id DESC LIMIT 1",
                           (company_id,))
        return rows[0][0] if rows else 0
    return connection.execute(select(func.max(table.c.id)).where(table.c.company_id == company_id)).scalar() or 0


def load_new_transactions(connection: Connection, company_id: str, since: int, upto: int,
                          money_in: bool | None = None) -> BankColumns:
    """Bank transactions after row ``since`` up to row ``upto``, as columns, in booking order (day, account,
    transaction id; the strings in Python's order, whatever the database's collation).
    ``money_in``: only amounts above zero (True) or the rest (False)."""
    where = "" if money_in is None else (" AND amount_minor > 0" if money_in else " AND amount_minor <= 0")
    # SQLite: the id range read in storage order (``+`` keeps the planner off the company's date index, which
    # it would walk whole, fetching each row at random: a delta of 50,000 rows 0.40 s → 0.10 s, cold)
    company = "+company_id" if connection.dialect.name == "sqlite" else "company_id"
    columns = _fetch_columns(
        connection, f"SELECT id, account_no, txn_id, {_day(connection, 'booking_date')}, amount_minor, currency, "
        f"counterparty, counterparty_account, remittance FROM bank_txn WHERE {company} = {{}} AND id > {{}} "
        f"AND id <= {{}}{where} ORDER BY id", (company_id, since, upto), shared=(1, 5, 6, 7))
    # statements are stored in booking order more often than not: a check, and a sort only where it fails
    # (half a million rows: 0.03 s, against 0.67 s for SQLite to sort them by booking)
    keys = list(zip(columns[3], columns[1], columns[2]))
    if not all(map(operator.le, keys, islice(keys, 1, None))):
        order = sorted(range(len(keys)), key=keys.__getitem__)
        columns = [[column[n] for n in order] for column in columns]
    del keys
    return BankColumns(*columns)
