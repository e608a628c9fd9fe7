"""Tables. Money columns are integer minor units (``*_minor``) beside a currency code;
quantities, unit prices and tax rates are exact decimal text (SQLite has no decimal type).

Schema changes go through an Alembic revision in ``ledger/migrations/versions``; the test
``test_migrations`` fails when these models and the migrations disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class DecimalText(TypeDecorator):
    """A Decimal stored as its canonical text: exact on every database."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalText takes Decimal, got {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: str | None, dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Company(SQLModel, table=True):
    __tablename__ = "company"
    id: str = Field(primary_key=True, max_length=64)
    name: str
    tax_id: str | None = None
    base_currency: str = Field(max_length=3)


class Account(SQLModel, table=True):
    """Chart of accounts (会计科目)."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("company_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    code: str = Field(max_length=32)
    name: str
    category: str = Field(max_length=16)
    normal_side: str = Field(max_length=6)


class CounterpartyRow(SQLModel, table=True):
    __tablename__ = "counterparty"
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    external_id: str = Field(max_length=128)
    role: str = Field(max_length=8)
    name: str
    tax_id: str | None = Field(default=None, max_length=32, index=True)
    country: str = Field(default="CN", max_length=2)


class CounterpartyAlias(SQLModel, table=True):
    __tablename__ = "counterparty_alias"
    __table_args__ = (UniqueConstraint("counterparty_id", "alias"),)
    id: int | None = Field(default=None, primary_key=True)
    counterparty_id: int = Field(sa_column=Column(ForeignKey("counterparty.id", ondelete="CASCADE"),
                                                  nullable=False))
    alias: str
    source: str = Field(default="master", max_length=16)


class CounterpartyBankAccount(SQLModel, table=True):
    __tablename__ = "counterparty_bank_account"
    __table_args__ = (UniqueConstraint("counterparty_id", "account_no"),)
    id: int | None = Field(default=None, primary_key=True)
    counterparty_id: int = Field(sa_column=Column(ForeignKey("counterparty.id", ondelete="CASCADE"),
                                                  nullable=False))
    account_no: str = Field(max_length=64)


class IngestBatch(SQLModel, table=True):
    """One run of one source: what it read, wrote and rejected."""

    __tablename__ = "ingest_batch"
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    source: str = Field(max_length=128)
    started_at: datetime
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=16)
    records_read: int = 0
    records_inserted: int = 0
    records_unchanged: int = 0
    records_changed: int = 0
    records_rejected: int = 0


class SourceCursor(SQLModel, table=True):
    """Where each source stopped; written in the same transaction as the rows it covers."""

    __tablename__ = "source_cursor"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    source: str = Field(primary_key=True, max_length=128)
    cursor: str
    batch_id: int = Field(foreign_key="ingest_batch.id")
    updated_at: datetime


class DocumentRow(SQLModel, table=True):
    """Header of a business document (orders, shipments, invoices)."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("company_id", "kind", "doc_no"),
                      Index("ix_document_kind_date", "company_id", "kind", "doc_date"))
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    kind: str = Field(max_length=24)
    doc_no: str = Field(max_length=128)
    doc_date: date
    due_date: date | None = None
    counterparty: str
    counterparty_tax_id: str | None = Field(default=None, max_length=32)
    currency: str | None = Field(default=None, max_length=3)
    order_ref: str = ""
    shipment_ref: str = ""
    net_minor: int | None = Field(default=None, sa_type=BigInteger)
    tax_minor: int | None = Field(default=None, sa_type=BigInteger)
    project: str = ""
    department: str = ""
    source: str = Field(max_length=128)
    content_hash: str = Field(max_length=64)
    batch_id: int | None = Field(default=None, foreign_key="ingest_batch.id")


class DocumentLineRow(SQLModel, table=True):
    __tablename__ = "document_line"
    __table_args__ = (UniqueConstraint("document_id", "line_no"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=Column(ForeignKey("document.id", ondelete="CASCADE"),
                                              nullable=False))
    line_no: int
    sku: str = ""
    quantity: Decimal = Field(sa_type=DecimalText)
    unit_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    tax_rate: Decimal | None = Field(default=None, sa_type=DecimalText)
    net_minor: int | None = Field(default=None, sa_type=BigInteger)
    tax_minor: int | None = Field(default=None, sa_type=BigInteger)


class BankTxnRow(SQLModel, table=True):
    __tablename__ = "bank_txn"
    __table_args__ = (UniqueConstraint("company_id", "account_no", "txn_id"),
                      Index("ix_bank_txn_date", "company_id", "booking_date"))
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    account_no: str = Field(max_length=64)
    txn_id: str = Field(max_length=128)
    booking_date: date
    value_date: date
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    counterparty: str = ""
    counterparty_account: str = ""
    remittance: str = ""
    source: str = Field(max_length=128)
    content_hash: str = Field(max_length=64)
    batch_id: int | None = Field(default=None, foreign_key="ingest_batch.id")


class BankChunkRow(SQLModel, table=True):
    """A batch of bank rows stored whole (each inserted or found unchanged), by its digest.

    Storing the same rows again is then one lookup: bank_txn rows are never updated or deleted,
    so a digest once recorded stays true."""

    __tablename__ = "bank_chunk"
    __table_args__ = (UniqueConstraint("company_id", "digest"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    digest: str = Field(max_length=64)
    rows: int
    batch_id: int = Field(foreign_key="ingest_batch.id")


class ExceptionItemRow(SQLModel, table=True):
    """A typed exception, fingerprinted so that seeing it again updates this row."""

    __tablename__ = "exception_item"
    __table_args__ = (UniqueConstraint("company_id", "fingerprint"),
                      Index("ix_exception_item_status", "company_id", "status", "code"),
                      Index("ix_exception_item_queue", "company_id", "status", "id"),
                      Index("ix_exception_item_assignee", "company_id", "assignee", "status"),
                      Index("ix_exception_item_counterparty", "company_id", "counterparty", "status"),
                      Index("ix_exception_item_severity", "company_id", "severity", "status", "id"))
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    fingerprint: str = Field(max_length=64)
    code: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    status: str = Field(default="open", max_length=16)
    message: str
    source: str = ""
    detail: str = ""
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int = 1
    batch_id: int | None = Field(default=None, foreign_key="ingest_batch.id")
    # the review queue (migration 0006): optimistic locking, who has it, until when it sleeps
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    assignee: str | None = Field(default=None, max_length=64)
    snoozed_until: date | None = None
    resolution: str = Field(default="", sa_column_kwargs={"server_default": ""})
    resolved_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = None
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)   # amount at risk
    currency: str | None = Field(default=None, max_length=3)
    counterparty: str | None = Field(default=None, max_length=256)     # None: not looked up yet


class ExceptionDocumentRow(SQLModel, table=True):
    """The documents (or files) an exception is about: the spec's one row per document."""

    __tablename__ = "exception_document"
    __table_args__ = (UniqueConstraint("exception_id", "doc_type", "doc_no"),)
    id: int | None = Field(default=None, primary_key=True)
    exception_id: int = Field(sa_column=Column(ForeignKey("exception_item.id", ondelete="CASCADE"),
                                               nullable=False))
    doc_type: str = Field(max_length=24)
    doc_no: str = Field(max_length=512)
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)


class MatchLinkRow(SQLModel, table=True):
    """A link between adjacent documents of a chain, with the evidence that made it."""

    __tablename__ = "match_link"
    # a unique index rather than a constraint: a run that writes more links than the table holds drops
    # both indexes and builds them again after the rows (``flows.settle_step``); SQLite cannot drop the
    # index behind a table constraint
    __table_args__ = (Index("ux_match_link_pair", "company_id", "from_type", "from_no", "to_type", "to_no",
                            unique=True),
                      Index("ix_match_link_to", "company_id", "to_type", "to_no"))
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    from_type: str = Field(max_length=24)
    from_no: str = Field(max_length=128)
    to_type: str = Field(max_length=24)
    to_no: str = Field(max_length=256)
    decision: str = Field(max_length=16)
    score: float
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    rule: str = Field(max_length=64)
    rule_version: str = Field(max_length=32)
    decided_by: str = Field(max_length=64)
    evidence: str  # JSON: each comparison as [name, level, score, detail] (matching.model.evidence_json)
    decided_at: datetime


class OpenItemRow(SQLModel, table=True):
    """An invoice with money still open: the matcher's working set, kept current by each run.

    Written when invoices are stored (``refresh_open_items``), reduced by auto links and
    deleted when settled, so a nightly run loads only what can still be paid.
    """

    __tablename__ = "open_item"
    # a unique index rather than a constraint, as match_link's: droppable for a first load's mass close
    __table_args__ = (Index("ux_open_item_doc", "company_id", "doc_type", "doc_no", unique=True),
                      Index("ix_open_item_kind", "company_id", "doc_type"))
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    document_id: int = Field(sa_column=Column(ForeignKey("document.id", ondelete="CASCADE"), nullable=False))
    doc_type: str = Field(max_length=24)
    doc_no: str = Field(max_length=128)
    party_id: int | None = Field(default=None, sa_column=Column(ForeignKey("counterparty.id", ondelete="SET NULL"),
                                                                nullable=True))
    currency: str = Field(max_length=3)
    gross_minor: int = Field(sa_type=BigInteger)
    open_minor: int = Field(sa_type=BigInteger)
    doc_date: date
    due_date: date | None = None


class PartyNameRow(SQLModel, table=True):
    """A name as it appeared on a document or statement, and the party it resolved to.

    Cached across runs: the matcher resolves each new name once. Automatic decisions
    (``decided_by`` 'yecai') are valid for the master data they were made against
    (``master_version``); a reviewer's decision stands until a reviewer changes it.
    """

    __tablename__ = "party_name"
    __table_args__ = (UniqueConstraint("company_id", "name"),
                      Index("ix_party_name_version", "company_id", "decided_by", "master_version"))
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    name: str
    name_key: str            # the normalised name
    party_id: int | None = Field(default=None, sa_column=Column(ForeignKey("counterparty.id", ondelete="CASCADE"),
                                                                nullable=True))
    level: str = Field(max_length=16)
    score: float
    matched: str = ""
    master_version: str = Field(max_length=64)
    decided_by: str = Field(max_length=64)
    decided_at: datetime


class PartyIndexRow(SQLModel, table=True):
    """A company's party index (``matching.parties.PartyIndex.tables``, JSON) for the master data of
    ``master_version``, made by the normalisation of ``code_version``: a run whose statement brings a
    few names never seen reads it instead of every party's names (``flows.names``). One per company,
    replaced when an index is built for other master data."""

    __tablename__ = "party_index"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    master_version: str = Field(max_length=64)
    code_version: str = Field(max_length=64)
    tables: str
    made_at: datetime


class MatchCursor(SQLModel, table=True):
    """How far the matcher has worked through a company's stored rows (by row id)."""

    __tablename__ = "match_cursor"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=64)   # 'bank_txn', 'invoice'
    position: int = Field(sa_type=BigInteger)


class RunLock(SQLModel, table=True):
    """One run at a time per company: a lease held by one process (ledger/storage/lock.py)."""

    __tablename__ = "run_lock"
    company_id: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)  # a random token per acquisition
    purpose: str = Field(max_length=32)
    host: str = Field(max_length=255)
    pid: int
    acquired_at: datetime
    expires_at: datetime
