"""Engines: SQLite (WAL, foreign keys on) by default, PostgreSQL through ``DATABASE_URL``."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_SQLITE_FILE = "yecai.db"


class DatabaseUrlError(ValueError):
    pass


def database_url(explicit: str | None = None) -> str:
    """``explicit`` wins, then ``DATABASE_URL``, then a SQLite file in the working directory."""
    url = explicit or os.environ.get("DATABASE_URL") or f"sqlite:///{Path(DEFAULT_SQLITE_FILE)}"
    return normalise_url(url)


def normalise_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except Exception as error:  # sqlalchemy raises ArgumentError; say what was expected instead
        raise DatabaseUrlError(f"database URL {url!r} is not valid: expected sqlite:///path or "
                               f"postgresql://user@host:port/db ({error})") from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise DatabaseUrlError(f"database URL {url!r}: driver {parsed.drivername!r} is not "
                               f"supported (expected sqlite or postgresql)")
    return parsed.render_as_string(hide_password=False)


# Bytes per page of a new SQLite database (one made before keeps its own; the pragma does nothing there).
# Links carry their evidence (a row of 400 bytes when this was measured, 245 since the evidence is stored
# as arrays): at 16 KiB a page holds forty rows instead of ten, the B-trees are a level lower and a bulk
# write has a quarter of the pages to split, log and checkpoint
# (a million transactions against 1.25 million open items: 38.3 → 32.9 s and 40.8 → 34.7 s in two pairs
# of runs, 66.7 → 59.0 s of CPU; see README).
PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")   # before WAL, which writes a new database's first page
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(resolved, pool_pre_ping=True, **kwargs)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
