"""bank_txn parents checked per statement on PostgreSQL, not per row

bank_txn.company_id -> company.id and bank_txn.batch_id -> ingest_batch.id were foreign
keys. On PostgreSQL a foreign key is a row-level trigger: one lookup and one row lock of the
parent per inserted row, about half of the server's work when a million bank rows are COPYed
(all with the same company and batch). Here, on PostgreSQL only, they become set-based checks
that keep the guarantee:

- after each INSERT or UPDATE statement (COPY included) on bank_txn, the parents of the new
  rows are locked FOR KEY SHARE, as a foreign key locks them, once per distinct value, and a
  statement with a row whose company_id or batch_id has no parent is refused (SQLSTATE 23503,
  foreign_key_violation, naming the column and the value);
- after each DELETE or UPDATE statement on company or ingest_batch, a statement that removed a
  key that bank_txn rows still reference is refused, as the foreign keys' NO ACTION did;
- TRUNCATE of company or ingest_batch while bank_txn has rows is refused.

With READ COMMITTED (PostgreSQL's default, and yecai's) concurrent transactions cannot leave
an orphan either: the child check locks the parents it found, so a concurrent delete waits
for it and then sees its rows, and a delete that committed first makes the check fail.
SQLite keeps the foreign keys (its checks are cheap, and the models declare them).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (column of bank_txn, parent table) of the foreign keys replaced on PostgreSQL.
PARENTS = (("company_id", "company"), ("batch_id", "ingest_batch"))

CHILD_CHECK = """
CREATE FUNCTION yecai_bank_txn_parents() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    -- lock the parents as a foreign key does, but once per distinct value, not once per row
    PERFORM 1 FROM company WHERE id IN (SELECT company_id FROM new_rows) FOR KEY SHARE;
    PERFORM 1 FROM ingest_batch WHERE id IN (SELECT batch_id FROM new_rows) FOR KEY SHARE;
    SELECT n.company_id INTO missing FROM (SELECT DISTINCT company_id FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM company c WHERE c.id = n.company_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "bank_txn" refused: company_id % is not in table "company"',
            quote_nullable(missing) USING ERRCODE = 'foreign_key_violation', TABLE = 'bank_txn',
            COLUMN = 'company_id';
    END IF;
    SELECT n.batch_id INTO missing FROM (SELECT DISTINCT batch_id FROM new_rows WHERE batch_id IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM ingest_batch b WHERE b.id = n.batch_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "bank_txn" refused: batch_id % is not in table "ingest_batch"',
            missing USING ERRCODE = 'foreign_key_violation', TABLE = 'bank_txn', COLUMN = 'batch_id';
    END IF;
    RETURN NULL;
END
$$
"""

#: A parent's check, for each parent: {table} and its bank_txn column {column}.
PARENT_CHECK = """
CREATE FUNCTION yecai_{table}_bank_txn_children() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM bank_txn WHERE {column} IS NOT NULL) THEN
            RAISE EXCEPTION 'truncate of table "{table}" refused: table "bank_txn" references it'
                USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
        END IF;
        RETURN NULL;
    END IF;
    SELECT o.id INTO gone FROM old_rows o
     WHERE NOT EXISTS (SELECT 1 FROM {table} p WHERE p.id = o.id)
       AND EXISTS (SELECT 1 FROM bank_txn t WHERE t.{column} = o.id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% on table "{table}" refused: id % is still referenced by table "bank_txn" ({column})',
            lower(TG_OP), quote_nullable(gone) USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for key in sa.inspect(bind).get_foreign_keys("bank_txn"):
        if (key["constrained_columns"][0], key["referred_table"]) in PARENTS:
            op.drop_constraint(key["name"], "bank_txn", type_="foreignkey")
    op.execute(CHILD_CHECK)
    for event in ("INSERT", "UPDATE"):  # a trigger with transition tables has one event
        op.execute(f"CREATE TRIGGER bank_txn_parents_{event.lower()} AFTER {event} ON bank_txn "
                   f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION yecai_bank_txn_parents()")
    for column, table in PARENTS:
        op.execute(PARENT_CHECK.format(table=table, column=column))
        function = f"yecai_{table}_bank_txn_children()"
        for event in ("DELETE", "UPDATE"):
            op.execute(f"CREATE TRIGGER {table}_bank_txn_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}")
        op.execute(f"CREATE TRIGGER {table}_bank_txn_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for column, table in PARENTS:
        for event in ("delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER {table}_bank_txn_{event} ON {table}")
        op.execute(f"DROP FUNCTION yecai_{table}_bank_txn_children()")
        op.create_foreign_key(None, "bank_txn", table, [column], ["id"])
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER bank_txn_parents_{event} ON bank_txn")
    op.execute("DROP FUNCTION yecai_bank_txn_parents()")
