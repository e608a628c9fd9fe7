"""A throwaway PostgreSQL database for a benchmark run, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text

from ledger.storage.engine import make_engine, normalise_url


@contextmanager
def temporary_postgres(url: str) -> Iterator[Engine]:
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    name = f"yecai_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(str(admin.url.set(database=name)))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
