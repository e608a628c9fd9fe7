"""Bank transactions stored as BankBatch rows (the bulk path) on SQLite and PostgreSQL: new keys
inserted straight, stored keys compared in SQL, chunk digests, SOURCE_CHANGED, and failures."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.bank_rows import BankBatch, bank_values
from ledger.money import Money
from ledger.storage import store as store_module
from ledger.storage.read import counts_by_kind, load_bank_transactions
from ledger.storage.store import read_cursor, store
from ledger.storage.tables import BankChunkRow, ExceptionItemRow, IngestBatch
from tests.storage.test_effectively_once import company, txn

TXNS = [txn(i) for i in range(60)]


def batch(indexes, changed: set[int] = frozenset()) -> BankBatch:
    return BankBatch([bank_values(replace(TXNS[i], amount=Money.parse("999.00", "CNY")) if i in changed
                                  else TXNS[i]) for i in indexes])


def chunk_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(BankChunkRow.__table__)).scalar_one()


def test_batches_insert_new_compare_stored_and_report_changes(migrated) -> None:
    company_id = company(migrated)
    first = store(migrated, company_id, "src", [batch(range(10))])
    assert (first.inserted["bank_txn"], first.unchanged["bank_txn"]) == (10, 0)
    assert chunk_count(migrated) == 1

    again = store(migrated, company_id, "src", [batch(range(10))])  # recognised by its digest
    assert (again.inserted["bank_txn"], again.unchanged["bank_txn"], again.changed) == (0, 10, [])
    assert chunk_count(migrated) == 1

    overlap = store(migrated, company_id, "src", [batch(range(5, 15), changed={7})])
    assert (overlap.inserted["bank_txn"], overlap.unchanged["bank_txn"]) == (5, 4)
    assert overlap.changed == [("bank_txn", "3105:T00007")]
    assert chunk_count(migrated) == 1  # a chunk with a changed row is never taken as stored

    repeated = store(migrated, company_id, "src", [batch(range(5, 15), changed={7})])
    assert repeated.changed == [("bank_txn", "3105:T00007")]  # reported again, not hidden
    assert (repeated.inserted["bank_txn"], repeated.unchanged["bank_txn"]) == (0, 9)

    one_by_one = store(migrated, company_id, "src", TXNS[:15])
    assert (one_by_one.inserted["bank_txn"], one_by_one.unchanged["bank_txn"]) == (0, 15)
    with migrated.connect() as connection:
        assert load_bank_transactions(connection, company_id) == TXNS[:15]  # the original T00007 kept
        codes = [row.code for row in connection.execute(select(ExceptionItemRow.__table__))]
    assert codes == ["SOURCE_CHANGED"]


def test_batches_of_one_run_overlapping_each_other(migrated, monkeypatch) -> None:
    monkeypatch.setattr(store_module._BankStage, "CHUNK", 4)
    company_id = company(migrated)
    result = store(migrated, company_id, "src", [batch(range(6)), *TXNS[4:9], batch(range(3, 12)), TXNS[2]])
    assert (result.inserted["bank_txn"], result.unchanged["bank_txn"], result.changed) == (12, 9, [])
    with migrated.connect() as connection:
        assert sorted(load_bank_transactions(connection, company_id), key=lambda t: t.txn_id) == TXNS[:12]
        read = connection.execute(select(IngestBatch.__table__.c.records_read)).scalar_one()
    assert read == 6 + 5 + 9 + 1


pieces = st.lists(st.tuples(st.booleans(), st.lists(st.sampled_from(range(len(TXNS))), max_size=20)),
                  min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=st.lists(pieces, min_size=1, max_size=4), chunk=st.sampled_from([2, 5, 10_000]), data=st.data())
def test_any_overlapping_shuffled_repeated_batches_end_with_exactly_the_set(sqlite_engine_factory, monkeypatch,
                                                                             runs, chunk, data):
    monkeypatch.setattr(store_module._BankStage, "CHUNK", chunk)
    engine = sqlite_engine_factory()
    company_id = company(engine)
    delivered: set[int] = set()
    for run in runs:
        records = []
        for as_batch, indexes in run:
            shuffled = data.draw(st.permutations(indexes))
            if as_batch:  # a batch holds each transaction once, as the readers make them
                records.append(batch(list(dict.fromkeys(shuffled))))
            else:
                records += [TXNS[i] for i in shuffled]
            delivered |= set(indexes)
        result = store(engine, company_id, "src", records)
        assert result.changed == []
    with engine.connect() as connection:
        assert set(load_bank_transactions(connection, company_id)) == {TXNS[i] for i in delivered}
    assert counts_by_kind(engine, company_id)["bank_txn"] == len(delivered)


def test_a_failure_at_any_point_of_a_bulk_run_leaves_database_cursor_and_digests_unchanged(migrated,
                                                                                             monkeypatch) -> None:
    monkeypatch.setattr(store_module._BankStage, "CHUNK", 3)
    company_id = company(migrated)
    store(migrated, company_id, "src", [batch(range(10))], cursor="before")
    before = (counts_by_kind(migrated, company_id), chunk_count(migrated))
    stream = [batch(range(5, 20)), *TXNS[20:30], batch(range(30, 45)), batch(range(40, 60), changed={50})]
    for fail_at in sorted(random.Random(3).sample(range(len(stream) + 1), 6)):
        def records(fail_at=fail_at):
            for i, record in enumerate(stream):
                if i == fail_at:
                    raise ConnectionError("source dropped the connection")
                yield record
            raise ConnectionError("failed after the last record")

        with pytest.raises(ConnectionError):
            store(migrated, company_id, "src", records(), cursor="after")
        assert (counts_by_kind(migrated, company_id), chunk_count(migrated)) == before
        assert read_cursor(migrated, company_id, "src") == "before"
        with migrated.connect() as connection:
            assert connection.execute(select(ExceptionItemRow.__table__)).all() == []
    complete = store(migrated, company_id, "src", stream, cursor="after")
    assert complete.inserted["bank_txn"] == 50 and complete.changed == []
    assert read_cursor(migrated, company_id, "src") == "after"


def test_a_stored_key_in_a_later_copy_span_rolls_back_only_that_span(migrated, monkeypatch) -> None:
    monkeypatch.setattr(store_module._BankStage, "SPAN", 2)  # PostgreSQL: two chunks per COPY
    company_id = company(migrated)
    store(migrated, company_id, "src", [batch(range(40, 45))])
    chunks = [batch(range(0, 10)), batch(range(10, 20)), batch(range(20, 30)), batch(range(38, 48), changed={41}),
              batch(range(30, 38))]
    result = store(migrated, company_id, "src", chunks)
    assert (result.inserted["bank_txn"], result.unchanged["bank_txn"]) == (43, 4)
    assert result.changed == [("bank_txn", "3105:T00041")]
    assert chunk_count(migrated) == 1 + 4  # every chunk but the one with the changed row
    with migrated.connect() as connection:
        assert sorted(load_bank_transactions(connection, company_id), key=lambda t: t.txn_id) == TXNS[:48]
