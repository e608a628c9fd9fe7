"""The garbage collector waits longer while bulk rows stream through store(), and is set back after."""

from __future__ import annotations

import gc

import pytest

from ledger.bank_rows import BankBatch, bank_values
from ledger.storage.bulk import fewer_collections
from ledger.storage.store import store
from tests.storage.test_effectively_once import company, txn


def test_thresholds_are_raised_while_streams_run_and_restored_after_the_last() -> None:
    before = gc.get_threshold()
    with fewer_collections(young=50_000):
        assert gc.get_threshold() == (max(50_000, before[0]), *before[1:])
        with pytest.raises(RuntimeError), fewer_collections(young=50_000):  # nested, and failing
            raise RuntimeError("boom")
        assert gc.get_threshold()[0] == max(50_000, before[0])  # the outer stream still runs
    assert gc.get_threshold() == before


def test_store_raises_the_threshold_while_it_reads_its_records(sqlite_engine) -> None:
    from ledger.storage import migrate

    migrate.upgrade(sqlite_engine)
    company_id = company(sqlite_engine)
    before, seen = gc.get_threshold(), []

    def records():
        seen.append(gc.get_threshold())
        yield BankBatch([bank_values(txn(i)) for i in range(3)])

    assert store(sqlite_engine, company_id, "src", records()).inserted["bank_txn"] == 3
    assert seen[0][0] >= 100_000 and gc.get_threshold() == before
