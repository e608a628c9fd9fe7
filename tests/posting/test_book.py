"""The voucher book on SQLite and PostgreSQL: states, gapless numbers under concurrency,
immutability, red-letter reversal, period close and the tamper-evident chain."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger.money import Money
from ledger.posting.audit import verify_audit
from ledger.posting.book import (
    BookError,
    post,
    reverse,
    reverse_settlement,
    review,
    save_drafts,
    set_period,
    verify_chain,
)
from ledger.posting.fx import Conversion
from ledger.posting.stored import load_vouchers
from ledger.posting.tables import VoucherLineRow, VoucherRow
from ledger.posting.templates import load_templates
from ledger.posting.vouchers import PostingEvent, bank_event_key
from ledger.posting.vouchers import post as build
from ledger.settings import load_chart, load_company
from ledger.storage.review_tables import AuditEvent, ReviewUser
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


def test_verify_names_a_voucher_whose_number_repeats_or_skips(book) -> None:
    ids = drafts(book, 3)
    numbers = post(book, COMPANY, ids, by="wang.poster")
    postgres = book.dialect.name == "postgresql"
    with book.begin() as connection:  # around the triggers; PostgreSQL has no UNIQUE on numbers (0011)
        if postgres:
            connection.execute(text("ALTER TABLE voucher DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER voucher_posted_immutable"))
        tampered = 1 if postgres else 7   # SQLite keeps its UNIQUE constraint, so a repeat cannot be stored there
        connection.execute(text(f"UPDATE voucher SET number = {tampered}, voucher_no = '转-2026-11-{tampered:04d}' "
                                f"WHERE id = {ids[2]}"))
    broken = verify_chain(book, COMPANY)
    assert broken is not None and broken.voucher_no == f"转-2026-11-{tampered:04d}" and broken.chain_seq == 3
    assert "repeats or is skipped" in broken.reason and numbers[2] == "转-2026-11-0003"


def test_posting_refuses_numbers_that_would_not_run_1_to_n(book) -> None:
    post(book, COMPANY, drafts(book, 2), by="wang.poster")
    with book.begin() as connection:   # the counter moved behind the book's back: the next number leaves a gap
        connection.execute(text("UPDATE voucher_counter SET last_number = last_number + 1 WHERE period = '2026-11'"))
    later = drafts(book, 1, start=10)
    with pytest.raises(BookError, match=r"3 numbered vouchers run 1\.\.4 but the counter stands at 4"):
        post(book, COMPANY, later, by="wang.poster")
    assert [v.state for v in load_vouchers(book, COMPANY) if v.id in later] == ["reviewed"]
    assert verify_chain(book, COMPANY) is None


def test_posting_refuses_a_repeat_and_a_gap_made_together(book) -> None:
    if book.dialect.name != "postgresql":
        pytest.skip("SQLite keeps UNIQUE (company, period, word, number): a repeated number cannot be stored there")
    ids = drafts(book, 3)
    post(book, COMPANY, ids, by="wang.poster")
    with book.begin() as connection:   # 1, 2, 3 → 1, 1, 3: as many numbers, the same largest, one repeated
        connection.execute(text("ALTER TABLE voucher DISABLE TRIGGER USER"))
        connection.execute(text(f"UPDATE voucher SET number = 1 WHERE id = {ids[1]}"))
        connection.execute(text("ALTER TABLE voucher ENABLE TRIGGER USER"))
    later = drafts(book, 1, start=10)
    with pytest.raises(BookError, match=r"4 numbered vouchers run 1\.\.4 but the counter stands at 4"):
        post(book, COMPANY, later, by="wang.poster")
    assert [v.state for v in load_vouchers(book, COMPANY) if v.id in later] == ["reviewed"]


def add_user(engine, username: str, roles: str) -> None:
    with engine.begin() as connection:
        connection.execute(ReviewUser.__table__.insert().values(username=username, password_hash="x", roles=roles,
                                                                 created_at=datetime.now(UTC)))


def test_closed_periods_refuse_postings_and_reopening_needs_a_reason(book) -> None:
    add_user(book, "admin", "approver,finance_admin")
    add_user(book, "li.reviewer", "reviewer")
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
    for someone in ("li.reviewer", "nobody"):
        with pytest.raises(BookError, match="needs the finance_admin role"):
            set_period(book, COMPANY, "2026-10", "open", by=someone, reason="late supplier invoice")
    set_period(book, COMPANY, "2026-10", "open", by="admin", reason="late supplier invoice")
    assert post(book, COMPANY, late, by="wang.poster") == ["转-2026-10-0002"]
    with book.connect() as connection:   # every close and reopen is in the audit chain
        events = connection.execute(select(AuditEvent.__table__.c.action, AuditEvent.__table__.c.actor,
                                           AuditEvent.__table__.c.reason)
                                    .order_by(AuditEvent.__table__.c.seq)).all()
    assert [tuple(e) for e in events] == [
        ("period_close", "admin", ""), ("period_reopen", "admin", "check the severity rule"),
        ("period_close", "admin", ""), ("period_reopen", "admin", "late supplier invoice")]
    assert verify_audit(book, COMPANY) is None


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


def bank_voucher(txn: str, kind: str = "customer_receipt", amount: str = "113.00", currency: str = "CNY",
                 day: date = date(2026, 11, 5), conversion=None):
    amounts = {"received": Money.parse(amount, currency), "settled": Money.parse(amount, currency)}
    if kind == "unmatched_receipt":
        amounts = {"received": Money.parse(amount, currency)}
    event = PostingEvent(kind=kind, key=bank_event_key(txn), date=day, doc_type="bank_txn", doc_no=txn,
                         currency=currency, amounts=amounts, counterparty="海尔智家")
    return build(event, TEMPLATES, CHART, conversion)


def test_unmatching_a_settlement_reverses_its_posted_voucher_and_rebooks_the_transaction(book) -> None:
    [posted_id] = save_drafts(book, COMPANY, [bank_voucher("A:1")])
    [draft_id] = save_drafts(book, COMPANY, [bank_voucher("A:2")])
    review(book, COMPANY, [posted_id], by="li.reviewer")
    [number] = post(book, COMPANY, [posted_id], by="wang.poster")
    with pytest.raises(BookError, match="needs a reason"):
        reverse_settlement(book, COMPANY, "A:1", by="li.reviewer", reason=" ")
    [undone] = reverse_settlement(book, COMPANY, "A:1", by="li.reviewer", reason="wrong invoice")
    assert (undone.action, undone.voucher_id) == ("reversed", posted_id) and undone.reversal_id
    assert reverse_settlement(book, COMPANY, "A:1", by="li.reviewer", reason="again") == []   # nothing stands now
    [discarded] = reverse_settlement(book, COMPANY, "A:2", by="li.reviewer", reason="wrong invoice")
    assert (discarded.action, discarded.voucher_id) == ("discarded", draft_id)
    # the next run books both transactions as they now stand: to suspense, pending review
    again = save_drafts(book, COMPANY, [bank_voucher("A:1", "unmatched_receipt"),
                                        bank_voucher("A:2", "unmatched_receipt")])
    assert len(again) == 2 and save_drafts(book, COMPANY, [bank_voucher("A:1", "unmatched_receipt")]) == []
    stored = {v.event_key: v for v in load_vouchers(book, COMPANY)}
    assert stored["bank_txn:A:1@r2"].voucher.event.kind == "unmatched_receipt"
    assert stored["bank_txn:A:2"].voucher.event.kind == "unmatched_receipt"
    reversal = stored["reversal:bank_txn:A:1"]
    assert reversal.reversal_of == posted_id and f"冲销 {number}" in reversal.voucher.lines[0].summary
    review(book, COMPANY, [undone.reversal_id, *again], by="zhao.reviewer")
    post(book, COMPANY, [undone.reversal_id, *again], by="wang.poster")
    assert verify_chain(book, COMPANY) is None


def test_a_manual_reversal_keeps_the_event_booked(book) -> None:
    [voucher_id] = drafts(book, 1)
    post(book, COMPANY, [voucher_id], by="wang.poster")
    reverse(book, COMPANY, voucher_id, by="li.reviewer", reason="wrong customer")
    assert save_drafts(book, COMPANY, [invoice_voucher(0)]) == []


def test_a_foreign_voucher_posts_only_once_converted(book) -> None:
    [unconverted] = save_drafts(book, COMPANY, [bank_voucher("U:1", currency="USD", amount="10.00")])
    review(book, COMPANY, [unconverted], by="li.reviewer")
    with pytest.raises(BookError, match=r"in USD with no conversion into the base currency CNY: add the rate"):
        post(book, COMPANY, [unconverted], by="wang.poster")
    conversion = Conversion(base_currency="CNY", rate=Decimal("7.1234"), rate_date=date(2026, 11, 4),
                            source="中国人民银行")
    [converted] = save_drafts(book, COMPANY, [bank_voucher("U:1", currency="USD", amount="10.00",
                                                           conversion=conversion)])
    assert save_drafts(book, COMPANY, [bank_voucher("U:1", currency="USD", amount="10.00",
                                                    conversion=conversion)]) == []
    [stored] = load_vouchers(book, COMPANY)
    assert stored.id == converted and stored.state == "draft"      # the unconverted draft was replaced
    assert stored.voucher.conversion == conversion
    assert [ln.base for ln in stored.voucher.lines] == [(Money.parse("71.23", "CNY"), Money.zero("CNY")),
                                                        (Money.zero("CNY"), Money.parse("71.23", "CNY"))]
    review(book, COMPANY, [converted], by="li.reviewer")
    [number] = post(book, COMPANY, [converted], by="wang.poster")
    with book.begin() as connection:   # the rate is covered by the chain like any amount
        if book.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE voucher DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER voucher_posted_immutable"))
        connection.execute(text(f"UPDATE voucher SET fx_rate = '7.2' WHERE id = {converted}"))
    broken = verify_chain(book, COMPANY)
    assert broken is not None and broken.voucher_no == number and "content" in broken.reason


def test_a_draft_edited_behind_the_books_back_fails_verification_once_posted(book) -> None:
    ids = drafts(book, 2)
    with book.begin() as connection:   # a draft is not protected, but its content hash was made at drafting
        connection.execute(text(f"UPDATE voucher_line SET account_name = 'x' WHERE voucher_id = {ids[1]}"))
    numbers = post(book, COMPANY, ids, by="wang.poster")
    broken = verify_chain(book, COMPANY)
    assert broken is not None and broken.voucher_no == numbers[1]


def test_unbalanced_drafts_are_refused_at_posting(book) -> None:
    [voucher_id] = drafts(book, 1)
    with book.begin() as connection:
        connection.execute(text(f"UPDATE voucher_line SET credit_minor = credit_minor + 1 "
                                f"WHERE voucher_id = {voucher_id} AND line_no = 2"))
    with pytest.raises(BookError, match=r"do not balance"):
        post(book, COMPANY, [voucher_id], by="wang.poster")


def test_lines_cannot_be_added_to_a_posted_voucher(book) -> None:
    [voucher_id] = drafts(book, 1)
    post(book, COMPANY, [voucher_id], by="wang.poster")
    with pytest.raises(DBAPIError, match="immutable"), book.begin() as connection:
        connection.execute(text(
            "INSERT INTO voucher_line (voucher_id, line_no, account_code, account_name, debit_minor, credit_minor, "
            "summary, customer, supplier, project, department, product_line, base_debit_minor, base_credit_minor) "
            f"VALUES ({voucher_id}, 9, '1002', 'x', 1, 0, '', '', '', '', '', '', 1, 0)"))


minor_amounts = st.integers(min_value=1, max_value=10**15)   # up to 10 trillion yuan, in fen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(st.tuples(minor_amounts, minor_amounts), min_size=1, max_size=5),
       currency=st.sampled_from(["CNY", "JPY", "KWD"]))
def test_decimal_amounts_round_trip_exactly_through_the_book(book, amounts, currency) -> None:
    vouchers = []
    for net_minor, tax_minor in amounts:
        net, tax = Money.from_minor(net_minor, currency), Money.from_minor(tax_minor, currency)
        key = f"sales_invoice:{uuid.uuid4().hex}"
        vouchers.append(build(PostingEvent(kind="sales_invoice", key=key, date=date(2026, 11, 3),
                                           doc_type="sales_invoice", doc_no=key, currency=currency,
                                           amounts={"gross": net + tax, "net": net, "tax": tax}), TEMPLATES, CHART))
    ids = save_drafts(book, COMPANY, vouchers)
    stored = {s.id: s for s in load_vouchers(book, COMPANY, state="draft")}
    for voucher_id, voucher in zip(ids, vouchers):
        assert [(ln.debit, ln.credit, ln.base) for ln in stored[voucher_id].voucher.lines] == [
            (ln.debit, ln.credit, ln.base) for ln in voucher.lines]
        assert all(type(ln.debit.amount) is Decimal for ln in stored[voucher_id].voucher.lines)


def _post_in_a_process(url: str, batch: list[int], roll_back: bool) -> str:
    """A worker process of its own: posts ``batch``, or numbers it and then fails on purpose."""
    from ledger.storage.engine import make_engine

    engine = make_engine(url)

    def fail(_voucher_id: int, _number: str) -> None:
        raise RuntimeError("rolled back on purpose")

    try:
        post(engine, COMPANY, batch, by="wang.poster", on_numbered=fail if roll_back else None)
        return "posted"
    except RuntimeError:
        return "rolled back"
    finally:
        engine.dispose()


def test_numbers_are_exactly_one_to_n_per_period_and_word_with_many_processes(book) -> None:
    ids = (drafts(book, 30, day=date(2026, 11, 3)) + drafts(book, 12, day=date(2026, 12, 1), start=100))
    receipts = save_drafts(book, COMPANY, [bank_voucher(f"P:{n}", day=date(2026, 11, 20 + n % 3))
                                           for n in range(24)])
    review(book, COMPANY, receipts, by="li.reviewer")
    everything = ids + receipts
    batches = [everything[i::22] for i in range(22)]
    doomed = {i for i in range(len(batches)) if i % 4 == 1}
    url = book.url.render_as_string(hide_password=False)
    book.dispose()   # no pooled connection crosses the fork
    with ProcessPoolExecutor(max_workers=8, mp_context=multiprocessing.get_context("fork")) as pool:
        outcomes = list(pool.map(_post_in_a_process, [url] * len(batches), batches,
                                 [i in doomed for i in range(len(batches))]))
    assert outcomes == ["rolled back" if i in doomed else "posted" for i in range(len(batches))]
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    table = VoucherRow.__table__
    with book.connect() as connection:
        for period, word, number in connection.execute(select(table.c.period, table.c.word, table.c.number)
                                                       .where(table.c.state == "posted")):
            numbers[(period, word)].append(number)
    assert set(numbers) == {("2026-11", "转"), ("2026-12", "转"), ("2026-11", "收")}
    assert sum(map(len, numbers.values())) == sum(len(b) for i, b in enumerate(batches) if i not in doomed)
    for key, found in numbers.items():
        assert sorted(found) == list(range(1, len(found) + 1)), key
    assert verify_chain(book, COMPANY) is None
