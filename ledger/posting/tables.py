"""Voucher tables: vouchers and lines (integer minor units), numbering counters, periods.

Posted vouchers are immutable: database triggers (SQLite and PostgreSQL, migrations 0005 and
0006) refuse updates and deletes of a posted voucher and any change to its lines, whatever
the client. Foreign-currency vouchers keep their rate, its date and source, and every line
its base-currency amounts (0009).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class VoucherRow(SQLModel, table=True):
    __tablename__ = "voucher"
    # No index covers a column that posting changes (state, number, chain_seq…), so PostgreSQL
    # posts a voucher as a heap-only update with no index writes (migration 0011); numbers are
    # kept gapless and unique by the counters and checked at posting and by verify_chain.
    __table_args__ = (UniqueConstraint("company_id", "event_key"),
                      UniqueConstraint("reversal_of"),   # a voucher is reversed at most once
                      Index("ix_voucher_period", "company_id", "period"),
                      {"postgresql_with": {"fillfactor": 30}})
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    event_key: str = Field(max_length=256)
    event_kind: str = Field(max_length=32)
    word: str = Field(max_length=4)
    period: str = Field(max_length=7)             # YYYY-MM
    voucher_date: date
    state: str = Field(default="draft", max_length=10)   # draft → reviewed → posted
    number: int | None = None                      # gapless per (company, period, word), set at posting
    voucher_no: str | None = Field(default=None, max_length=32)
    doc_type: str = Field(max_length=24)
    doc_no: str = Field(max_length=256)
    currency: str = Field(max_length=3)
    template_version: str = Field(max_length=32)
    reversal_of: int | None = Field(default=None, sa_column=Column(ForeignKey("voucher.id"), nullable=True))
    reason: str = ""
    prepared_by: str = Field(max_length=64)
    reviewed_by: str | None = Field(default=None, max_length=64)
    posted_by: str | None = Field(default=None, max_length=64)
    posted_at: datetime | None = None
    chain_seq: int | None = None                   # order in the company's hash chain
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
    # the conversion into the base currency (migration 0009): rate as exact decimal text
    base_currency: str = Field(default="", max_length=3, sa_column_kwargs={"server_default": ""})
    fx_rate: str = Field(default="1", max_length=32, sa_column_kwargs={"server_default": "1"})
    fx_rate_date: date | None = None
    fx_source: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # SHA-256 of the voucher's canonical content (header and lines), made when it is drafted
    content_hash: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class VoucherLineRow(SQLModel, table=True):
    __tablename__ = "voucher_line"
    __table_args__ = (UniqueConstraint("voucher_id", "line_no"),)
    id: int | None = Field(default=None, primary_key=True)
    voucher_id: int = Field(sa_column=Column(ForeignKey("voucher.id"), nullable=False))
    line_no: int
    account_code: str = Field(max_length=32)
    account_name: str
    debit_minor: int = Field(sa_type=BigInteger)
    credit_minor: int = Field(sa_type=BigInteger)
    summary: str
    customer: str = ""
    supplier: str = ""
    project: str = ""
    department: str = ""
    product_line: str = ""
    base_debit_minor: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": text("0")})
    base_credit_minor: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": text("0")})


class VoucherCounter(SQLModel, table=True):
    """The last number used per (company, period, word); 'chain' rows count the hash chain."""

    __tablename__ = "voucher_counter"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    period: str = Field(primary_key=True, max_length=7)
    word: str = Field(primary_key=True, max_length=8)
    last_number: int = 0


class AccountingPeriod(SQLModel, table=True):
    __tablename__ = "accounting_period"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    period: str = Field(primary_key=True, max_length=7)
    state: str = Field(default="open", max_length=8)
    changed_by: str = Field(max_length=64)
    changed_at: datetime
    reason: str = ""


class FxRateRow(SQLModel, table=True):
    """Exchange rates: base-currency units per unit of ``currency`` on ``rate_date``, with the source."""

    __tablename__ = "fx_rate"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    rate_date: date = Field(primary_key=True)
    rate: str = Field(max_length=32)                 # exact decimal text, never a float
    source: str
    added_by: str = Field(max_length=64)
    added_at: datetime
