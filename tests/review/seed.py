"""A small company for the review tests: two invoices, bank transactions, suggested links and
the exceptions the matcher would raise about them, with hostile text in connector fields."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert

from flows.cli_review import books_for
from ledger.exceptions import DocumentRef, ExceptionCode, ExceptionItem
from ledger.money import Money
from ledger.settings import load_chart, load_company
from ledger.storage.exception_store import raise_exceptions
from ledger.storage.store import sync_company
from ledger.storage.tables import BankTxnRow, CounterpartyRow, DocumentRow, MatchLinkRow
from matching.model import evidence_json
from review.actions import Books
from review.auth import add_user
from review.queue import enrich
from review.roles import ROLES
from tests.conftest import EXAMPLE_CONFIG

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
PASSWORD = "correct horse battery"
BOOKS = books_for(EXAMPLE_CONFIG)
COMPANY = BOOKS.company_id
TXN, TXN2 = "31050161373600001234:T1", "31050161373600001234:T2"


def _doc(number: str, counterparty: str, net: int, tax: int, tax_id: str | None = None) -> dict:
    return {"company_id": COMPANY, "kind": "sales_invoice", "doc_no": number, "doc_date": date(2026, 11, 2),
            "due_date": date(2026, 12, 2), "counterparty": counterparty, "counterparty_tax_id": tax_id,
            "currency": "CNY", "net_minor": net, "tax_minor": tax, "source": "test", "content_hash": number}


def _link(from_no: str, to_no: str, score: float, amount: int) -> dict:
    evidence = evidence_json([("amount", "exact", 1.0, ""), ("counterparty", "fuzzy", score, SCRIPT)])
    return {"company_id": COMPANY, "from_type": "sales_invoice", "from_no": from_no, "to_type": "bank_txn",
            "to_no": to_no, "decision": "suggested", "score": score, "amount_minor": amount, "currency": "CNY",
            "rule": "party_amount", "rule_version": "2026.11.1", "decided_by": "yecai",
            "evidence": evidence, "decided_at": datetime.now(UTC)}


def seed(engine: Engine) -> Books:
    """Returns the books; users ``<role>1`` and ``<role>2`` exist for every role, plus ``all1``."""
    config = load_company(EXAMPLE_CONFIG)
    sync_company(engine, config, load_chart(config))
    with engine.begin() as connection:
        connection.execute(insert(CounterpartyRow.__table__).values(
            company_id=COMPANY, external_id="C-HAIER", role="customer", name="海尔智家股份有限公司",
            tax_id="91370200264574251E", country="CN"))
        connection.execute(insert(CounterpartyRow.__table__).values(
            company_id=COMPANY, external_id="C-EVIL", role="customer", name=SCRIPT, country="CN"))
        connection.execute(insert(DocumentRow.__table__), [
            _doc("INV-1", "海尔智家股份有限公司", 100000, 13000, "91370200264574251E"),
            _doc("INV-2", SCRIPT, 50000, 6500), _doc("INV-3", SCRIPT, 50000, 6500)])
        bank = {"company_id": COMPANY, "account_no": "31050161373600001234", "booking_date": date(2026, 11, 5),
                "value_date": date(2026, 11, 5), "currency": "CNY", "counterparty_account": "6222", "source": "test"}
        connection.execute(insert(BankTxnRow.__table__), [
            {**bank, "txn_id": "T1", "amount_minor": 113000, "counterparty": "青岛海尔智家", "remittance": IMG,
             "content_hash": "t1"},
            {**bank, "txn_id": "T2", "amount_minor": 56450, "counterparty": SCRIPT, "remittance": "货款",
             "content_hash": "t2"}])
        connection.execute(insert(MatchLinkRow.__table__), [_link("INV-1", TXN, 0.81, 113000),
                                                            _link("INV-2", TXN, 0.62, 56500)])
        cny = lambda minor: Money.from_minor(minor, "CNY")  # noqa: E731
        raise_exceptions(connection, COMPANY, [
            ExceptionItem(code=ExceptionCode.LOW_CONFIDENCE_MATCH, detail=f"INV-1->{TXN}",
                          message="suggested sales_invoice INV-1 → bank_txn (score 0.81) waits for a person",
                          documents=(DocumentRef(doc_type="sales_invoice", doc_no="INV-1"),
                                     DocumentRef(doc_type="bank_txn", doc_no=TXN, amount=cny(113000)))),
            ExceptionItem(code=ExceptionCode.SHORT_PAYMENT, message=f"{TXN2} pays INV-2 short by 0.50 {IMG}",
                          documents=(DocumentRef(doc_type="sales_invoice", doc_no="INV-2", amount=cny(56500)),
                                     DocumentRef(doc_type="bank_txn", doc_no=TXN2, amount=cny(56450)))),
            ExceptionItem(code=ExceptionCode.DUPLICATE_INVOICE, message=f"INV-3 repeats INV-2 {SCRIPT}",
                          documents=(DocumentRef(doc_type="sales_invoice", doc_no="INV-2"),
                                     DocumentRef(doc_type="sales_invoice", doc_no="INV-3"))),
            ExceptionItem(code=ExceptionCode.UNMATCHED_BANK_TXN, message=f"{TXN2} from {SCRIPT} settles nothing",
                          documents=(DocumentRef(doc_type="bank_txn", doc_no=TXN2, amount=cny(56450)),)),
        ])
        enrich(connection, COMPANY)
    for role in ROLES:
        for n in (1, 2):
            add_user(engine, f"{role}{n}", PASSWORD, [role])
    add_user(engine, "all1", PASSWORD, [r for r in ROLES if r != "it_admin"])
    return BOOKS


def book_invoice(engine: Engine, books: Books, doc_no: str, posted: bool = False) -> int:
    """The nightly run's voucher for sales invoice ``doc_no`` (net 500.00 + tax 65.00): a draft
    by yecai, or reviewed and posted by two people. Returns its id."""
    from ledger.posting.book import post, review, save_drafts
    from ledger.posting.vouchers import PostingEvent
    from ledger.posting.vouchers import post as build

    cny = lambda text: Money.parse(text, "CNY")  # noqa: E731
    event = PostingEvent(kind="sales_invoice", key=f"sales_invoice:{doc_no}", date=date(2026, 11, 2),
                         doc_type="sales_invoice", doc_no=doc_no, currency="CNY", counterparty=SCRIPT,
                         amounts={"gross": cny("565.00"), "net": cny("500.00"), "tax": cny("65.00")},
                         dimensions={"customer": SCRIPT})
    [voucher_id] = save_drafts(engine, books.company_id, [build(event, books.templates, books.chart)])
    if posted:
        review(engine, books.company_id, [voucher_id], by="li.kuaiji")
        post(engine, books.company_id, [voucher_id], by="wang.zhuguan")
    return voucher_id
