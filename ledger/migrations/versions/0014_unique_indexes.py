"""match_link and open_item: their unique keys as named unique indexes

Revision ID: 0014
Revises: 0013

The unnamed UNIQUE (company_id, from_type, from_no, to_type, to_no) of match_link becomes
the unique index ux_match_link_pair, and open_item's UNIQUE (company_id, doc_type, doc_no)
the unique index ux_open_item_doc, on the same columns. Same rule, same lookups; but an index
can be dropped inside a transaction and built again, which SQLite's automatic index of a
table constraint cannot. The cash step does that for a first load (``flows.settle_step``):
a million links inserted into a bare table and indexed after, a million settled invoices
deleted from one, instead of a random leaf of the unique index per row. On SQLite each
table is rebuilt (batch mode); on PostgreSQL the constraint goes once the index is made.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → (index, its columns); the constraint each had is named as PostgreSQL named it (SQLite reflects
# it without a name: batch mode names it by the same convention)
KEYS = {'match_link': ('ux_match_link_pair', ['company_id', 'from_type', 'from_no', 'to_type', 'to_no']),
        'open_item': ('ux_open_item_doc', ['company_id', 'doc_type', 'doc_no'])}
NAMING = {"uq": "%(table_name)s_%(column_0_N_name)s_key"}


def _constraint(table: str) -> str:
    return f"{table}_{'_'.join(KEYS[table][1])}_key"


def upgrade() -> None:
    for table, (index, columns) in KEYS.items():
        if op.get_bind().dialect.name == 'sqlite':
            with op.batch_alter_table(table, naming_convention=NAMING, recreate='always') as batch_op:
                batch_op.drop_constraint(_constraint(table), type_='unique')
                batch_op.create_index(index, columns, unique=True)
        else:
            op.create_index(index, table, columns, unique=True)
            op.drop_constraint(_constraint(table), table, type_='unique')


def downgrade() -> None:
    for table, (index, columns) in KEYS.items():
        if op.get_bind().dialect.name == 'sqlite':
            with op.batch_alter_table(table, naming_convention=NAMING, recreate='always') as batch_op:
                batch_op.drop_index(index)
                batch_op.create_unique_constraint(_constraint(table), columns)
        else:
            op.create_unique_constraint(_constraint(table), table, columns)
            op.drop_index(index, table_name=table)
