"""Tables of the review queue (migration 0006): comments, the audit chain, what people decided
(rejected pairs, blocked payments, per-counterparty autonomy), users, sessions, login attempts
and the nightly auto-match figures the dashboard draws.

They live in ledger, beside the others, so that the migrations and the models are compared in one
metadata and so that matching and flows can read decisions (rejected pairs) without importing the UI.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel


class ExceptionComment(SQLModel, table=True):
    __tablename__ = "exception_comment"
    __table_args__ = (Index("ix_exception_comment_item", "exception_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    exception_id: int = Field(sa_column=Column(ForeignKey("exception_item.id", ondelete="CASCADE"),
                                               nullable=False))
    author: str = Field(max_length=64)
    body: str
    created_at: datetime


class AuditEvent(SQLModel, table=True):
    """One state change by a person or the agent, chained by hash (ledger/posting/audit.py)."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("company_id", "seq"),
                      Index("ix_audit_event_subject", "company_id", "subject"))
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    seq: int
    at: datetime
    actor: str = Field(max_length=64)
    role: str = Field(max_length=32)
    action: str = Field(max_length=32)
    subject: str = Field(max_length=128)      # "exception:17", "voucher:3", "user:li"
    before: str                                # JSON
    after: str                                 # JSON
    reason: str = ""
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class RejectedPair(SQLModel, table=True):
    """A pair a person ignored for good: the matcher never proposes it again."""

    __tablename__ = "rejected_pair"
    __table_args__ = (UniqueConstraint("company_id", "from_type", "from_no", "to_type", "to_no"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    from_type: str = Field(max_length=24)
    from_no: str = Field(max_length=128)
    to_type: str = Field(max_length=24)
    to_no: str = Field(max_length=256)
    rejected_by: str = Field(max_length=64)
    rejected_at: datetime
    reason: str = ""


class PaymentBlock(SQLModel, table=True):
    """A document marked as a duplicate: nothing may pay it."""

    __tablename__ = "payment_block"
    __table_args__ = (UniqueConstraint("company_id", "doc_type", "doc_no"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    doc_type: str = Field(max_length=24)
    doc_no: str = Field(max_length=256)
    duplicate_of: str = Field(default="", max_length=256)
    blocked_by: str = Field(max_length=64)
    blocked_at: datetime
    reason: str = ""


class PartyAutonomy(SQLModel, table=True):
    """How often people confirmed or declined the agent's suggestions for one counterparty."""

    __tablename__ = "party_autonomy"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    counterparty: str = Field(primary_key=True, max_length=128)   # counterparty external id
    confirmations: int = 0
    declines: int = 0
    last_decision_at: datetime | None = None
    last_decline_at: datetime | None = None


class ReviewUser(SQLModel, table=True):
    __tablename__ = "review_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = ""
    password_hash: str
    roles: str = ""                # comma separated: auditor, reviewer, approver, finance_admin, it_admin
    disabled: bool = False
    created_at: datetime


class ReviewSession(SQLModel, table=True):
    """A login; the cookie carries a random token, the table only its SHA-256."""

    __tablename__ = "review_session"
    __table_args__ = (Index("ix_review_session_user", "user_id"),)
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("review_user.id", ondelete="CASCADE"),
                                          nullable=False))
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    last_seen_at: datetime


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_user", "username", "at"),
                      Index("ix_login_attempt_address", "address", "at"))
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    address: str = Field(max_length=64)
    at: datetime
    succeeded: bool = False


class NightlyMetric(SQLModel, table=True):
    """One row per company and night: what the matcher settled on its own."""

    __tablename__ = "nightly_metric"
    company_id: str = Field(foreign_key="company.id", primary_key=True)
    night: date = Field(primary_key=True)
    bank_txns: int = 0
    settled_txns: int = 0
    auto_links: int = 0
    suggested_links: int = 0
