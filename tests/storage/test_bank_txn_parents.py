"""bank_txn's parents (company, ingest_batch) stay enforced: foreign keys on SQLite, set-based
statement triggers on PostgreSQL (migration 0012). A row with an unknown company_id or batch_id
is refused, by INSERT, UPDATE or COPY; a referenced company or batch cannot be deleted, re-keyed
or truncated away."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest
from sqlalchemy import exc, func, insert, select, text

from ledger.bank_rows import BANK_COLUMNS, bank_values
from ledger.storage.store import store
from ledger.storage.tables import BankTxnRow, Company, IngestBatch
from tests.storage.test_effectively_once import company, txn

COLUMNS = (*BANK_COLUMNS, "company_id", "source", "batch_id")


def row(n: int, company_id: str, batch_id: int | None) -> tuple:
    return (*bank_values(txn(n)), company_id, "manual", batch_id)


def record(n: int, company_id: str, batch_id: int | None) -> dict:
    """The same row for an SQLAlchemy insert (dates as dates)."""
    values = dict(zip(COLUMNS, row(n, company_id, batch_id)))
    return {**values, "booking_date": date.fromisoformat(values["booking_date"]),
            "value_date": date.fromisoformat(values["value_date"])}


def setup(engine) -> tuple[str, int]:
    """The example company with one stored bank row, and a second company ('lonely') whose only
    reference is one bank_txn row in a batch of its own (nothing else refers to either)."""
    company_id = company(engine)
    stored = store(engine, company_id, "src", [txn(0)])
    with engine.begin() as connection:
        connection.execute(insert(Company.__table__).values(id="lonely", name="Lonely Ltd", base_currency="CNY"))
        lonely_batch = connection.execute(insert(IngestBatch.__table__).values(
            company_id=company_id, source="manual", started_at=datetime.now(UTC))).inserted_primary_key[0]
        connection.execute(insert(BankTxnRow.__table__).values(record(1, "lonely", lonely_batch)))
    assert stored.batch_id != lonely_batch
    return company_id, lonely_batch


def refused(engine, statement: str, *words: str) -> None:
    with pytest.raises(exc.IntegrityError) as raised, engine.begin() as connection:
        connection.execute(text(statement))
    message = str(raised.value.orig)
    assert all(word in message for word in words), message


def test_a_bank_row_without_its_company_or_batch_is_refused(migrated) -> None:
    company_id, batch_id = setup(migrated)
    table = BankTxnRow.__table__
    for bad in (record(2, "nobody", batch_id), record(3, company_id, 987654)):
        with pytest.raises(exc.IntegrityError), migrated.begin() as connection:
            connection.execute(insert(table).values(bad))
    with pytest.raises(exc.IntegrityError), migrated.begin() as connection:
        connection.execute(table.update().where(table.c.company_id == "lonely").values(batch_id=987654))
    with migrated.connect() as connection:
        assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 2
        assert set(connection.execute(select(table.c.batch_id)).scalars()) <= set(
            connection.execute(select(IngestBatch.__table__.c.id)).scalars())


def test_a_referenced_company_or_batch_cannot_be_deleted(migrated) -> None:
    _company_id, batch_id = setup(migrated)
    with pytest.raises(exc.IntegrityError), migrated.begin() as connection:
        connection.execute(text("DELETE FROM company WHERE id = 'lonely'"))
    with pytest.raises(exc.IntegrityError), migrated.begin() as connection:
        connection.execute(text(f"DELETE FROM ingest_batch WHERE id = {batch_id}"))
    with migrated.begin() as connection:  # once its rows are gone, the parents can go
        connection.execute(text("DELETE FROM bank_txn WHERE company_id = 'lonely'"))
        connection.execute(text("DELETE FROM company WHERE id = 'lonely'"))
        connection.execute(text(f"DELETE FROM ingest_batch WHERE id = {batch_id}"))


def copy(engine, rows: list[tuple]) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY bank_txn ({', '.join(COLUMNS)}) FROM STDIN") as writer:
            for values in rows:
                writer.write_row(values)
        raw.commit()
    finally:
        raw.close()


@pytest.mark.postgres
def test_postgres_checks_the_parents_of_copied_rows_per_statement(postgres_engine) -> None:
    engine = postgres_engine
    from ledger.storage import migrate

    migrate.upgrade(engine)
    company_id, batch_id = setup(engine)
    with engine.connect() as connection:  # the row-level foreign keys are gone, the triggers are there
        keys = connection.execute(text(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'bank_txn'::regclass AND contype = 'f'")).all()
        assert keys == []
    good = [row(n, company_id, batch_id) for n in range(10, 1010)]
    copy(engine, good)  # a COPY of rows whose parents exist passes
    # one bad row among a thousand good ones: the COPY fills the statement's transition table
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as raised:
        copy(engine, [row(n, company_id, batch_id) for n in range(2000, 2500)]
             + [row(2500, "nobody", batch_id)] + [row(n, company_id, batch_id) for n in range(2501, 3000)])
    assert "company_id 'nobody' is not in table \"company\"" in str(raised.value)
    assert raised.value.sqlstate == "23503"  # foreign_key_violation, as a foreign key would say
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as raised:
        copy(engine, [row(3000, company_id, 987654)])
    assert 'batch_id 987654 is not in table "ingest_batch"' in str(raised.value)
    assert raised.value.sqlstate == "23503"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM bank_txn")).scalar_one() == 1002
    # the parent side: delete, key update and truncate are refused while rows refer to the key
    refused(engine, "DELETE FROM company WHERE id = 'lonely'",
            'delete on table "company" refused', "'lonely' is still referenced by table \"bank_txn\"")
    refused(engine, "UPDATE company SET id = 'renamed' WHERE id = 'lonely'", 'update on table "company" refused')
    refused(engine, f"DELETE FROM ingest_batch WHERE id = {batch_id}",
            f"delete on table \"ingest_batch\" refused: id '{batch_id}' is still referenced")
    refused(engine, f"UPDATE ingest_batch SET id = 987654 WHERE id = {batch_id}", 'update on table "ingest_batch"')
    refused(engine, "TRUNCATE company CASCADE", 'truncate of table "company" refused')
    with engine.begin() as connection:  # what a foreign key allows stays allowed
        connection.execute(text("UPDATE company SET name = 'Still Lonely' WHERE id = 'lonely'"))
        connection.execute(text("UPDATE company SET id = id WHERE id = 'lonely'"))  # the same key
        connection.execute(text("UPDATE bank_txn SET batch_id = NULL WHERE company_id = 'lonely'"))
        spare = connection.execute(insert(IngestBatch.__table__).values(
            company_id=company_id, source="spare", started_at=datetime.now(UTC))).inserted_primary_key[0]
        assert connection.execute(text(f"DELETE FROM ingest_batch WHERE id = {spare}")).rowcount == 1


@pytest.mark.postgres
def test_postgres_parent_delete_waits_for_a_concurrent_insert(postgres_engine) -> None:
    """The child check locks the parents it found (FOR KEY SHARE, as a foreign key does): a
    delete of the company waits for the inserting transaction, then sees its rows and fails."""
    engine = postgres_engine
    from ledger.storage import migrate

    migrate.upgrade(engine)
    _company_id, batch_id = setup(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM bank_txn WHERE company_id = 'lonely'"))
    inserting = engine.connect()
    try:
        transaction = inserting.begin()
        inserting.execute(insert(BankTxnRow.__table__).values(record(5, "lonely", batch_id)))
        with pytest.raises(exc.OperationalError, match="lock timeout"), engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '300ms'"))
            connection.execute(text("DELETE FROM company WHERE id = 'lonely'"))
        transaction.commit()
    finally:
        inserting.close()
    refused(engine, "DELETE FROM company WHERE id = 'lonely'", "still referenced")
