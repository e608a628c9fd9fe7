"""Approving a voucher from the queue: 审核 and 记账 by an approver who did not prepare it."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from ledger.posting.audit import append_event
from ledger.posting.book import BookError, post_vouchers, review_vouchers
from ledger.posting.tables import VoucherRow
from review.actions import Actor, Books


def approve_voucher(engine: Engine, books: Books, voucher_id: int, actor: Actor) -> str:
    """Review (if still a draft), post and record the approval in ONE transaction: all or none,
    so a posted voucher always has its approval event. The book refuses whoever prepared it.
    Returns its number."""
    table = VoucherRow.__table__
    with engine.begin() as connection:
        # a write first: it locks the voucher's row (PostgreSQL) or the database (SQLite) before any read;
        # a posted voucher is left out (its triggers refuse every update, even this one)
        where = (table.c.company_id == books.company_id) & (table.c.id == voucher_id)
        row = connection.execute(update(table).where(where & (table.c.state != "posted"))
                                 .values(state=table.c.state).returning(table.c.state, table.c.prepared_by)).first()
        if row is None:
            state = connection.execute(select(table.c.state).where(where)).scalar_one_or_none()
            if state is None:
                raise BookError(f"no voucher {voucher_id}")
            raise BookError(f"voucher {voucher_id} is {state}: only reviewed vouchers are posted")
        if row.state == "draft":
            review_vouchers(connection, books.company_id, [voucher_id], by=actor.username)
        [number] = post_vouchers(connection, books.company_id, [voucher_id], by=actor.username)
        append_event(connection, books.company_id, actor=actor.username, role=actor.role, action="approve",
                     subject=f"voucher:{voucher_id}", before={"state": row.state},
                     after={"state": "posted", "voucher_no": number})
    return number
