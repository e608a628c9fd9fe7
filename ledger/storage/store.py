"""Storing canonical records effectively once.

One call is one source run and one transaction: an ``ingest_batch`` row, the records, the
exception items they raise and the source's cursor commit together or not at all. Records
are keyed by their identity (document kind and number; bank account and transaction id;
counterparty id): a new key is inserted, a known key with the same content is counted, a
known key with different content keeps the stored version and raises SOURCE_CHANGED.

Bank transactions, the high-volume kind, are stored in chunks of rows: bulk loaded
(executemany on SQLite, COPY on PostgreSQL) and, when keys are stored already, compared with
the stored rows in SQL, so nothing per stored row is read back into Python. A chunk stored
whole before is recognised by its digest and counted without touching bank_txn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select, text, update

from ledger.bank_rows import BANK_COLUMNS, BankBatch, bank_values
from ledger.counterparties import Counterparty
from ledger.documents import AnyDocument, BankTransaction
from ledger.errors import BadInput
from ledger.exceptions import ExceptionItem, source_changed, unparseable
from ledger.faults import checkpoint
from ledger.settings import ChartOfAccounts, CompanyConfig
from ledger.storage.bulk import driver_cursor, fewer_collections, insert_rows, insert_values
from ledger.storage.exception_store import RaisedCounts, raise_exceptions
from ledger.storage.read import load_counterparties
from ledger.storage.rows import content_hash, document_rows
from ledger.storage.tables import (
    Account,
    BankChunkRow,
    Company,
    CounterpartyAlias,
    CounterpartyBankAccount,
    CounterpartyRow,
    DocumentLineRow,
    DocumentRow,
    IngestBatch,
    SourceCursor,
)

CHUNK = 500


@dataclass(slots=True)
class StoreResult:
    batch_id: int
    inserted: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    changed: list[tuple[str, str]] = field(default_factory=list)  # (kind, number), original kept
    exceptions: RaisedCounts = field(default_factory=lambda: RaisedCounts(0, 0))


def sync_company(engine: Engine, config: CompanyConfig, chart: ChartOfAccounts) -> None:
    """Create or update the company row and add accounts of the chart that are not there yet."""
    section = config.company
    with engine.begin() as connection:
        table = Company.__table__
        exists = connection.execute(select(table.c.id).where(table.c.id == section.id)).first()
        values = {"name": section.name, "tax_id": section.tax_id, "base_currency": section.base_currency}
        if exists:
            connection.execute(update(table).where(table.c.id == section.id).values(**values))
        else:
            connection.execute(table.insert().values(id=section.id, **values))
        accounts = Account.__table__
        known = set(connection.execute(select(accounts.c.code).where(accounts.c.company_id == section.id)).scalars())
        insert_rows(connection, accounts, [
            {"company_id": section.id, "code": a.code, "name": a.name, "category": a.category,
             "normal_side": a.normal_side} for a in chart.accounts if a.code not in known])


def store(engine: Engine, company_id: str, source: str,
          records: Iterable[AnyDocument | Counterparty | BankBatch],
          problems: Sequence[BadInput] = (), cursor: str | Callable[[], str | None] | None = None) -> StoreResult:
    """Store ``records`` of one source run, the exceptions they raise and, last, its ``cursor``.

    ``records`` may be a generator: it is consumed inside the transaction, bank transactions
    (one by one or as ``BankBatch`` rows) stored in chunks, so memory does not grow with the
    statement.
    ``problems`` and a callable ``cursor`` are read after it is exhausted, so a generator may
    still be filling them.
    """
    with engine.begin() as connection:
        batch_id = connection.execute(IngestBatch.__table__.insert().values(
            company_id=company_id, source=source, started_at=datetime.now(UTC),
            status="running")).inserted_primary_key[0]
        result = StoreResult(batch_id=batch_id)
        documents, parties = [], []
        bank = _BankStage(connection, company_id, source, batch_id, result)
        read = 0
        try:
            with fewer_collections():  # records may be a stream of millions of rows
                for record in records:
                    if isinstance(record, BankBatch):
                        read += len(record)
                        bank.add_batch(record)
                        continue
                    read += 1
                    if isinstance(record, BankTransaction):
                        bank.add(record)
                    elif isinstance(record, Counterparty):
                        parties.append(record)
                    else:
                        documents.append(record)
                bank.finish()
        except BaseException:
            bank.abort()  # an open COPY ends, so that the transaction can roll back
            raise
        _store_parties(connection, company_id, parties, result)
        _store_documents(connection, company_id, source, batch_id, documents, result)
        checkpoint("staged")
        items: list[ExceptionItem] = [unparseable(problem, source) for problem in problems]
        items += [source_changed(kind, number, source) for kind, number in result.changed]
        result.exceptions = raise_exceptions(connection, company_id, items, batch_id)
        table = IngestBatch.__table__
        connection.execute(update(table).where(table.c.id == batch_id).values(
            finished_at=datetime.now(UTC), status="committed", records_read=read,
            records_inserted=sum(result.inserted.values()), records_unchanged=sum(result.unchanged.values()),
            records_changed=len(result.changed), records_rejected=len(problems)))
        position = cursor() if callable(cursor) else cursor
        if position is not None:
            _save_cursor(connection, company_id, source, position, batch_id)
        checkpoint("cursor_advanced")
    checkpoint("committed")
    return result


def _save_cursor(connection: Connection, company_id: str, source: str, cursor: str, batch_id: int) -> None:
    table = SourceCursor.__table__
    where = (table.c.company_id == company_id) & (table.c.source == source)
    values = {"cursor": cursor, "batch_id": batch_id, "updated_at": datetime.now(UTC)}
    if connection.execute(update(table).where(where).values(**values)).rowcount == 0:
        connection.execute(table.insert().values(company_id=company_id, source=source, **values))


def read_cursor(engine: Engine, company_id: str, source: str) -> str | None:
    table = SourceCursor.__table__
    with engine.connect() as connection:
        return connection.execute(select(table.c.cursor).where(
            (table.c.company_id == company_id) & (table.c.source == source))).scalar_one_or_none()


def _classify(known: dict, key, digest: str, kind: str, number: str, result: StoreResult) -> bool:
    """True when the record is new. Known keys are counted as unchanged or reported changed."""
    if key not in known:
        known[key] = digest
        return True
    if known[key] == digest:
        result.unchanged[kind] += 1
    else:
        result.changed.append((kind, number))
    return False


def _store_documents(connection, company_id, source, batch_id, documents, result) -> None:
    if not documents:
        return
    table = DocumentRow.__table__
    prepared = [document_rows(document) for document in documents]
    known: dict[tuple[str, str], str] = {}
    by_kind: dict[str, list[str]] = {}
    for header, _lines in prepared:
        by_kind.setdefault(header["kind"], []).append(header["doc_no"])
    for kind, numbers in by_kind.items():  # only the keys of this batch are looked up
        for start in range(0, len(numbers), CHUNK):
            known.update(((kind, n), h) for n, h in connection.execute(
                select(table.c.doc_no, table.c.content_hash).where(
                    (table.c.company_id == company_id) & (table.c.kind == kind)
                    & table.c.doc_no.in_(numbers[start:start + CHUNK]))))
    headers, line_groups = [], []
    for header, lines in prepared:
        if _classify(known, (header["kind"], header["doc_no"]), header["content_hash"], header["kind"],
                     header["doc_no"], result):
            headers.append({**header, "company_id": company_id, "source": source, "batch_id": batch_id})
            line_groups.append(lines)
            result.inserted[header["kind"]] += 1
    ids = insert_rows(connection, table, headers, return_ids=True)
    insert_rows(connection, DocumentLineRow.__table__,
                [{"document_id": doc_id, **line} for doc_id, lines in zip(ids, line_groups) for line in lines])


class _BankStage:
    """Bank transactions of one batch, merged into bank_txn a chunk at a time.

    A chunk whose digest is recorded in bank_chunk is stored already: it is counted, and
    nothing else is done. Otherwise the chunk is inserted straight into bank_txn inside a
    savepoint; if a row's key is stored already, the savepoint is rolled back and the chunk
    (and the rest of the batch) goes through a staging table compared with bank_txn in SQL.
    A chunk with no changed row is then recorded by its digest.

    On PostgreSQL the chunks after a first new one go into one COPY, up to ``SPAN`` chunks,
    without a lookup each: the server inserts while the next chunks are read. If that COPY
    meets a stored key, its savepoint is rolled back and its chunks are merged again one by
    one as above, so the outcome is the same.
    """

    CHUNK = 10_000
    SPAN = 10
    COLUMNS = (*BANK_COLUMNS, "company_id", "source", "batch_id")
    SAME_KEY = "b.company_id = s.company_id AND b.account_no = s.account_no AND b.txn_id = s.txn_id"

    def __init__(self, connection: Connection, company_id: str, source: str, batch_id: int,
                 result: StoreResult) -> None:
        self.connection, self.company_id, self.source, self.batch_id = connection, company_id, source, batch_id
        self.result = result
        self.pending: dict[tuple[str, str], tuple] = {}  # the same transaction twice in a chunk is one
        self.direct = True  # until a chunk meets a stored key
        self.staged = False
        self.postgres = connection.dialect.name == "postgresql"
        self.constants = {"company_id": company_id, "source": source, "batch_id": batch_id}
        self.span: list[BankBatch] = []  # chunks in the open COPY (PostgreSQL)
        self.copy = None  # (DB-API cursor, copy context manager, copy) while a COPY is open

    def add(self, txn: BankTransaction) -> None:
        row = bank_values(txn)
        key = (row[0], row[1])
        first = self.pending.get(key)
        if first is None:
            self.pending[key] = row
            if len(self.pending) >= self.CHUNK:
                self._flush()
        elif first[-1] == row[-1]:
            self.result.unchanged["bank_txn"] += 1
        else:
            self.result.changed.append(("bank_txn", txn.number))

    def add_batch(self, batch: BankBatch) -> None:
        self._flush()
        self._merge(batch)

    def finish(self) -> None:
        self._flush()
        self._end_span()
        if self.staged and not self.postgres:
            self.connection.execute(text("DROP TABLE temp.stage_bank_txn"))

    def abort(self) -> None:
        if self.copy is not None:
            cursor, manager, _copy = self.copy
            self.copy, self.span = None, []
            try:
                manager.__exit__(RuntimeError, RuntimeError("store aborted"), None)
            except Exception:  # the COPY fails, as asked; the transaction rolls back next
                pass
            cursor.close()

    def _flush(self) -> None:
        if self.pending:
            self._merge(BankBatch(list(self.pending.values())))
            self.pending = {}

    def _merge(self, batch: BankBatch) -> None:
        connection, result, chunks = self.connection, self.result, BankChunkRow.__table__
        if self.copy is not None:
            self._span_write(batch)
            return
        digest = batch.digest()
        if connection.execute(select(chunks.c.id).where(
                (chunks.c.company_id == self.company_id) & (chunks.c.digest == digest))).first():
            result.unchanged["bank_txn"] += len(batch)
            return
        if self.direct and self.postgres:
            self._span_write(batch)
            return
        changed = len(result.changed)
        if self.direct and self._insert_new(batch.rows):
            result.inserted["bank_txn"] += len(batch)
        else:
            self.direct = False
            self._merge_staged(batch.rows)
        if len(result.changed) == changed:
            connection.execute(chunks.insert().values(company_id=self.company_id, digest=digest,
                                                      rows=len(batch), batch_id=self.batch_id))

    def _span_write(self, batch: BankBatch) -> None:
        """Write a chunk into the open COPY (opening one in a savepoint first); end it at SPAN."""
        if self.copy is None:
            cursor = self.connection.connection.dbapi_connection.cursor()
            cursor.execute("SAVEPOINT yecai_bank_span")
            manager = cursor.copy(f'COPY bank_txn ({", ".join(self.COLUMNS)}) FROM STDIN')
            self.copy = (cursor, manager, manager.__enter__())
        tail = tuple(self.constants.values())
        write = self.copy[2].write_row
        self.span.append(batch)
        try:
            for row in batch.rows:
                write(row + tail)
        except self.connection.dialect.dbapi.Error:  # the server refused already: end and merge again
            self._end_span()
            return
        if len(self.span) >= self.SPAN:
            self._end_span()

    def _end_span(self) -> None:
        """End the open COPY: record its chunks, or roll it back and merge them one by one."""
        if self.copy is None:
            return
        cursor, manager, _copy = self.copy
        span, self.copy, self.span = self.span, None, []
        try:
            try:
                manager.__exit__(None, None, None)
            except self.connection.dialect.dbapi.IntegrityError:
                cursor.execute("ROLLBACK TO SAVEPOINT yecai_bank_span")
                cursor.execute("RELEASE SAVEPOINT yecai_bank_span")
                self.direct = False
                for batch in span:
                    self._merge(batch)
                return
            cursor.execute("RELEASE SAVEPOINT yecai_bank_span")
        finally:
            cursor.close()
        chunks = BankChunkRow.__table__
        for batch in span:
            self.result.inserted["bank_txn"] += len(batch)
            self.connection.execute(chunks.insert().values(company_id=self.company_id, digest=batch.digest(),
                                                           rows=len(batch), batch_id=self.batch_id))

    def _insert_new(self, values: list[tuple]) -> bool:
        """Insert rows whose keys are all new; False, with nothing inserted, when one is stored."""
        integrity = self.connection.dialect.dbapi.IntegrityError
        savepoint = "SAVEPOINT yecai_bank_chunk"
        with driver_cursor(self.connection, savepoint) as cursor:
            try:
                insert_values(self.connection, "bank_txn", BANK_COLUMNS, values, constants=self.constants,
                              cursor=cursor)
            except integrity:  # any other error ends the whole transaction, as it should
                cursor.execute(f"ROLLBACK TO {savepoint}")
                cursor.execute(f"RELEASE {savepoint}")
                return False
            cursor.execute(f"RELEASE {savepoint}")
        return True

    def _merge_staged(self, values: list[tuple]) -> None:
        connection, result, same_key = self.connection, self.result, self.SAME_KEY
        if not self.staged:
            if self.postgres:
                connection.execute(text("CREATE TEMP TABLE stage_bank_txn (LIKE bank_txn) ON COMMIT DROP"))
                connection.execute(text("ALTER TABLE stage_bank_txn DROP COLUMN id"))
            else:
                connection.execute(text("DROP TABLE IF EXISTS temp.stage_bank_txn"))
                connection.execute(text("CREATE TEMP TABLE stage_bank_txn AS SELECT * FROM bank_txn WHERE 0"))
            self.staged = True
        else:
            connection.execute(text("DELETE FROM stage_bank_txn"))
        insert_values(connection, "stage_bank_txn", BANK_COLUMNS, values, constants=self.constants)
        for account_no, txn_id in connection.execute(text(
                f"SELECT s.account_no, s.txn_id FROM stage_bank_txn s JOIN bank_txn b ON {same_key} "
                f"WHERE b.content_hash <> s.content_hash ORDER BY s.account_no, s.txn_id")):
            result.changed.append(("bank_txn", f"{account_no}:{txn_id}"))
        unchanged = connection.execute(text(
            f"SELECT count(*) FROM stage_bank_txn s JOIN bank_txn b ON {same_key} "
            f"WHERE b.content_hash = s.content_hash")).scalar_one()
        if unchanged:
            result.unchanged["bank_txn"] += unchanged
        names = ", ".join(self.COLUMNS)
        result.inserted["bank_txn"] += connection.execute(text(
            f"INSERT INTO bank_txn ({names}) SELECT {names} FROM stage_bank_txn s "
            f"WHERE NOT EXISTS (SELECT 1 FROM bank_txn b WHERE {same_key})")).rowcount


def _store_parties(connection, company_id, parties: list[Counterparty], result) -> None:
    if not parties:
        return
    # Stored parties rebuilt as records and hashed, to compare with the incoming ones.
    stored = {p.counterparty_id: content_hash(p) for p in load_counterparties(connection, company_id)}
    new = [party for party in parties if _classify(stored, party.counterparty_id, content_hash(party),
                                                   "counterparty", party.counterparty_id, result)]
    ids = insert_rows(connection, CounterpartyRow.__table__, [
        {"company_id": company_id, "external_id": p.counterparty_id, "role": p.role.value,
         "name": p.name, "tax_id": p.tax_id, "country": p.country} for p in new], return_ids=True)
    insert_rows(connection, CounterpartyAlias.__table__, [
        {"counterparty_id": i, "alias": alias, "source": "master"} for i, p in zip(ids, new) for alias in p.aliases])
    insert_rows(connection, CounterpartyBankAccount.__table__, [
        {"counterparty_id": i, "account_no": account} for i, p in zip(ids, new) for account in p.bank_accounts])
    result.inserted["counterparty"] += len(new)


def batch_count(engine: Engine, company_id: str) -> int:
    with engine.connect() as connection:
        table = IngestBatch.__table__
        return connection.execute(select(func.count()).select_from(table)
                                  .where(table.c.company_id == company_id)).scalar_one()
