"""Storing match links with their evidence: new links inserted, decided ones left as they are.

A link a person decided (accepted, declined, rejected) is never overwritten by a later run; an
automatic decision (the agent's, with or without earned autonomy) is refreshed when the matcher
sees the pair again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from ledger.storage.bulk import insert_rows
from ledger.storage.tables import MatchLinkRow

KEY = ("from_type", "from_no", "to_type", "to_no")


def _automatic(decided_by: str) -> bool:
    """The agent decided: "yecai", or "yecai:autonomy" for a suggestion earned autonomy accepted."""
    return decided_by == "yecai" or decided_by.startswith("yecai:")


def save_links(connection: Connection, company_id: str, links: Sequence[dict]) -> tuple[int, int]:
    """Upsert link rows (dicts with the MatchLinkRow columns but id/company/decided_at); (new, refreshed)."""
    table = MatchLinkRow.__table__
    known = {tuple(row[:4]): (row[4], row[5]) for row in connection.execute(
        select(table.c.from_type, table.c.from_no, table.c.to_type, table.c.to_no, table.c.id, table.c.decided_by)
        .where(table.c.company_id == company_id))}
    now = datetime.now(UTC)
    new, refreshed = [], 0
    for link in links:
        key = tuple(link[k] for k in KEY)
        if key not in known:
            new.append({**link, "company_id": company_id, "decided_at": now})
            known[key] = (None, link["decided_by"])
        elif known[key][0] is not None and (known[key][1] == link["decided_by"]
                                            or (_automatic(known[key][1]) and _automatic(link["decided_by"]))):
            values = {k: v for k, v in link.items() if k not in KEY}
            connection.execute(update(table).where(table.c.id == known[key][0]).values(**values, decided_at=now))
            refreshed += 1
    insert_rows(connection, table, new)
    return len(new), refreshed
