"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when
``YECAI_TEST_POSTGRES_URL`` names a server (the tests skip with a reason when it is unset)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from ledger.storage.engine import make_engine, normalise_url

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXAMPLE_CONFIG = ROOT / "config" / "example" / "company.toml"
POSTGRES_ENV = "YECAI_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A database of its own on the PostgreSQL server, dropped afterwards."""
    url = postgres_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    name = f"yecai_test_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    """The same test on both databases."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    from ledger.storage import migrate

    migrate.upgrade(engine)
    return engine


@pytest.fixture(autouse=True, scope="session")
def _prefect_logs_to_the_session_stream() -> None:
    """Prefect's console handler keeps the stream it was made with. Made inside a first
    ``CliRunner.invoke`` it would keep that invocation's stream, closed by the next one: the
    next flow's first log line then fails, and the error report, printed through a flow with
    ``log_prints``, logs again without end (RecursionError). Made here, it writes to the stream
    pytest holds for the whole session, whichever test runs first."""
    from prefect.logging.configuration import setup_logging

    setup_logging()
