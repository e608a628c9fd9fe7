"""matching state: indexes for the nightly delta

Revision ID: 0013
Revises: 0012

* party_name gets ix_party_name_version (company, decided_by, master_version). Each run that
  saves new names first drops the automatic decisions made against other master data; without
  the index that was a scan of the whole cache (156,000 names: 0.1-0.2 s of a nightly delta
  that saves a few dozen). Now the stale ones are two index ranges either side of the current
  version, empty on a night the master data did not change.
* open_item's ix_open_item_party_amount (company, doc_type, party, open_minor) becomes
  ix_open_item_kind (company, doc_type). Nothing looked items up by party and amount (the
  matcher loads a company's open items of one kind as columns), while every settled item was
  deleted from it and every part payment moved in it. On SQLite an index ends in the row id,
  so the new one hands the load its rows in id order without a sort, and a part payment (an
  UPDATE of open_minor) touches no index at all.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_party_name_version', 'party_name', ['company_id', 'decided_by', 'master_version'],
                    unique=False)
    op.drop_index('ix_open_item_party_amount', table_name='open_item')
    op.create_index('ix_open_item_kind', 'open_item', ['company_id', 'doc_type'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_open_item_kind', table_name='open_item')
    op.create_index('ix_open_item_party_amount', 'open_item', ['company_id', 'doc_type', 'party_id', 'open_minor'],
                    unique=False)
    op.drop_index('ix_party_name_version', table_name='party_name')
