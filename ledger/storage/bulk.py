"""The bulk write path: executemany on SQLite, COPY on PostgreSQL. No ORM object per row."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select, text


def _allocate_ids(connection: Connection, table: Table, count: int) -> list[int]:
    sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                  {"t": table.name}).scalar_one()
    return list(connection.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                                   {"s": sequence, "n": count}).scalars())


def new_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` primary keys for rows this transaction is about to insert into ``table``."""
    if not count:
        return []
    if connection.dialect.name == "postgresql":
        return _allocate_ids(connection, table, count)
    # SQLite: one writer at a time, so the ids after the largest are this transaction's
    top = max_id(connection, table)
    return list(range(top + 1, top + 1 + count))


def max_id(connection: Connection, table: Table) -> int:
    """The largest id in ``table`` (≥ the rows it holds; 0 when empty)."""
    return connection.execute(select(func.max(table.c.id))).scalar() or 0


@contextmanager
def indexes_built_after(connection: Connection, table: Table, bulk: bool) -> Iterator[None]:
    """Where ``bulk`` (the work changes more rows than it leaves alone) on SQLite: ``table``'s indexes
    are dropped, the work done on the bare table and the indexes built after, in the same transaction.
    A million links: 7.2 s → 4.8 s (inserts 6–7 s with the indexes, 2.2 s without, 2.6 s to index) and
    a smaller commit; 245,000 exceptions: 2.2 s → 1.8 s. An index behind a table constraint stays (SQLite
    cannot drop it). Small work into a large table keeps the indexes: building them anew would sort
    every row. A unique index still holds: building it fails on a key found twice as the insert would
    have, and the transaction rolls back, the drop with it. The indexes are sorted as ``sorted_in_threads``
    says."""
    if not bulk or connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.dbapi_connection
    if not driver.in_transaction:   # pysqlite begins a transaction only before DML: a DROP first would commit
        driver.execute("BEGIN")
    indexes = sorted(table.indexes, key=lambda index: index.name)
    for index in indexes:
        index.drop(connection)
    yield
    with sorted_in_threads(driver):
        for index in indexes:
            index.create(connection)


SORT_CHUNK_KIB = 16 * 1024   # the memory of one sorted run of an index build (see sorted_in_threads)


@contextmanager
def sorted_in_threads(driver) -> Iterator[None]:
    """While SQLite builds indexes on ``driver`` (a sqlite3 connection): its sorter sorts runs of
    ``SORT_CHUNK_KIB`` in helper threads, one per core, and merges them, instead of sorting every key in
    one run in this thread (the run's size follows the page cache, which a bulk write makes large).
    Match_link's unique index over a million links: 3.3–4.3 s → 2.0–2.7 s (2 cores, in turns; its
    bank-side index, whose keys come presorted, 0.9–1.3 s either way). The connection's cache size and
    threads are put back after."""
    cache, threads = (driver.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "threads"))
    driver.execute(f"PRAGMA threads = {min(os.cpu_count() or 1, 8)}")
    driver.execute(f"PRAGMA cache_size = -{SORT_CHUNK_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {cache}")
        driver.execute(f"PRAGMA threads = {threads}")


def param_mark(connection: Connection) -> str:
    """The driver's parameter marker: ``%s`` for psycopg, ``?`` for sqlite3."""
    return "%s" if connection.dialect.name == "postgresql" else "?"


@contextmanager
def driver_cursor(connection: Connection, sql: str | None = None, parameters: tuple = ()) -> Iterator[Any]:
    """A DB-API cursor of ``connection`` (closed afterwards), having run ``sql`` where given;
    ``{}`` in ``sql`` marks a parameter."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        if sql is not None:
            cursor.execute(sql.format(*[param_mark(connection)] * len(parameters)), parameters)
        yield cursor
    finally:
        cursor.close()


def driver_rows(connection: Connection, sql: str, parameters: tuple = ()) -> list[tuple]:
    """Plain tuples straight from the driver (no row objects, no per-value type processing), for
    reads of whole tables of master data. ``{}`` in ``sql`` marks a parameter."""
    with driver_cursor(connection, sql, parameters) as cursor:
        return cursor.fetchall()


def driver_rows_in(connection: Connection, sql: str, parameters: tuple, values: Sequence[Any],
                   chunk: int = 500) -> list[tuple]:
    """``driver_rows`` of ``sql`` for every ``chunk`` of ``values``: ``{values}`` in ``sql`` becomes
    that chunk's markers and the chunk follows ``parameters`` (so the IN list is the query's last
    parameter). On PostgreSQL one statement: ``IN ({values})`` becomes ``= ANY`` of one array.

        driver_rows_in(c, "SELECT id FROM t WHERE company_id = {} AND name IN ({values})", ("acme",), names)
    """
    if "IN ({values})" not in sql:
        raise ValueError(f"driver_rows_in: no 'IN ({{values}})' in {sql!r}")
    if connection.dialect.name == "postgresql":
        # one statement with the values as one array: chunks of an IN list are planned one by one, and where
        # the table has no statistics yet (a fresh load, before autovacuum analyses it) each chunk scanned
        # the whole table (a side of the million: 152,530 names in 306 chunks of party_name, 16.7 s → 1.0 s)
        if not len(values):
            return []
        return driver_rows(connection, sql.replace("IN ({values})", "= ANY({})"), (*parameters, list(values)))
    rows: list[tuple] = []
    for start in range(0, len(values), chunk):
        part = values[start:start + chunk]
        rows += driver_rows(connection, sql.replace("{values}", ", ".join(["{}"] * len(part))), (*parameters, *part))
    return rows


def driver_value(connection: Connection, table: Table, column: str, value: Any) -> Any:
    """``value`` of ``table.column`` as the driver takes it (one shared value, such as a run's ``now``)."""
    processor = table.c[column].type.bind_processor(connection.dialect)
    value = processor(value) if processor else value
    # on SQLite: the text sqlite3's (slow, per-value) default adapter would make
    return value.isoformat(" ") if connection.dialect.name == "sqlite" and isinstance(value, datetime) else value


def _tuples(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> tuple[list[str], list]:
    """Rows as tuples of driver values, with each column's bind processing applied once per value."""
    columns = list(rows[0])
    processors = [table.c[name].type.bind_processor(connection.dialect) for name in columns]
    if not any(processors):
        return columns, [tuple(row[c] for c in columns) for row in rows]
    sqlite = connection.dialect.name == "sqlite"
    pairs = list(zip(columns, [_once_per_object(p, sqlite) if p else None for p in processors]))
    return columns, [tuple(p(row[c]) if p else row[c] for c, p in pairs) for row in rows]


def _once_per_object(processor, sqlite: bool):
    """Bulk rows share objects (one ``now`` for a whole batch): process each once. On SQLite a
    datetime becomes the text sqlite3's (slow, per-value) default adapter would have made."""
    last: list = [object(), None]

    def process(value):
        if value is not last[0]:
            result = processor(value)
            last[0], last[1] = value, result.isoformat(" ") if sqlite and isinstance(result, datetime) else result
        return last[1]
    return process


def _sqlite_literal(value: str | int | None) -> str | None:
    """``value`` as an SQLite literal, or None where it cannot be one safely."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def insert_values(connection: Connection, table_name: str, columns: Sequence[str], values: Sequence[tuple],
                  *, constants: Mapping[str, str | int] | None = None, cursor=None) -> None:
    """Insert tuples of driver-ready values (dates as ISO text) in the caller's transaction.

    ``constants``: columns after ``columns`` with one value for every row. SQLite gets them as
    literals of the statement, so each row binds only its own values; COPY gets whole rows.
    ``cursor``: a DB-API cursor of the connection to use (and leave open)."""
    if not values:
        return
    constants = dict(constants or {})
    own = cursor is None
    cursor = cursor or connection.connection.dbapi_connection.cursor()
    names = ", ".join([*columns, *constants])
    try:
        if connection.dialect.name == "postgresql":
            tail = tuple(constants.values())
            with cursor.copy(f'COPY "{table_name}" ({names}) FROM STDIN') as copy:
                for row in values:
                    copy.write_row(row + tail if tail else row)
        else:  # the driver's executemany on plain tuples: no per-row statement compilation
            literals = [_sqlite_literal(value) for value in constants.values()]
            if None in literals:
                tail = tuple(constants.values())
                values, literals = [row + tail for row in values], ["?"] * len(tail)
            cursor.executemany(f'INSERT INTO "{table_name}" ({names}) '
                               f'VALUES ({", ".join(["?"] * len(columns) + literals)})', values)
    finally:
        if own:
            cursor.close()


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]],
                *, return_ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) in one round of bulk work.

    With ``return_ids`` the new primary keys come back in the order of ``rows``.
    """
    if not rows:
        return []
    ids: list[int] = []
    if return_ids:
        ids = new_ids(connection, table, len(rows))
        rows = [{"id": i, **row} for i, row in zip(ids, rows)]
    columns, values = _tuples(connection, table, rows)
    insert_values(connection, table.name, columns, values)
    return ids


_collector = threading.Lock()
_streams = [0, None]  # bulk streams running in this process, and the thresholds to restore


@contextmanager
def fewer_collections(young: int = 100_000) -> Iterator[None]:
    """While a bulk stream runs, let the cyclic garbage collector wait for ``young`` new
    objects, not 700, before it looks for cycles.

    A million bank rows are a million tuples and a million csv lists, none in a cycle, all
    freed by reference counting; at the default threshold the collector still walked them
    1,700 times and the whole heap 5 times per million rows (0.5 s of 9 s). Nested and
    concurrent streams share the raised threshold; the last one restores the old."""
    with _collector:
        if _streams[0] == 0:
            _streams[1] = gc.get_threshold()
            gc.set_threshold(max(young, _streams[1][0]), *_streams[1][1:])
        _streams[0] += 1
    try:
        yield
    finally:
        with _collector:
            _streams[0] -= 1
            if _streams[0] == 0:
                gc.set_threshold(*_streams[1])
