"""Storage on SQLite and PostgreSQL: migrations from empty, exact Decimal round trips, the bulk
path, and storing the same records twice."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from ledger.counterparties import Counterparty, Role
from ledger.documents import BankTransaction, InvoiceLine, SalesInvoice
from ledger.money import CURRENCY_MINOR_UNITS, Money
from ledger.settings import load_chart, load_company
from ledger.storage import bulk, migrate
from ledger.storage.bulk import insert_values
from ledger.storage.engine import PAGE_SIZE, make_engine
from ledger.storage.read import counts_by_kind, load_bank_transactions, load_counterparties
from ledger.storage.store import store, sync_company
from ledger.storage.tables import DocumentLineRow, DocumentRow, MatchLinkRow
from tests.conftest import EXAMPLE_CONFIG

EXPECTED_TABLES = {"company", "account", "counterparty", "counterparty_alias",
                   "counterparty_bank_account", "ingest_batch", "document", "document_line",
                   "bank_txn", "source_cursor", "alembic_version"}


def company(engine) -> str:
    config = load_company(EXAMPLE_CONFIG)
    sync_company(engine, config, load_chart(config))
    return config.company.id


def test_migrations_run_up_from_empty_and_match_the_models(engine) -> None:
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    assert migrate.pending_model_changes(engine) == []
    migrate.upgrade(engine)  # idempotent
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_new_sqlite_database_gets_large_pages_and_an_old_one_keeps_its_own(sqlite_engine, tmp_path) -> None:
    migrate.upgrade(sqlite_engine)
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA page_size").scalar() == PAGE_SIZE == 16384
    old = tmp_path / "old.db"   # made before: 4 KiB pages, a rollback journal, a row
    with sqlite3.connect(old) as made:
        made.execute("CREATE TABLE t (x)")
        made.execute("INSERT INTO t VALUES (1)")
    made.close()
    engine = make_engine(f"sqlite:///{old}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (2)")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("SELECT x FROM t ORDER BY x").scalars().all() == [1, 2]
    finally:
        engine.dispose()


def txn(txn_id: str, amount: Money) -> BankTransaction:
    return BankTransaction(account_no="31050161373600001234", txn_id=txn_id,
                           booking_date=date(2026, 11, 2), value_date=date(2026, 11, 3), amount=amount,
                           counterparty="海尔智家", counterparty_account="6222", remittance="货款 44001234")


money_strategy = st.builds(
    lambda currency, units: Money.from_minor(units, currency),
    st.sampled_from(sorted(CURRENCY_MINOR_UNITS)),
    st.integers(min_value=-(2**62), max_value=2**62).filter(lambda u: u != 0))


def test_decimal_round_trips_exactly_through_storage(migrated) -> None:
    company_id = company(migrated)
    counter = iter(range(10**9))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(money_strategy, min_size=1, max_size=5),
           st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e9"), places=6),
           st.decimals(min_value=Decimal(0), max_value=Decimal("0.999"), places=3))
    def round_trip(amounts: list[Money], quantity: Decimal, rate: Decimal) -> None:
        batch = [txn(f"H{next(counter)}", amount) for amount in amounts]
        line = InvoiceLine(line_no=1, sku="S", quantity=quantity, unit_price=quantity, tax_rate=rate,
                           net_amount=Decimal("1.23"), tax_amount=Decimal("0.16"))
        invoice = SalesInvoice(number=f"INV{next(counter)}", date=date(2026, 11, 1),
                               due_date=date(2026, 11, 30), counterparty="c", currency="CNY",
                               lines=(line,))
        store(migrated, company_id, "test", [*batch, invoice])
        with migrated.connect() as connection:
            stored = {t.txn_id: t for t in load_bank_transactions(connection, company_id)}
            row = connection.execute(
                select(DocumentLineRow.__table__).join(DocumentRow.__table__)
                .where(DocumentRow.__table__.c.doc_no == invoice.number)).one()
        for original in batch:
            assert stored[original.txn_id] == original
            assert stored[original.txn_id].amount.amount == original.amount.amount
        assert (row.quantity, row.unit_price, row.tax_rate) == (quantity, quantity, rate)
        assert (row.net_minor, row.tax_minor) == (123, 16)

    round_trip()


def test_storing_twice_adds_nothing_and_changed_content_keeps_the_original(migrated) -> None:
    company_id = company(migrated)
    party = Counterparty(counterparty_id="C1", role=Role.CUSTOMER, name="海尔智家股份有限公司",
                         aliases=("海尔智家",), bank_accounts=("6222 0001",))
    first = store(migrated, company_id, "bank", [txn("T1", Money.parse("10.00", "CNY")),
                                                 txn("T2", Money.parse("-3.50", "CNY")), party])
    assert dict(first.inserted) == {"bank_txn": 2, "counterparty": 1}
    again = store(migrated, company_id, "bank", [txn("T1", Money.parse("10.00", "CNY")),
                                                 txn("T2", Money.parse("-3.51", "CNY")), party])
    assert sum(again.inserted.values()) == 0
    assert dict(again.unchanged) == {"bank_txn": 1, "counterparty": 1}
    assert again.changed == [("bank_txn", "31050161373600001234:T2")]
    with migrated.connect() as connection:
        amounts = {t.txn_id: t.amount for t in load_bank_transactions(connection, company_id)}
        assert load_counterparties(connection, company_id) == [party]
    assert amounts["T2"] == Money.parse("-3.50", "CNY")
    counts = counts_by_kind(migrated, company_id)
    assert counts["bank_txn"] == 2 and counts["counterparty"] == 1 and counts["sales_order"] == 0


def test_a_failure_inside_store_leaves_nothing_behind(migrated) -> None:
    company_id = company(migrated)

    class Boom(Exception):
        pass

    def records():
        yield txn("T1", Money.parse("10.00", "CNY"))
        raise Boom

    try:
        store(migrated, company_id, "bank", records())
    except Boom:
        pass
    assert counts_by_kind(migrated, company_id)["bank_txn"] == 0


def test_cursor_commits_with_its_rows_and_not_without_them(migrated) -> None:
    from ledger.storage.store import read_cursor

    company_id = company(migrated)
    store(migrated, company_id, "bank", [txn("T1", Money.parse("10.00", "CNY"))], cursor="c1")
    assert read_cursor(migrated, company_id, "bank") == "c1"

    def failing():
        yield txn("T2", Money.parse("10.00", "CNY"))
        raise RuntimeError("connector died mid-way")

    try:
        store(migrated, company_id, "bank", failing(), cursor="c2")
    except RuntimeError:
        pass
    assert read_cursor(migrated, company_id, "bank") == "c1"
    assert counts_by_kind(migrated, company_id)["bank_txn"] == 1
    store(migrated, company_id, "bank", [txn("T2", Money.parse("10.00", "CNY"))], cursor="c2")
    assert read_cursor(migrated, company_id, "bank") == "c2"


def test_documents_read_back_equal_what_was_stored(migrated) -> None:
    from connectors.contract import Record
    from connectors.dropfolder.connector import DropFolderConnector
    from ledger.counterparties import Counterparty as Party
    from ledger.storage.read import load_documents

    company_id = company(migrated)
    records = [item.document for item in DropFolderConnector.from_options(
        {"path": str(EXAMPLE_CONFIG.parent / "dropfolder")}).fetch() if isinstance(item, Record)]
    store(migrated, company_id, "sample", records)
    expected = [r for r in records if not isinstance(r, BankTransaction | Party)]
    with migrated.connect() as connection:
        loaded = load_documents(connection, company_id)
    assert sorted(loaded, key=lambda d: d.key) == sorted(expected, key=lambda d: d.key)


def test_indexes_built_after_a_bulk_write_are_sorted_in_threads_and_the_connection_is_left_as_it_was(
        sqlite_engine, monkeypatch) -> None:
    migrate.upgrade(sqlite_engine)
    table = MatchLinkRow.__table__
    columns = ("company_id", "from_type", "from_no", "to_type", "to_no", "decision", "score", "rule",
               "rule_version", "decided_by", "decided_at", "evidence")
    row = ("acme", "sales_invoice", "44001234", "bank_txn", "3105:T1", "auto", 1.0, "reference", "1", "yecai",
           "2026-12-01 00:00:00", "[]")
    with sqlite_engine.connect() as connection:
        connection.exec_driver_sql("INSERT INTO company (id, name, base_currency) VALUES ('acme', 'Acme', 'CNY')")
        connection.commit()
        driver = connection.connection.dbapi_connection
        driver.execute("PRAGMA cache_size = -65536")
        driver.execute("PRAGMA threads = 1")
        seen = []
        real = bulk.sorted_in_threads

        @contextmanager
        def watched(conn):
            with real(conn):
                seen.append((conn.execute("PRAGMA threads").fetchone()[0],
                             conn.execute("PRAGMA cache_size").fetchone()[0]))
                yield

        monkeypatch.setattr(bulk, "sorted_in_threads", watched)
        with connection.begin(), bulk.indexes_built_after(connection, table, True):
            insert_values(connection, table.name, columns, [row, (*row[:4], "3105:T2", *row[5:])])
        with pytest.raises(IntegrityError), connection.begin(), bulk.indexes_built_after(connection, table, True):
            insert_values(connection, table.name, columns, [row])   # the pair again: the unique index fails
        assert seen == [(min(os.cpu_count() or 1, 8), -bulk.SORT_CHUNK_KIB)] * 2
        assert (driver.execute("PRAGMA threads").fetchone()[0], driver.execute("PRAGMA cache_size").fetchone()[0]
                ) == (1, -65536)
        assert [r[0] for r in driver.execute("SELECT to_no FROM match_link ORDER BY id")] == ["3105:T1", "3105:T2"]
        assert {name for (name,) in driver.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'match_link' "
                                                   "AND type = 'index' AND sql IS NOT NULL")} == {
            "ix_match_link_to", "ux_match_link_pair"}
