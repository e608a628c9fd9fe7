"""The driver-level path the voucher book's bulk work takes: plain tuples, one statement per
step, no per-row SQLAlchemy processing. Dates go to SQLite as ISO text (what SQLAlchemy
stores there) and to PostgreSQL as ``date`` objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, Table

from ledger.storage.bulk import driver_cursor as cursor  # raw.cursor(connection): the book's DB-API cursor

#: above this many ids a query reads the whole state (by index) instead of an IN list
IN_LIMIT = 900


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def sql(connection: Connection, statement: str) -> str:
    """Statements are written with ``?``; psycopg wants ``%s``."""
    return statement.replace("?", "%s") if is_postgres(connection) else statement


def marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def db_date(connection: Connection, value: date | None):
    if value is None or is_postgres(connection):
        return value
    return value.isoformat()


def db_datetime(connection: Connection, table: Table, column: str, value: datetime):
    processor = table.c[column].type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    return processor(value) if processor else value


def iso(value) -> str | None:
    """A date read back at driver level (ISO text on SQLite, ``date`` on PostgreSQL) as text."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def fetch(connection: Connection, statement: str, params: Sequence = ()) -> list[tuple]:
    with cursor(connection) as raw:
        raw.execute(sql(connection, statement), tuple(params))
        return raw.fetchall()


def fetch_by_ids(connection: Connection, statement: str, ids: Sequence[int], params: Sequence = (),
                 fallback: str | None = None) -> list[tuple]:
    """``statement`` ends in ``IN ({ids})``; many ids read ``fallback`` (all candidates) instead,
    which the caller filters: one indexed scan beats thousands of IN lists."""
    if fallback is not None and len(ids) > IN_LIMIT:
        return fetch(connection, fallback, params)
    rows: list[tuple] = []
    for start in range(0, len(ids), IN_LIMIT):
        chunk = list(ids[start:start + IN_LIMIT])
        rows += fetch(connection, statement.format(ids=marks(len(chunk))), [*params, *chunk])
    return rows
