"""A run settles what it no longer raises: open items whose cause went away are resolved by
yecai (audited), yecai's own resolution is reopened when the cause returns, and nothing a
person decided (in review, snoozed, resolved, ignored) or an ingest problem is touched."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from ledger.exceptions import MATCH_CODES, DocumentRef, ExceptionCode, ExceptionItem
from ledger.posting.audit import verify_audit
from ledger.settings import load_chart, load_company
from ledger.storage.exception_store import raise_exceptions, settle_gone
from ledger.storage.review_tables import AuditEvent
from ledger.storage.store import sync_company
from ledger.storage.tables import ExceptionItemRow
from tests.conftest import EXAMPLE_CONFIG

CONFIG = load_company(EXAMPLE_CONFIG)
COMPANY = CONFIG.company.id
ITEMS, EVENTS = ExceptionItemRow.__table__, AuditEvent.__table__


def item(code: ExceptionCode, doc_no: str) -> ExceptionItem:
    return ExceptionItem(code=code, message=f"{code} {doc_no}", documents=(DocumentRef(doc_type="bank_txn",
                                                                                         doc_no=doc_no),))


def states(engine) -> dict[str, tuple]:
    with engine.connect() as connection:
        return {row.detail: (row.status, row.resolved_by, row.version) for row in connection.execute(select(
            ITEMS.c.message.label("detail"), ITEMS.c.status, ITEMS.c.resolved_by, ITEMS.c.version))}


@pytest.fixture
def books(migrated):
    sync_company(migrated, CONFIG, load_chart(CONFIG))
    return migrated


def test_gone_causes_are_resolved_by_yecai_and_people_s_decisions_stay(books) -> None:
    migrated = books
    gone, taken, snoozed, decided = (item(ExceptionCode.UNMATCHED_BANK_TXN, n) for n in ("A:1", "A:2", "A:3", "A:4"))
    kept = item(ExceptionCode.LOW_CONFIDENCE_MATCH, "A:5")
    unreadable = item(ExceptionCode.UNPARSEABLE_DOCUMENT, "bank.csv")
    with migrated.begin() as connection:
        raise_exceptions(connection, COMPANY, [gone, taken, snoozed, decided, kept, unreadable])
        for it, values in ((taken, {"status": "in_review", "assignee": "reviewer1"}),
                           (snoozed, {"status": "snoozed", "snoozed_until": date(2030, 1, 1)}),
                           (decided, {"status": "resolved", "resolved_by": "reviewer1"})):
            connection.execute(update(ITEMS).where(ITEMS.c.fingerprint == it.fingerprint).values(**values))
    with migrated.begin() as connection:
        done = settle_gone(connection, COMPANY, [kept], MATCH_CODES)
    assert (done.resolved, done.reopened) == (1, 0)
    now = states(migrated)
    assert now[gone.message] == ("resolved", "yecai", 2)          # version bumped: a stale reviewer conflicts
    assert now[taken.message][0] == "in_review" and now[snoozed.message][0] == "snoozed"
    assert now[decided.message][:2] == ("resolved", "reviewer1")
    assert now[kept.message] == ("open", None, 1)
    assert now[unreadable.message] == ("open", None, 1)            # an ingest problem: not the matcher's to settle
    with migrated.connect() as connection:
        event = connection.execute(select(EVENTS)).one()
    assert (event.actor, event.action) == ("yecai", "auto_resolve") and '"resolved"' in event.after
    # the cause comes back: yecai's own resolution is reopened, the person's is not
    with migrated.begin() as connection:
        raise_exceptions(connection, COMPANY, [gone, decided, kept])
        done = settle_gone(connection, COMPANY, [gone, decided, kept], MATCH_CODES)
    assert (done.resolved, done.reopened) == (0, 1)
    now = states(migrated)
    assert now[gone.message] == ("open", None, 3)
    assert now[decided.message][:2] == ("resolved", "reviewer1")
    with migrated.connect() as connection:
        assert connection.execute(select(EVENTS.c.action).order_by(EVENTS.c.seq)).scalars().all() \
            == ["auto_resolve", "auto_reopen"]
    assert verify_audit(migrated, COMPANY) is None
