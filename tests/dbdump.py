"""Database content as comparable data: every table, surrogate ids and timestamps left out,
foreign keys to surrogate ids replaced by the content of the row they point to."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

import ledger.posting.tables
import ledger.storage.tables  # noqa: F401  (all tables registered)

#: Columns that record when or in which attempt something happened, not what it is.
VOLATILE = {"id", "batch_id", "times_seen"}
#: Tables that log attempts (one row per run) rather than business content.
ATTEMPT_LOGS = {"ingest_batch"}


def _volatile(column) -> bool:
    return column.name in VOLATILE or column.name.endswith("_at")


def dump(engine: Engine, skip_volatile: bool = True) -> dict[str, Counter]:
    """{table: Counter(row tuples)} for every table (a Counter, so duplicates show)."""
    keys: dict[str, dict] = {}
    content: dict[str, Counter] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            fks = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys if fk.column.name == "id"}
            columns = [c for c in table.columns if not (skip_volatile and _volatile(c) and c.name not in fks)]
            rows, ids = Counter(), {}
            for row in connection.execute(select(table)):
                values = tuple((c.name, keys.get(fks[c.name], {}).get(row._mapping[c.name], row._mapping[c.name])
                                if c.name in fks else row._mapping[c.name]) for c in columns
                               if not (skip_volatile and c.name in fks and fks[c.name] in ATTEMPT_LOGS))
                rows[values] += 1
                if "id" in table.columns:
                    ids[row._mapping["id"]] = values
            keys[table.name] = ids
            if not (skip_volatile and table.name in ATTEMPT_LOGS):
                content[table.name] = rows
    return content


#: Tables of derived data that speed storing up (a replay of part of a file adds its digest).
CACHES = {"bank_chunk"}


def without_caches(content: dict[str, Counter]) -> dict[str, Counter]:
    return {table: rows for table, rows in content.items() if table not in CACHES}


def everything_as_text(engine: Engine) -> str:
    """Every value of every table, volatile ones included (to search for leaked secrets)."""
    return repr(dump(engine, skip_volatile=False))
