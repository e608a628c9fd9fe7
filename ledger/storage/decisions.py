"""What people decided that the matcher must respect: pairs rejected for good, payments blocked.

    rejected_pairs(connection, "acme")
    → frozenset({("sales_invoice", "44001234", "bank_txn", "3105:T9")})

The matcher drops a rejected pair before it decides anything (matching/engine.py), so a pair
ignored in the review queue is never suggested again, whatever later runs score it.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from ledger.storage.review_tables import PaymentBlock, RejectedPair

PairKey = tuple[str, str, str, str]


def rejected_pairs(connection: Connection, company_id: str) -> frozenset[PairKey]:
    table = RejectedPair.__table__
    return frozenset(tuple(row) for row in connection.execute(
        select(table.c.from_type, table.c.from_no, table.c.to_type, table.c.to_no)
        .where(table.c.company_id == company_id)))


def blocked_documents(connection: Connection, company_id: str) -> frozenset[tuple[str, str]]:
    """Documents marked as duplicates: (doc_type, doc_no) that no payment may settle."""
    table = PaymentBlock.__table__
    return frozenset(tuple(row) for row in connection.execute(
        select(table.c.doc_type, table.c.doc_no).where(table.c.company_id == company_id)))
