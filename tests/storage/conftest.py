"""Fixtures of the storage tests."""

import pytest


@pytest.fixture
def sqlite_engine_factory(tmp_path):
    from ledger.storage import migrate
    from ledger.storage.engine import make_engine

    engines = []

    def make():
        engine = make_engine(f"sqlite:///{tmp_path / f'db{len(engines)}.sqlite'}")
        migrate.upgrade(engine)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
