"""Storing canonical records: insert what is new, count what is already there, and report
(never overwrite) a record whose key is known but whose content changed.

Everything of one call happens in one transaction: a failure leaves nothing behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, update

from ledger.counterparties import Counterparty
from ledger.documents import AnyDocument, BankTransaction
from ledger.settings import ChartOfAccounts, CompanyConfig
from ledger.storage.bulk import insert_rows
from ledger.storage.read import load_counterparties
from ledger.storage.rows import bank_row, content_hash, document_rows
from ledger.storage.tables import (
    Account,
    BankTxnRow,
    Company,
    CounterpartyAlias,
    CounterpartyBankAccount,
    CounterpartyRow,
    DocumentLineRow,
    DocumentRow,
    IngestBatch,
    SourceCursor,
)


@dataclass(slots=True)
class StoreResult:
    batch_id: int
    inserted: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    changed: list[tuple[str, str]] = field(default_factory=list)  # (kind, number), original kept


def sync_company(engine: Engine, config: CompanyConfig, chart: ChartOfAccounts) -> None:
    """Create or update the company row and add accounts of the chart that are not there yet."""
    section = config.company
    with engine.begin() as connection:
        table = Company.__table__
        exists = connection.execute(select(table.c.id).where(table.c.id == section.id)).first()
        values = {"name": section.name, "tax_id": section.tax_id,
                  "base_currency": section.base_currency}
        if exists:
            connection.execute(update(table).where(table.c.id == section.id).values(**values))
        else:
            connection.execute(table.insert().values(id=section.id, **values))
        accounts = Account.__table__
        known = set(connection.execute(select(accounts.c.code)
                                       .where(accounts.c.company_id == section.id)).scalars())
        insert_rows(connection, accounts, [
            {"company_id": section.id, "code": a.code, "name": a.name, "category": a.category,
             "normal_side": a.normal_side} for a in chart.accounts if a.code not in known])


def store(engine: Engine, company_id: str, source: str,
          records: Iterable[AnyDocument | Counterparty], rejected: int = 0,
          cursor: str | None = None) -> StoreResult:
    """Store ``records`` of one source run and, in the same transaction, its ``cursor``."""
    documents, transactions, parties = [], [], []
    for record in records:
        if isinstance(record, BankTransaction):
            transactions.append(record)
        elif isinstance(record, Counterparty):
            parties.append(record)
        else:
            documents.append(record)
    read = len(documents) + len(transactions) + len(parties)
    with engine.begin() as connection:
        batch_id = connection.execute(IngestBatch.__table__.insert().values(
            company_id=company_id, source=source, started_at=datetime.now(UTC),
            status="running")).inserted_primary_key[0]
        result = StoreResult(batch_id=batch_id)
        _store_parties(connection, company_id, parties, result)
        _store_documents(connection, company_id, source, batch_id, documents, result)
        _store_transactions(connection, company_id, source, batch_id, transactions, result)
        connection.execute(update(IngestBatch.__table__).where(IngestBatch.__table__.c.id == batch_id)
                           .values(finished_at=datetime.now(UTC), status="committed",
                                   records_read=read, records_inserted=sum(result.inserted.values()),
                                   records_unchanged=sum(result.unchanged.values()),
                                   records_changed=len(result.changed), records_rejected=rejected))
        if cursor is not None:
            _save_cursor(connection, company_id, source, cursor, batch_id)
    return result


def _save_cursor(connection, company_id: str, source: str, cursor: str, batch_id: int) -> None:
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


def _classify(existing: dict, key, digest: str, kind: str, number: str, result: StoreResult) -> bool:
    """True when the record is new. Known keys are counted as unchanged or reported changed."""
    if key not in existing:
        existing[key] = digest
        return True
    if existing[key] == digest:
        result.unchanged[kind] += 1
    else:
        result.changed.append((kind, number))
    return False


def _store_documents(connection, company_id, source, batch_id, documents, result) -> None:
    if not documents:
        return
    table = DocumentRow.__table__
    existing = {(k, n): h for k, n, h in connection.execute(
        select(table.c.kind, table.c.doc_no, table.c.content_hash).where(table.c.company_id == company_id))}
    headers, line_groups = [], []
    for document in documents:
        header, lines = document_rows(document)
        if _classify(existing, (header["kind"], header["doc_no"]), header["content_hash"],
                     header["kind"], header["doc_no"], result):
            headers.append({**header, "company_id": company_id, "source": source, "batch_id": batch_id})
            line_groups.append(lines)
            result.inserted[header["kind"]] += 1
    ids = insert_rows(connection, table, headers, return_ids=True)
    insert_rows(connection, DocumentLineRow.__table__,
                [{"document_id": doc_id, **line} for doc_id, lines in zip(ids, line_groups)
                 for line in lines])


def _store_transactions(connection, company_id, source, batch_id, transactions, result) -> None:
    if not transactions:
        return
    table = BankTxnRow.__table__
    existing = {(a, t): h for a, t, h in connection.execute(
        select(table.c.account_no, table.c.txn_id, table.c.content_hash)
        .where(table.c.company_id == company_id))}
    rows = []
    for txn in transactions:
        row = bank_row(txn)
        if _classify(existing, (txn.account_no, txn.txn_id), row["content_hash"], "bank_txn",
                     txn.number, result):
            rows.append({**row, "company_id": company_id, "source": source, "batch_id": batch_id})
            result.inserted["bank_txn"] += 1
    insert_rows(connection, table, rows)


def _store_parties(connection, company_id, parties: list[Counterparty], result) -> None:
    if not parties:
        return
    # Stored parties rebuilt as records and hashed, to compare with the incoming ones.
    stored = {p.counterparty_id: content_hash(p) for p in load_counterparties(connection, company_id)}
    new = []
    for party in parties:
        if _classify(stored, party.counterparty_id, content_hash(party), "counterparty",
                     party.counterparty_id, result):
            new.append(party)
    ids = insert_rows(connection, CounterpartyRow.__table__, [
        {"company_id": company_id, "external_id": p.counterparty_id, "role": p.role.value,
         "name": p.name, "tax_id": p.tax_id, "country": p.country} for p in new], return_ids=True)
    insert_rows(connection, CounterpartyAlias.__table__, [
        {"counterparty_id": i, "alias": alias, "source": "master"}
        for i, p in zip(ids, new) for alias in p.aliases])
    insert_rows(connection, CounterpartyBankAccount.__table__, [
        {"counterparty_id": i, "account_no": account}
        for i, p in zip(ids, new) for account in p.bank_accounts])
    result.inserted["counterparty"] += len(new)


def batch_count(engine: Engine, company_id: str) -> int:
    with engine.connect() as connection:
        table = IngestBatch.__table__
        return connection.execute(select(func.count()).select_from(table)
                                  .where(table.c.company_id == company_id)).scalar_one()
