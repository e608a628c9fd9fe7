"""Effectively-once ingest: whatever order, overlap and repetition the records arrive in, the
database ends with exactly the set; a failure anywhere leaves nothing and the cursor as it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledger.documents import BankTransaction, Delivery, ShipmentLine
from ledger.errors import BadInput
from ledger.money import Money
from ledger.settings import load_chart, load_company
from ledger.storage.read import counts_by_kind, load_bank_transactions
from ledger.storage.store import read_cursor, store, sync_company
from ledger.storage.tables import ExceptionDocumentRow, ExceptionItemRow
from tests.conftest import EXAMPLE_CONFIG


def company(engine) -> str:
    config = load_company(EXAMPLE_CONFIG)
    sync_company(engine, config, load_chart(config))
    return config.company.id


def txn(i: int) -> BankTransaction:
    return BankTransaction(account_no="3105", txn_id=f"T{i:05d}", booking_date=date(2026, 11, 1) + timedelta(i % 28),
                           value_date=date(2026, 11, 1), amount=Money.from_minor(1000 + i * 7, "CNY"),
                           counterparty=f"客户{i % 13}", remittance=f"货款 {44000000 + i}")


def delivery(i: int) -> Delivery:
    return Delivery(number=f"DN{i:04d}", date=date(2026, 11, 2), counterparty="海尔",
                    lines=(ShipmentLine(line_no=1, sku="A", quantity=Decimal(i + 1)),))


UNIVERSE = [txn(i) for i in range(40)] + [delivery(i) for i in range(15)]

chunks = st.lists(st.lists(st.sampled_from(range(len(UNIVERSE))), max_size=25), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=chunks, data=st.data())
def test_any_overlapping_shuffled_repeated_chunks_end_with_exactly_the_set(sqlite_engine_factory, chunks, data):
    engine = sqlite_engine_factory()
    company_id = company(engine)
    delivered: set[int] = set()
    for chunk in chunks:
        shuffled = data.draw(st.permutations(chunk))
        store(engine, company_id, "src", [UNIVERSE[i] for i in shuffled])
        delivered |= set(chunk)
    counts = counts_by_kind(engine, company_id)
    expected_txns = {UNIVERSE[i] for i in delivered if isinstance(UNIVERSE[i], BankTransaction)}
    assert counts["bank_txn"] == len(expected_txns)
    assert counts["delivery"] == len(delivered) - len(expected_txns)
    with engine.connect() as connection:
        assert set(load_bank_transactions(connection, company_id)) == expected_txns
        assert connection.execute(select(ExceptionItemRow.__table__)).all() == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fail_at=st.integers(min_value=0, max_value=len(UNIVERSE) - 1))
def test_a_failure_at_any_record_leaves_database_and_cursor_unchanged(sqlite_engine_factory, fail_at):
    engine = sqlite_engine_factory()
    company_id = company(engine)
    store(engine, company_id, "src", UNIVERSE[:5], cursor="before")
    before = counts_by_kind(engine, company_id)

    def records():
        for i, record in enumerate(UNIVERSE):
            if i == fail_at:
                raise ConnectionError("source dropped the connection")
            yield record

    with pytest.raises(ConnectionError):
        store(engine, company_id, "src", records(), cursor="after")
    assert counts_by_kind(engine, company_id) == before
    assert read_cursor(engine, company_id, "src") == "before"


def test_changed_content_and_bad_records_become_exception_items_once(migrated) -> None:
    company_id = company(migrated)
    original = txn(1)
    altered = replace(original, amount=Money.parse("999.00", "CNY"))
    problem = BadInput(file="bank/a.csv", row=7, field="amount", message="found 'x', expected a number")
    store(migrated, company_id, "src", [original])
    first = store(migrated, company_id, "src", [altered], problems=[problem])
    assert first.changed == [("bank_txn", "3105:T00001")]
    assert (first.exceptions.new, first.exceptions.seen_again) == (2, 0)
    again = store(migrated, company_id, "src", [altered], problems=[problem])
    assert (again.exceptions.new, again.exceptions.seen_again) == (0, 2)
    with migrated.connect() as connection:
        items = {row.code: row for row in connection.execute(select(ExceptionItemRow.__table__))}
        documents = {(d.doc_type, d.doc_no) for d in connection.execute(select(ExceptionDocumentRow.__table__))}
        stored = load_bank_transactions(connection, company_id)
    assert set(items) == {"SOURCE_CHANGED", "UNPARSEABLE_DOCUMENT"}
    assert items["SOURCE_CHANGED"].times_seen == 2 and items["SOURCE_CHANGED"].severity == "high"
    assert "bank/a.csv, row 7, field 'amount'" in items["UNPARSEABLE_DOCUMENT"].message
    assert documents == {("bank_txn", "3105:T00001"), ("file", "bank/a.csv")}
    assert stored == [original]  # the original is kept
