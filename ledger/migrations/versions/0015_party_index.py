"""party_index: the party index kept for the master data it was made of

Revision ID: 0015
Revises: 0014

A nightly delta whose statement brings a few names never seen read every party's names and
built the index of their keys (78,000 parties: 1.1–1.3 s of the run's critical path) to resolve
them; the index's tables, kept per company for the master data's version and the code that
normalised the names, are read instead (0.25 s). See ``ledger.storage.tables.PartyIndexRow``.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('party_index',
    sa.Column('company_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('master_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tables', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('made_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('company_id')
    )


def downgrade() -> None:
    op.drop_table('party_index')
