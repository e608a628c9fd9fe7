"""What people decided that the matcher must respect: pairs rejected for good, payments blocked.

    rejected_pairs(connection, "acme")
    → frozenset({("sales_invoice", "44001234", "bank_txn", "3105:T9")})

The matcher drops a rejected pair before it decides anything (matching/engine.py), so a pair
ignored in the review queue is never suggested again, whatever later runs score it.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from ledger.money import Money
from ledger.storage.review_tables import PaymentBlock, RejectedPair
from ledger.storage.tables import MatchLinkRow

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


def settled_by_people(connection: Connection, company_id: str) -> frozenset[str]:
    """Bank transactions a person linked (accepted, chose, linked by hand, allocated): the matcher
    leaves them alone, so a later run neither re-suggests them nor settles them a second time."""
    table = MatchLinkRow.__table__
    return frozenset(connection.execute(select(table.c.to_no).where(
        (table.c.company_id == company_id) & (table.c.to_type == "bank_txn")
        & (table.c.decision == "accepted"))).scalars())


def applied_by_people(connection: Connection, company_id: str) -> dict[tuple[str, str], tuple[Money, tuple[str, ...]]]:
    """Per invoice, what people applied to it from bank transactions, and which transactions."""
    table = MatchLinkRow.__table__
    found: dict[tuple[str, str], tuple[Money, tuple[str, ...]]] = {}
    for row in connection.execute(select(table.c.from_type, table.c.from_no, table.c.to_no, table.c.amount_minor,
                                         table.c.currency).where(
            (table.c.company_id == company_id) & (table.c.to_type == "bank_txn") & (table.c.decision == "accepted")
            & table.c.amount_minor.is_not(None)).order_by(table.c.id)):
        amount = Money.from_minor(abs(row.amount_minor), row.currency)
        key = (row.from_type, row.from_no)
        if key in found and found[key][0].currency == amount.currency:
            found[key] = (found[key][0] + amount, (*found[key][1], row.to_no))
        elif key not in found:
            found[key] = (amount, (row.to_no,))
    return found
