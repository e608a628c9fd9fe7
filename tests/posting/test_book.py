"""The voucher book on SQLite and PostgreSQL: states, gapless numbers under concurrency,
immutability, red-letter reversal, period close and the tamper-evident chain."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger.money import Money
from ledger.posting.book import BookError, post, reverse, review, save_drafts, set_period, verify_chain
from ledger.posting.tables import VoucherLineRow, VoucherRow
from ledger.posting.templates import load_templates
from ledger.posting.vouchers import PostingEvent
from ledger.posting.vouchers import post as build
from ledger.settings import load_chart, load_company
from ledger.storage.store import sync_company
from tests.conftest import EXAMPLE_CONFIG

CONFIG = load_company(EXAMPLE_CONFIG)
CHART = load_chart(CONFIG)
TEMPLATES = load_templates(CHART)
COMPANY = CONFIG.company.id


def invoice_voucher(number: int, day: date = date(2026, 11, 3)):
    return build(PostingEvent(kind="sales_invoice", key=f"sales_invoice:{number}", date=day, doc_type="sales_invoice",
                              doc_no=str(number), currency="CNY", counterparty="海尔智家",
                              amounts={"gross": Money.parse("113.00", "CNY"), "net": Money.parse("100.00", "CNY"),
                                       "tax": Money.parse("13.00", "CNY")}), TEMPLATES, CHART)


@pytest.fixture
def book(migrated):
    sync_company(migrated, CONFIG, CHART)
    return migrated


def drafts(engine, count: int, day: date = date(2026, 11, 3), start: int = 0) -> list[int]:
    ids = save_drafts(engine, COMPANY, [invoice_voucher(n, day) for n in range(start, start + count)])
    review(engine, COMPANY, ids, by="li.reviewer")
    return ids


def test_drafts_are_idempotent_and_duties_are_segregated(book) -> None:
    first = save_drafts(book, COMPANY, [invoice_voucher(1), invoice_voucher(2)])
    assert len(first) == 2 and save_drafts(book, COMPANY, [invoice_voucher(1), invoice_voucher(2)]) == []
    with pytest.raises(BookError, match="segregation of duties"):
        review(book, COMPANY, first, by="yecai")
    with pytest.raises(BookError, match="only reviewed vouchers"):
        post(book, COMPANY, first, by="wang.poster")
    review(book, COMPANY, first, by="li.reviewer")
    assert post(book, COMPANY, first, by="wang.poster") == ["转-2026-11-0001", "转-2026-11-0002"]
    assert verify_chain(book, COMPANY) is None


def test_posted_vouchers_refuse_edits_and_deletes_in_the_database(book) -> None:
    [voucher_id] = drafts(book, 1)
    post(book, COMPANY, [voucher_id], by="wang.poster")
    for statement in (f"UPDATE voucher SET doc_no = 'x' WHERE id = {voucher_id}",
                      f"DELETE FROM voucher WHERE id = {voucher_id}",
                      f"UPDATE voucher_line SET debit_minor = 1 WHERE voucher_id = {voucher_id}",
                      f"DELETE FROM voucher_line WHERE voucher_id = {voucher_id}"):
        with pytest.raises(DBAPIError, match=r"immutable|cannot be deleted"), book.begin() as connection:
            connection.execute(text(statement))


def test_tamper_drill_names_the_changed_voucher(book) -> None:
    ids = drafts(book, 3)
    numbers = post(book, COMPANY, ids, by="wang.poster")
    with book.begin() as connection:  # someone with database rights goes around the triggers
        if book.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE voucher_line DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER voucher_line_posted_update"))
        connection.execute(text(f"UPDATE voucher_line SET credit_minor = 9000 WHERE voucher_id = {ids[1]} "
                                f"AND line_no = 2"))
    broken = verify_chain(book, COMPANY)
    assert broken is not None and broken.voucher_no == numbers[1] and "content" in broken.reason


def test_closed_periods_refuse_postings_and_reopening_needs_a_reason(book) -> None:
    october = drafts(book, 1, day=date(2026, 10, 30))
    with pytest.raises(BookError, match="not posted"):
        set_period(book, COMPANY, "2026-10", "closed", by="admin")
    post(book, COMPANY, october, by="wang.poster")
    from ledger.exceptions import DocumentRef, ExceptionCode, ExceptionItem
    from ledger.storage.exception_store import raise_exceptions

    def open_item(code: ExceptionCode) -> None:
        with book.begin() as connection:
            raise_exceptions(connection, COMPANY, [ExceptionItem(
                code=code, message="open", documents=(DocumentRef(doc_type="sales_invoice", doc_no="1"),))])

    open_item(ExceptionCode.SOURCE_CHANGED)  # high
    with pytest.raises(BookError, match=r"open exception.*SOURCE_CHANGED"):
        set_period(book, COMPANY, "2026-10", "closed", by="admin")
    set_period(book, COMPANY, "2026-10", "closed", by="admin", block_severity="critical")  # as configured
    set_period(book, COMPANY, "2026-10", "open", by="admin", reason="check the severity rule")
    open_item(ExceptionCode.DUPLICATE_PAYMENT)  # critical
    with pytest.raises(BookError, match=r"open exception.*DUPLICATE_PAYMENT"):
        set_period(book, COMPANY, "2026-10", "closed", by="admin", block_severity="critical")
    with book.begin() as connection:
        connection.execute(text("UPDATE exception_item SET status = 'resolved'"))
    set_period(book, COMPANY, "2026-10", "closed", by="admin")
    late = drafts(book, 1, day=date(2026, 10, 31), start=10)
    with pytest.raises(BookError, match="period 2026-10 is closed"):
        post(book, COMPANY, late, by="wang.poster")
    with pytest.raises(BookError, match="needs a reason"):
        set_period(book, COMPANY, "2026-10", "open", by="admin")
    set_period(book, COMPANY, "2026-10", "open", by="admin", reason="late supplier invoice")
    assert post(book, COMPANY, late, by="wang.poster") == ["转-2026-10-0002"]


def test_red_letter_reversal_once_and_never_of_a_reversal(book) -> None:
    [original] = drafts(book, 1)
    post(book, COMPANY, [original], by="wang.poster")
    reversal = reverse(book, COMPANY, original, by="li.reviewer", reason="wrong customer")
    review(book, COMPANY, [reversal], by="zhao.reviewer")
    post(book, COMPANY, [reversal], by="wang.poster")
    with book.connect() as connection:
        table = VoucherLineRow.__table__
        lines = connection.execute(select(table.c.debit_minor, table.c.credit_minor)
                                   .where(table.c.voucher_id == reversal)).all()
    assert sorted(lines) == sorted([(-11300, 0), (0, -10000), (0, -1300)])
    with pytest.raises(BookError, match="reversed already"):
        reverse(book, COMPANY, original, by="li.reviewer", reason="again")
    with pytest.raises(BookError, match="itself a reversal"):
        reverse(book, COMPANY, reversal, by="li.reviewer", reason="undo")
    assert verify_chain(book, COMPANY) is None


def test_numbers_are_exactly_one_to_n_under_concurrency_with_rollbacks(book) -> None:
    ids = drafts(book, 24, day=date(2026, 11, 3)) + drafts(book, 6, day=date(2026, 12, 1), start=100)
    batches = [ids[i::6] for i in range(6)]
    doomed = set(batches[2] + batches[5])   # these postings fail after numbering and roll back

    def fail_if_doomed(voucher_id: int, _number: str) -> None:
        if voucher_id in doomed:
            raise RuntimeError("rolled back on purpose")

    errors: list[Exception] = []

    def worker(batch: list[int]) -> None:
        try:
            post(book, COMPANY, batch, by="wang.poster", on_numbered=fail_if_doomed)
        except RuntimeError:
            pass
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers: dict[str, list[int]] = defaultdict(list)
    with book.connect() as connection:
        for period, number, state in connection.execute(select(
                VoucherRow.__table__.c.period, VoucherRow.__table__.c.number, VoucherRow.__table__.c.state)):
            if state == "posted":
                numbers[period].append(number)
    posted = len(ids) - len(doomed)
    assert sum(len(v) for v in numbers.values()) == posted
    for period_numbers in numbers.values():
        assert sorted(period_numbers) == list(range(1, len(period_numbers) + 1))
    assert verify_chain(book, COMPANY) is None
