"""Decisions feed back into matching, on the sample company: a pair ignored for good is never
suggested again, a counterparty with earned autonomy has its untied suggestions accepted, and a
decline demotes it. Also: the nightly run fills the queue's counterparty and amount columns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from flows import pipeline
from flows.cli_review import books_for
from ledger.posting.tables import VoucherRow
from ledger.storage.decisions import blocked_documents, rejected_pairs
from ledger.storage.engine import make_engine
from ledger.storage.read import load_bank_transactions, load_counterparties, load_documents
from ledger.storage.review_tables import NightlyMetric, PartyAutonomy
from ledger.storage.tables import ExceptionItemRow, MatchLinkRow
from matching.engine import run_matching
from matching.model import Decision
from matching.rules import load_rules
from review import actions
from review.actions import Actor
from review.learning import Standing, autonomous_parties, earned, record_decision
from review.settings import Autonomy
from tests.conftest import EXAMPLE_CONFIG

BOOKS = books_for(EXAMPLE_CONFIG)
TIED = "31050161373600001234:T2026102300017"   # two invoices suggested for it, the same score


def sync(db: str) -> dict:
    """The steps of `yecai sync` without Prefect (the flow itself is tested in tests/prefect_flows)."""
    return pipeline.run(str(EXAMPLE_CONFIG), db)


@pytest.fixture
def synced(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'y.db'}"
    sync(db)
    engine = make_engine(db)
    yield engine, db
    engine.dispose()


def suggestions(engine) -> list:
    links = MatchLinkRow.__table__
    with engine.connect() as connection:
        return connection.execute(select(links).where(links.c.to_no == TIED).order_by(links.c.from_no)).all()


def rematch(engine, autonomous=frozenset(), blocked=frozenset(), applied=None):
    from ledger.settings import load_company

    tolerances = load_company(EXAMPLE_CONFIG).tolerances
    with engine.connect() as connection:
        rejected = rejected_pairs(connection, BOOKS.company_id)
        return run_matching(load_documents(connection, BOOKS.company_id),
                            load_bank_transactions(connection, BOOKS.company_id),
                            load_counterparties(connection, BOOKS.company_id), date(2026, 11, 30), load_rules(),
                            tolerances, rejected=rejected, autonomous=autonomous, blocked=blocked,
                            applied=applied)


def test_the_nightly_run_fills_the_queue_columns_and_the_nightly_figures(synced) -> None:
    engine, _db = synced
    items = ExceptionItemRow.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(items.c.code, items.c.counterparty, items.c.amount_minor)).all()
        night = connection.execute(select(NightlyMetric.__table__)).one()
    assert rows and all(r.counterparty is not None for r in rows)
    assert any(r.amount_minor for r in rows if r.code == "UNMATCHED_BANK_TXN")
    assert 0 < night.settled_txns <= night.bank_txns


def test_an_ignored_pair_never_returns_and_the_other_candidate_stands(synced) -> None:
    engine, db = synced
    first, second = suggestions(engine)
    assert first.decision == second.decision == "suggested"
    items = ExceptionItemRow.__table__
    with engine.connect() as connection:
        item = connection.execute(select(items).where(items.c.detail == f"{second.from_no}->{TIED}")).one()
    actions.ignore(engine, BOOKS, item.id, item.version, Actor("reviewer1", "reviewer"), "not this customer")

    output = rematch(engine)
    keys = {link.key for link in output.links}
    assert ("sales_invoice", second.from_no, "bank_txn", TIED) not in keys      # never suggested again
    kept = next(link for link in output.links if link.key[1] == first.from_no and link.to_no == TIED)
    # the person's rejection broke the tie: the payer's only open invoice of that amount is left
    assert kept.decision is Decision.AUTO and kept.evidence.comparisons[-1].level == "unique"
    party = output.parties[("sales_invoice", first.from_no)]

    # the nightly run stores both decisions: the rejection stays, the rest is decided again
    table = PartyAutonomy.__table__
    with engine.connect() as connection:    # the ignore counted as a decline of the same customer
        assert connection.execute(select(table.c.declines).where(table.c.counterparty == party)).scalar_one() == 1
        assert party not in autonomous_parties(connection, BOOKS.company_id, BOOKS.settings.autonomy)
    with engine.begin() as connection:      # … long ago, and many confirmations since
        connection.execute(update(table).where(table.c.counterparty == party).values(
            confirmations=40, last_decline_at=datetime.now(UTC) - timedelta(days=90)))
    with engine.connect() as connection:
        assert party in autonomous_parties(connection, BOOKS.company_id, BOOKS.settings.autonomy)
    sync(db)
    stored = {row.from_no: (row.decision, row.decided_by) for row in suggestions(engine)}
    assert stored == {first.from_no: ("auto", "yecai"), second.from_no: ("rejected", "reviewer1")}
    # the suggestion decided automatically now waits for nobody: its LOW_CONFIDENCE_MATCH item is closed by yecai
    with engine.connect() as connection:
        closed = connection.execute(select(items.c.status, items.c.resolved_by).where(
            items.c.detail == f"{first.from_no}->{TIED}")).one()
    assert tuple(closed) == ("resolved", "yecai")


def test_earned_autonomy_accepts_an_untied_suggestion_of_its_party() -> None:
    from ledger.settings import Tolerances
    from matching.rules import load_rules
    from tests.matching.scenario import DAY, PARTIES, sales_invoice, txn

    invoice = sales_invoice("44001234", ("A", 2, "500.00"))
    partial = txn("T1", "600.00", remittance="货款")                  # a partial payment: a person decides
    plain = run_matching([invoice], [partial], PARTIES, DAY + timedelta(20), load_rules(), Tolerances())
    assert [link.decision for link in plain.links] == [Decision.SUGGESTED]
    party = plain.parties[("sales_invoice", "44001234")]
    earned_run = run_matching([invoice], [partial], PARTIES, DAY + timedelta(20), load_rules(), Tolerances(),
                              autonomous=frozenset({party}))
    promoted = earned_run.links[0]
    assert promoted.decision is Decision.AUTO and promoted.evidence.decided_by == "yecai:autonomy"
    assert promoted.evidence.comparisons[-1].name == "autonomy"


def test_ties_are_never_promoted(synced) -> None:
    engine, _db = synced
    output = rematch(engine)
    parties = frozenset(p for p in output.parties.values() if p)
    tied = [link for link in rematch(engine, parties).links if link.to_no == TIED]
    assert len(tied) == 2 and all(link.decision is Decision.SUGGESTED for link in tied)


def test_earned_autonomy_needs_enough_confirmations_a_high_ratio_and_no_recent_decline(synced) -> None:
    engine, _db = synced
    rules, now = Autonomy(min_confirmations=3, min_accept_ratio="0.75", recent_decline_days=30), datetime.now(UTC)
    assert not earned(Standing("C", 2, 0, None), rules, now)
    assert earned(Standing("C", 3, 1, now - timedelta(days=31)), rules, now)
    assert not earned(Standing("C", 3, 2, now - timedelta(days=31)), rules, now)        # 60 % accepted
    with engine.begin() as connection:
        for _ in range(3):
            record_decision(connection, BOOKS.company_id, "C001", accepted=True)
        assert autonomous_parties(connection, BOOKS.company_id, rules) == {"C001"}
        record_decision(connection, BOOKS.company_id, "C001", accepted=False)       # a decline demotes it
        assert autonomous_parties(connection, BOOKS.company_id, rules) == frozenset()


def test_a_document_marked_duplicate_is_paid_by_nothing_and_has_no_voucher(synced) -> None:
    engine, db = synced
    items = ExceptionItemRow.__table__
    with engine.connect() as connection:
        item = connection.execute(select(items).where(items.c.code == "DUPLICATE_INVOICE")).one()
    paid = [link for link in rematch(engine).links if link.to_type == "bank_txn"
            and link.from_type == "purchase_invoice" and link.decision is Decision.AUTO]
    first = next(link.from_no for link in paid if link.from_no in ("26310500000000000085", "26310500000000000086"))
    actions.mark_duplicate(engine, BOOKS, item.id, item.version, Actor("reviewer1", "reviewer"), "purchase_invoice",
                           first, "the supplier sent it twice")
    with engine.connect() as connection:
        blocked = blocked_documents(connection, BOOKS.company_id)
    assert blocked == {("purchase_invoice", first)}
    assert not [link for link in rematch(engine, blocked=blocked).links if link.from_no == first]
    # its draft voucher went with the mark, and the next nightly run drafts none for it
    vouchers = VoucherRow.__table__
    key = f"purchase_invoice:{first}"
    with engine.connect() as connection:
        assert connection.execute(select(vouchers.c.id).where(vouchers.c.event_key == key)).all() == []
    sync(db)
    with engine.connect() as connection:
        assert connection.execute(select(vouchers.c.id).where(vouchers.c.event_key == key)).all() == []
        other = "26310500000000000086" if first.endswith("85") else "26310500000000000085"
        assert connection.execute(select(vouchers.c.id).where(
            vouchers.c.event_key == f"purchase_invoice:{other}")).all()      # the original keeps its own


def test_a_transaction_a_person_settled_is_left_alone_by_later_runs(synced) -> None:
    engine, db = synced
    links = MatchLinkRow.__table__
    contoso = "31050161373600005678:T2026110200041"          # three invoices tied for it
    items = ExceptionItemRow.__table__
    with engine.connect() as connection:
        item = connection.execute(select(items).where(items.c.code == "LOW_CONFIDENCE_MATCH")
                                  .where(items.c.detail.like(f"%{contoso}")).limit(1)).one()
        chosen = connection.execute(select(links.c.id).where((links.c.to_no == contoso)
                                                             & (links.c.decision == "suggested")).limit(1)).scalar()
    actions.accept(engine, BOOKS, item.id, item.version, Actor("reviewer1", "reviewer"), chosen)
    sync(db)
    with engine.connect() as connection:
        decisions = sorted(connection.execute(select(links.c.decision).where(links.c.to_no == contoso)).scalars())
        reraised = connection.execute(select(items.c.times_seen).where(items.c.id == item.id)).scalar_one()
    assert decisions == ["accepted", "declined", "declined"]
    assert reraised == 1                   # the matcher no longer looks at the transaction


def test_an_invoice_a_person_settled_by_hand_is_not_paid_again(synced) -> None:
    engine, _db = synced
    paid = next(link for link in rematch(engine).links if link.from_no == "26310500000000000085"
                and link.to_type == "bank_txn")
    assert paid.decision is Decision.AUTO
    with engine.connect() as connection:
        invoice = next(d for d in load_documents(connection, BOOKS.company_id) if d.number == paid.from_no)
    output = rematch(engine, applied={("purchase_invoice", paid.from_no): (invoice.gross_total, ("ACC:BYHAND",))})
    assert not [link for link in output.links if link.from_no == paid.from_no and link.to_no == paid.to_no
                and link.decision is Decision.AUTO]
    duplicate = [item for item in output.exceptions if item.code.value == "DUPLICATE_PAYMENT"
                 and any(ref.doc_no == paid.to_no for ref in item.documents)]
    assert duplicate and any(ref.doc_no == "ACC:BYHAND" for ref in duplicate[0].documents)
