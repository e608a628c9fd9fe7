"""The queue's actions on SQLite and PostgreSQL: what each changes, the audit chain it extends,
what it teaches the matcher, and optimistic locking when two reviewers act at once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger.posting.audit import verify_audit
from ledger.posting.book import BookError
from ledger.posting.tables import VoucherLineRow, VoucherRow
from ledger.storage.decisions import blocked_documents, rejected_pairs
from ledger.storage.review_tables import AuditEvent
from ledger.storage.tables import CounterpartyAlias, ExceptionItemRow, MatchLinkRow
from review import actions
from review.actions import ActionError, Actor, Conflict
from review.approvals import approve_voucher
from review.learning import standings
from review.queue import Filters, get_item, list_items
from tests.review.seed import COMPANY, TXN, book_invoice, seed

REVIEWER, OTHER = Actor("reviewer1", "reviewer"), Actor("reviewer2", "reviewer")
ITEMS = ExceptionItemRow.__table__


@pytest.fixture
def books(migrated):
    return seed(migrated)


def item_of(engine, code: str):
    with engine.connect() as connection:
        return connection.execute(select(ITEMS).where(ITEMS.c.code == code)).one()


def standing(engine) -> list:
    with engine.connect() as connection:
        return standings(connection, COMPANY)


def link_id(engine, from_no: str) -> int:
    links = MatchLinkRow.__table__
    with engine.connect() as connection:
        return connection.execute(select(links.c.id).where(links.c.from_no == from_no)).scalar_one()


def test_accepting_a_suggestion_resolves_declines_rivals_learns_and_drafts_the_voucher(migrated, books) -> None:
    item = item_of(migrated, "LOW_CONFIDENCE_MATCH")
    done = actions.accept(migrated, books, item.id, item.version, REVIEWER, link_id(migrated, "INV-1"))
    links = MatchLinkRow.__table__
    with migrated.connect() as connection:
        decisions = dict(connection.execute(select(links.c.from_no, links.c.decision)).all())
        aliases = connection.execute(select(CounterpartyAlias.__table__.c.alias)).scalars().all()
        [voucher] = connection.execute(select(VoucherRow.__table__).where(
            VoucherRow.__table__.c.id.in_(done.voucher_ids))).all()
        lines = connection.execute(select(VoucherLineRow.__table__).where(
            VoucherLineRow.__table__.c.voucher_id == voucher.id).order_by(VoucherLineRow.__table__.c.line_no)).all()
        after = connection.execute(select(ITEMS).where(ITEMS.c.id == item.id)).one()
    assert decisions == {"INV-1": "accepted", "INV-2": "declined"}
    assert aliases == ["青岛海尔智家"]                      # tomorrow the payer's name resolves
    assert (voucher.event_kind, voucher.state, voucher.prepared_by) == ("receipt_applied", "draft", "reviewer1")
    assert [(ln.account_code, ln.debit_minor, ln.credit_minor) for ln in lines] == [("2241", 113000, 0),
                                                                                  ("1122", 0, 113000)]
    assert (after.status, after.version, after.resolved_by) == ("resolved", item.version + 1, "reviewer1")
    confirmed = {s.counterparty: (s.confirmations, s.declines) for s in standing(migrated)}
    assert confirmed == {"C-HAIER": (1, 0), "C-EVIL": (0, 1)}
    assert verify_audit(migrated, COMPANY) is None


def test_the_audit_event_records_actor_role_before_after_and_reason_and_tampering_shows(migrated, books) -> None:
    item = item_of(migrated, "UNMATCHED_BANK_TXN")
    actions.snooze(migrated, books, item.id, item.version, REVIEWER, date.today() + timedelta(days=3), "ask sales")
    table = AuditEvent.__table__
    with migrated.connect() as connection:
        event = connection.execute(select(table).where(table.c.subject.like("exception:%"))).one()
    assert (event.actor, event.role, event.action, event.subject, event.reason) == (
        "reviewer1", "reviewer", "snooze", f"exception:{item.id}", "ask sales")
    assert '"status": "open"' in event.before and '"status": "snoozed"' in event.after
    with pytest.raises(DBAPIError, match="append-only"), migrated.begin() as connection:
        connection.execute(text("UPDATE audit_event SET reason = 'nothing to see'"))
    with migrated.begin() as connection:     # someone with the database owner's rights gets past it
        if migrated.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        connection.execute(text("UPDATE audit_event SET reason = 'nothing to see'"))
    assert verify_audit(migrated, COMPANY).reason == "its content no longer matches its hash"


def test_a_stale_version_is_a_conflict_that_names_the_current_state(migrated, books) -> None:
    item = item_of(migrated, "UNMATCHED_BANK_TXN")
    actions.assign(migrated, books, item.id, item.version, REVIEWER, "reviewer1")
    with pytest.raises(Conflict) as conflict:
        actions.ignore(migrated, books, item.id, item.version, OTHER, "not ours")
    assert conflict.value.current["status"] == "in_review"
    assert conflict.value.current["changed_by"] == "reviewer1"
    assert "nothing was applied" in str(conflict.value)
    assert item_of(migrated, "UNMATCHED_BANK_TXN").status == "in_review"


def test_two_reviewers_at_once_exactly_one_wins(migrated, books) -> None:
    item = item_of(migrated, "LOW_CONFIDENCE_MATCH")
    barrier, outcomes = threading.Barrier(2), []

    def act(actor: Actor, work) -> None:
        barrier.wait()
        try:
            work(actor)
            outcomes.append(("won", actor.username))
        except Conflict as conflict:
            outcomes.append(("conflict", conflict.current["status"]))

    workers = [threading.Thread(target=act, args=(REVIEWER, lambda a: actions.accept(
                   migrated, books, item.id, item.version, a, link_id(migrated, "INV-1")))),
               threading.Thread(target=act, args=(OTHER, lambda a: actions.ignore(
                   migrated, books, item.id, item.version, a, "wrong payer")))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(kind for kind, _ in outcomes) == ["conflict", "won"]
    winner = next(who for kind, who in outcomes if kind == "won")
    loser_saw = next(state for kind, state in outcomes if kind == "conflict")
    final = item_of(migrated, "LOW_CONFIDENCE_MATCH")
    assert final.status == {"reviewer1": "resolved", "reviewer2": "ignored"}[winner] == loser_saw
    assert final.version == item.version + 1
    with migrated.connect() as connection:
        events = AuditEvent.__table__
        assert connection.execute(select(events.c.actor).where(events.c.subject.like("exception:%"))
                                  ).scalars().all() == [winner]


def test_ignoring_for_good_rejects_the_pair_the_matcher_reads(migrated, books) -> None:
    item = item_of(migrated, "LOW_CONFIDENCE_MATCH")
    actions.ignore(migrated, books, item.id, item.version, REVIEWER, "a different customer")
    with migrated.connect() as connection:
        assert rejected_pairs(connection, COMPANY) == {("sales_invoice", "INV-1", "bank_txn", TXN)}
    with pytest.raises(ActionError, match="needs a reason"):
        actions.ignore(migrated, books, item.id, item.version + 1, REVIEWER, " ")


def test_write_off_within_tolerance_drafts_its_voucher_and_beyond_is_refused(migrated, books) -> None:
    item = item_of(migrated, "SHORT_PAYMENT")
    with pytest.raises(ActionError, match="beyond the write-off tolerance"):
        actions.write_off(migrated, books, item.id, item.version, REVIEWER, "1.01", "rounding")
    done = actions.write_off(migrated, books, item.id, item.version, REVIEWER, "0.50", "bank rounding")
    lines = VoucherLineRow.__table__
    with migrated.connect() as connection:
        booked = connection.execute(select(lines.c.account_code, lines.c.debit_minor, lines.c.credit_minor)
                                    .where(lines.c.voucher_id == done.voucher_ids[0])
                                    .order_by(lines.c.line_no)).all()
    assert [tuple(r) for r in booked] == [("6711", 50, 0), ("1122", 0, 50)]
    # segregation of duties: the reviewer who prepared it cannot approve it; an approver can
    with pytest.raises(BookError, match="segregation of duties"):
        approve_voucher(migrated, books, done.voucher_ids[0], Actor("reviewer1", "approver"))
    number = approve_voucher(migrated, books, done.voucher_ids[0], Actor("approver1", "approver"))
    assert number.startswith("转-")
    assert verify_audit(migrated, COMPANY) is None


def test_a_crash_after_posting_leaves_nothing_posted_and_no_number_used(migrated, books, monkeypatch) -> None:
    item = item_of(migrated, "SHORT_PAYMENT")
    done = actions.write_off(migrated, books, item.id, item.version, REVIEWER, "0.50", "bank rounding")
    [voucher_id] = done.voucher_ids
    import review.approvals as approvals

    def crash(*_args, **_kwargs):
        raise RuntimeError("power cut after posting")

    monkeypatch.setattr(approvals, "append_event", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        approve_voucher(migrated, books, voucher_id, Actor("approver1", "approver"))
    vouchers, events = VoucherRow.__table__, AuditEvent.__table__
    with migrated.connect() as connection:
        state = connection.execute(select(vouchers.c.state, vouchers.c.voucher_no, vouchers.c.reviewed_by)
                                   .where(vouchers.c.id == voucher_id)).one()
        approvals_logged = connection.execute(select(events.c.seq).where(events.c.action == "approve")).all()
    assert tuple(state) == ("draft", None, None)
    assert approvals_logged == []
    monkeypatch.undo()
    number = approve_voucher(migrated, books, voucher_id, Actor("approver1", "approver"))
    assert number.endswith("-0001")   # the rolled-back posting gave its number back
    with pytest.raises(BookError, match="is posted: only reviewed vouchers are posted"):   # a second click
        approve_voucher(migrated, books, voucher_id, Actor("approver2", "approver"))
    with migrated.connect() as connection:
        assert connection.execute(select(events.c.subject).where(events.c.action == "approve")).scalars().all() \
            == [f"voucher:{voucher_id}"]
    assert verify_audit(migrated, COMPANY) is None


def test_marking_a_duplicate_blocks_its_payment(migrated, books) -> None:
    item = item_of(migrated, "DUPLICATE_INVOICE")
    actions.mark_duplicate(migrated, books, item.id, item.version, REVIEWER, "sales_invoice", "INV-3", "same goods")
    with migrated.connect() as connection:
        assert blocked_documents(connection, COMPANY) == {("sales_invoice", "INV-3")}
    assert item_of(migrated, "DUPLICATE_INVOICE").status == "resolved"


def test_a_duplicate_invoice_loses_its_draft_voucher_and_a_posted_one_asks_for_a_reversal(migrated, books) -> None:
    draft = book_invoice(migrated, books, "INV-3")
    posted = book_invoice(migrated, books, "INV-2", posted=True)
    item = item_of(migrated, "DUPLICATE_INVOICE")
    done = actions.mark_duplicate(migrated, books, item.id, item.version, REVIEWER, "sales_invoice", "INV-3", "twice")
    assert "draft voucher was cancelled" in done.message
    vouchers, lines, events = VoucherRow.__table__, VoucherLineRow.__table__, AuditEvent.__table__
    with migrated.connect() as connection:
        left = dict(connection.execute(select(vouchers.c.id, vouchers.c.state)).all())
        orphan_lines = connection.execute(select(lines.c.id).where(lines.c.voucher_id == draft)).all()
        after = connection.execute(select(events.c.after).where(events.c.action == "duplicate")).scalar_one()
    assert left == {posted: "posted"} and orphan_lines == []
    assert f'"cancelled_vouchers": [{draft}]' in after
    assert verify_audit(migrated, COMPANY) is None


def test_marking_a_posted_invoice_duplicate_leaves_it_posted_and_says_to_reverse_it(migrated, books) -> None:
    posted = book_invoice(migrated, books, "INV-3", posted=True)
    item = item_of(migrated, "DUPLICATE_INVOICE")
    done = actions.mark_duplicate(migrated, books, item.id, item.version, REVIEWER, "sales_invoice", "INV-3", "twice")
    assert "is posted already" in done.message and "red-letter" in done.message
    vouchers = VoucherRow.__table__
    with migrated.connect() as connection:
        assert connection.execute(select(vouchers.c.state).where(vouchers.c.id == posted)).scalar_one() == "posted"


def test_allocating_one_payment_across_invoices(migrated, books) -> None:
    item = item_of(migrated, "UNMATCHED_BANK_TXN")
    with pytest.raises(ActionError, match="more than its amount"):
        actions.allocate(migrated, books, item.id, item.version, REVIEWER, [("INV-2", "600.00")])
    done = actions.allocate(migrated, books, item.id, item.version, REVIEWER,
                            [("INV-2", "300.00"), ("INV-3", "264.50")])
    assert len(done.voucher_ids) == 2 and "564.50" in done.message
    links = MatchLinkRow.__table__
    with migrated.connect() as connection:
        applied = connection.execute(select(links.c.from_no, links.c.decision, links.c.amount_minor)
                                     .where(links.c.to_no == "31050161373600001234:T2")
                                     .order_by(links.c.from_no)).all()
    assert [tuple(r) for r in applied] == [("INV-2", "accepted", 30000), ("INV-3", "accepted", 26450)]
    assert {s.counterparty: s.declines for s in standing(migrated)} == {"C-EVIL": 0}


def test_manual_link_snooze_assign_and_comments_show_on_the_item(migrated, books) -> None:
    item = item_of(migrated, "UNMATCHED_BANK_TXN")
    actions.comment(migrated, books, item.id, item.version, REVIEWER, "called the customer")
    actions.assign(migrated, books, item.id, item.version + 1, REVIEWER, "reviewer2")
    done = actions.link_manually(migrated, books, item.id, item.version + 2, OTHER, "sales_invoice", "INV-2")
    with migrated.connect() as connection:
        view = get_item(connection, COMPANY, item.id, books.settings)
    assert [c.body for c in view.comments] == ["called the customer"]
    assert [e.action for e in view.history] == ["comment", "assign", "link"]
    assert view.item.status == "resolved" and done.voucher_ids


def test_queue_filters_and_keyset_pages(migrated, books) -> None:
    with migrated.connect() as connection:
        everything = list_items(connection, COMPANY, Filters(), books.settings)
        first = list_items(connection, COMPANY, Filters(), books.settings, page_size=3)
        rest = list_items(connection, COMPANY, Filters(after=first.next_after), books.settings, page_size=3)
        evil = list_items(connection, COMPANY, Filters(counterparty="<script>"), books.settings)
        big = list_items(connection, COMPANY, Filters(min_amount=everything.items[0].amount), books.settings)
    assert everything.total == 4 and [i.id for i in first.items + rest.items] == [i.id for i in everything.items]
    assert rest.next_after is None
    assert {i.code for i in evil.items} == {"DUPLICATE_INVOICE", "UNMATCHED_BANK_TXN", "SHORT_PAYMENT"}
    assert all(i.amount >= everything.items[0].amount for i in big.items)
