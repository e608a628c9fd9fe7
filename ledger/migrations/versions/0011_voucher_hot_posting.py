"""posting rewrites no voucher index: numbers and chain positions leave the indexes, room for HOT

Revision ID: 0011
Revises: 0010

On PostgreSQL posting a voucher is an UPDATE of its row. While ``state``, ``number`` and
``chain_seq`` sat in indexes (ix_voucher_state and the two UNIQUE constraints), every posted
row was a non-HOT update that wrote a new entry into each of the table's six indexes; that
was most of the time posting took. Here:

* ix_voucher_state (company, state, period) becomes ix_voucher_period (company, period): a
  column that never changes, so it does not block HOT updates; period close and the review
  pages still find a company's period by index, the state is filtered on the rows.
* UNIQUE (company, period, word, number) and UNIQUE (company, chain_seq) are dropped on
  PostgreSQL. Numbers stay gapless and unique by the counters (one row lock per company
  chain and per period and word, taken in the posting transaction); ``post_vouchers`` then
  checks, before it commits, that every period and word it posted into holds exactly the
  numbers 1..N (a stronger check than UNIQUE, which allows gaps), and ``yecai ledger verify``
  names the first voucher whose number repeats or skips.
* fillfactor 30 on voucher, so a row's reviewed and posted versions fit on its page and
  PostgreSQL updates it in place (heap-only, no index writes).

SQLite keeps the two UNIQUE constraints: they are part of its CREATE TABLE and dropping them
means rebuilding the table under the foreign keys of voucher_line and the 0005 triggers, and
SQLite has no HOT problem to solve (an UPDATE there only touches indexes on changed columns).
Alembic does not compare SQLite's unnamed UNIQUE constraints, so the models match either way.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 30


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.drop_index('ix_voucher_state', table_name='voucher')
    op.create_index('ix_voucher_period', 'voucher', ['company_id', 'period'], unique=False)
    if _postgres():
        op.drop_constraint('voucher_company_id_period_word_number_key', 'voucher', type_='unique')
        op.drop_constraint('voucher_company_id_chain_seq_key', 'voucher', type_='unique')
        op.execute(f"ALTER TABLE voucher SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if _postgres():
        op.execute("ALTER TABLE voucher RESET (fillfactor)")
        op.create_unique_constraint('voucher_company_id_chain_seq_key', 'voucher', ['company_id', 'chain_seq'])
        op.create_unique_constraint('voucher_company_id_period_word_number_key', 'voucher',
                                    ['company_id', 'period', 'word', 'number'])
    op.drop_index('ix_voucher_period', table_name='voucher')
    op.create_index('ix_voucher_state', 'voucher', ['company_id', 'state', 'period'], unique=False)
