"""vouchers in the base currency (rates, conversions, base amounts per line); content hashes

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# PostgreSQL: the same refusals as 0005, cheaper for bulk work. The voucher trigger tests its
# condition in WHEN (no PL/pgSQL call for rows that are not posted); the line triggers run once
# per statement over its transition table instead of one query per line.
POSTGRES_TRIGGERS = """
DROP TRIGGER IF EXISTS voucher_line_immutable ON voucher_line;
DROP TRIGGER IF EXISTS voucher_immutable ON voucher;
CREATE TRIGGER voucher_immutable BEFORE UPDATE OR DELETE ON voucher
  FOR EACH ROW WHEN (OLD.state = 'posted') EXECUTE FUNCTION yecai_voucher_immutable();
CREATE FUNCTION yecai_voucher_lines_immutable() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed_lines l JOIN voucher v ON v.id = l.voucher_id WHERE v.state = 'posted') THEN
    RAISE EXCEPTION 'lines of posted vouchers are immutable';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER voucher_line_insert_immutable AFTER INSERT ON voucher_line
  REFERENCING NEW TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION yecai_voucher_lines_immutable();
CREATE TRIGGER voucher_line_update_immutable AFTER UPDATE ON voucher_line
  REFERENCING OLD TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION yecai_voucher_lines_immutable();
CREATE TRIGGER voucher_line_delete_immutable AFTER DELETE ON voucher_line
  REFERENCING OLD TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION yecai_voucher_lines_immutable();
"""
POSTGRES_TRIGGERS_0005 = """
DROP TRIGGER IF EXISTS voucher_line_insert_immutable ON voucher_line;
DROP TRIGGER IF EXISTS voucher_line_update_immutable ON voucher_line;
DROP TRIGGER IF EXISTS voucher_line_delete_immutable ON voucher_line;
DROP FUNCTION IF EXISTS yecai_voucher_lines_immutable();
DROP TRIGGER IF EXISTS voucher_immutable ON voucher;
CREATE TRIGGER voucher_immutable BEFORE UPDATE OR DELETE ON voucher
  FOR EACH ROW EXECUTE FUNCTION yecai_voucher_immutable();
CREATE TRIGGER voucher_line_immutable BEFORE INSERT OR UPDATE OR DELETE ON voucher_line
  FOR EACH ROW EXECUTE FUNCTION yecai_voucher_line_immutable();
"""


def upgrade() -> None:
    op.create_table('fx_rate',
    sa.Column('company_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('rate_date', sa.Date(), nullable=False),
    sa.Column('rate', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('company_id', 'currency', 'rate_date')
    )
    # plain ADD COLUMN (no table rebuild), so the immutability triggers of 0005 stay in place
    op.add_column('voucher', sa.Column('base_currency', sqlmodel.sql.sqltypes.AutoString(length=3),
                                       server_default='', nullable=False))
    op.add_column('voucher', sa.Column('fx_rate', sqlmodel.sql.sqltypes.AutoString(length=32),
                                       server_default='1', nullable=False))
    op.add_column('voucher', sa.Column('fx_rate_date', sa.Date(), nullable=True))
    op.add_column('voucher', sa.Column('fx_source', sqlmodel.sql.sqltypes.AutoString(), server_default='',
                                       nullable=False))
    op.add_column('voucher', sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                       server_default='', nullable=False))
    op.add_column('voucher_line', sa.Column('base_debit_minor', sa.BigInteger(), server_default=sa.text('0'),
                                            nullable=False))
    op.add_column('voucher_line', sa.Column('base_credit_minor', sa.BigInteger(), server_default=sa.text('0'),
                                            nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_TRIGGERS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_TRIGGERS_0005)
    # plain DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the triggers of 0005
    for table, column in (('voucher_line', 'base_credit_minor'), ('voucher_line', 'base_debit_minor'),
                          ('voucher', 'content_hash'), ('voucher', 'fx_source'), ('voucher', 'fx_rate_date'), ('voucher', 'fx_rate'),
                          ('voucher', 'base_currency')):
        op.drop_column(table, column)
    op.drop_table('fx_rate')
