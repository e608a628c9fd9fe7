"""The exception queue: filters, keyset paging, one item with its documents and candidates.

    page = list_items(connection, "acme", Filters(code="SHORT_PAYMENT", min_age_hours=24), page_size=50)
    page.items[0].overdue, page.next_after     # next page: Filters(..., after=page.next_after)

Paging is by keyset on the item id (oldest first), read through the index on
(company, status, id): a page costs the same on page 1 and page 2,000. The total is counted up
to ``COUNT_CAP`` and shown as "10000+" beyond, so no request scans 100,000 rows to count them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, bindparam, func, or_, select, update

from ledger.money import Money
from ledger.storage.review_tables import AuditEvent, ExceptionComment, PaymentBlock
from ledger.storage.tables import BankTxnRow, DocumentRow, ExceptionDocumentRow, ExceptionItemRow
from matching.model import evidence_comparisons
from review.documents import ChainLink, DocumentView, chain, links_touching, load_document
from review.settings import ReviewSettings

ACTIVE = ("open", "in_review", "snoozed")
STATUSES = ("open", "in_review", "resolved", "ignored", "snoozed")
SEVERITIES = ("low", "medium", "high", "critical")
COUNT_CAP = 10_000
ITEMS = ExceptionItemRow.__table__


@dataclass(frozen=True, slots=True)
class Filters:
    status: str = "active"            # active (open, in review, snoozed and due) or one status
    code: str = ""
    severity: str = ""
    counterparty: str = ""
    assignee: str = ""
    min_age_hours: int | None = None
    min_amount: Money | None = None
    after: int | None = None          # keyset: the last id of the previous page


@dataclass(slots=True)
class QueueItem:
    id: int
    code: str
    severity: str
    status: str
    message: str
    counterparty: str
    amount: Money | None
    assignee: str | None
    first_seen_at: datetime
    due_at: datetime
    version: int

    @property
    def overdue(self) -> bool:
        return datetime.now(UTC) > self.due_at

    @property
    def age_hours(self) -> int:
        return int((datetime.now(UTC) - self.first_seen_at).total_seconds() // 3600)


@dataclass(slots=True)
class Page:
    items: list[QueueItem]
    next_after: int | None
    total: int
    capped: bool


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _item(row, settings: ReviewSettings) -> QueueItem:
    first = _aware(row.first_seen_at)
    amount = Money.from_minor(row.amount_minor, row.currency) if row.amount_minor is not None and row.currency else None
    return QueueItem(row.id, row.code, row.severity, row.status, row.message, row.counterparty or "", amount,
                     row.assignee, first, first + timedelta(hours=settings.sla_for(row.code)), row.version)


def _where(company_id: str, filters: Filters, today: date):
    where = ITEMS.c.company_id == company_id
    if filters.status == "active":
        where &= ITEMS.c.status.in_(ACTIVE) & or_(ITEMS.c.snoozed_until.is_(None), ITEMS.c.snoozed_until <= today)
    elif filters.status:
        where &= ITEMS.c.status == filters.status
    if filters.code:
        where &= ITEMS.c.code == filters.code
    if filters.severity:
        where &= ITEMS.c.severity == filters.severity
    if filters.counterparty:
        pattern = filters.counterparty.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where &= ITEMS.c.counterparty.like(f"%{pattern}%", escape="\\")
    if filters.assignee == "-":
        where &= ITEMS.c.assignee.is_(None)
    elif filters.assignee:
        where &= ITEMS.c.assignee == filters.assignee
    if filters.min_age_hours is not None:
        where &= ITEMS.c.first_seen_at <= datetime.now(UTC) - timedelta(hours=filters.min_age_hours)
    if filters.min_amount is not None:
        where &= (ITEMS.c.amount_minor >= filters.min_amount.to_minor()) & (
            ITEMS.c.currency == filters.min_amount.currency)
    return where


def list_items(connection: Connection, company_id: str, filters: Filters, settings: ReviewSettings,
               page_size: int | None = None, today: date | None = None) -> Page:
    page_size = page_size or settings.queue.page_size
    where = _where(company_id, filters, today or date.today())
    paged = where & (ITEMS.c.id > filters.after) if filters.after else where
    rows = connection.execute(select(ITEMS).where(paged).order_by(ITEMS.c.id).limit(page_size + 1)).all()
    total = connection.execute(select(func.count()).select_from(
        select(ITEMS.c.id).where(where).limit(COUNT_CAP + 1).subquery())).scalar_one()
    items = [_item(row, settings) for row in rows[:page_size]]
    next_after = items[-1].id if len(rows) > page_size else None
    return Page(items, next_after, min(total, COUNT_CAP), total > COUNT_CAP)


@dataclass(frozen=True, slots=True)
class Candidate(ChainLink):
    """A link the item's documents take part in, with the evidence behind its score."""

    id: int
    amount: Money | None
    rule: str
    rule_version: str
    decided_by: str
    evidence: list[dict]


@dataclass(slots=True)
class ItemView:
    item: QueueItem
    detail: str
    source: str
    resolution: str
    times_seen: int
    snoozed_until: date | None
    documents: list[DocumentView]
    candidates: list[Candidate]
    chain: list[ChainLink]
    comments: list
    history: list
    vouchers: list
    blocked: set[tuple[str, str]] = field(default_factory=set)


def candidates_for(connection: Connection, company_id: str, refs: list[tuple[str, str]]) -> list[Candidate]:
    found = {row.id: row for t, n in refs for row in links_touching(connection, company_id, t, n)}
    rows = sorted(found.values(), key=lambda r: (-r.score, r.id))[:50]
    return [Candidate(r.from_type, r.from_no, r.to_type, r.to_no, r.decision, r.score, id=r.id,
                      amount=Money.from_minor(r.amount_minor, r.currency) if r.amount_minor is not None else None,
                      rule=r.rule, rule_version=r.rule_version, decided_by=r.decided_by,
                      evidence=evidence_comparisons(r.evidence)) for r in rows]


def get_item(connection: Connection, company_id: str, item_id: int, settings: ReviewSettings) -> ItemView | None:
    from ledger.posting.tables import VoucherRow

    row = connection.execute(select(ITEMS).where((ITEMS.c.company_id == company_id) & (ITEMS.c.id == item_id))).first()
    if row is None:
        return None
    docs = ExceptionDocumentRow.__table__
    refs = [(r.doc_type, r.doc_no) for r in connection.execute(
        select(docs.c.doc_type, docs.c.doc_no).where(docs.c.exception_id == item_id).order_by(docs.c.id))]
    documents = [load_document(connection, company_id, t, n) if t != "file" else DocumentView(t, n, False)
                 for t, n in refs]
    comments = ExceptionComment.__table__
    audit = AuditEvent.__table__
    vouchers = VoucherRow.__table__
    blocks = PaymentBlock.__table__
    numbers = [n for t, n in refs if t != "file"]
    first_doc = next(((t, n) for t, n in refs if t != "file"), None)
    return ItemView(
        item=_item(row, settings), detail=row.detail, source=row.source, resolution=row.resolution,
        times_seen=row.times_seen, snoozed_until=row.snoozed_until, documents=documents,
        candidates=candidates_for(connection, company_id, [r for r in refs if r[0] != "file"]),
        chain=chain(connection, company_id, *first_doc) if first_doc else [],
        comments=connection.execute(select(comments).where(comments.c.exception_id == item_id)
                                    .order_by(comments.c.id)).all(),
        history=connection.execute(select(audit).where((audit.c.company_id == company_id)
                                                       & (audit.c.subject == f"exception:{item_id}"))
                                   .order_by(audit.c.seq)).all(),
        vouchers=connection.execute(select(vouchers).where((vouchers.c.company_id == company_id)
                                                           & vouchers.c.doc_no.in_(numbers))
                                    .order_by(vouchers.c.id)).all() if numbers else [],
        blocked={(r.doc_type, r.doc_no) for r in connection.execute(
            select(blocks.c.doc_type, blocks.c.doc_no).where((blocks.c.company_id == company_id)
                                                             & blocks.c.doc_no.in_(numbers)))} if numbers else set())


def enrich(connection: Connection, company_id: str, batch: int = 500) -> int:
    """Fill the counterparty and the amount at risk of items not looked at yet; returns how many."""
    docs, documents, bank = ExceptionDocumentRow.__table__, DocumentRow.__table__, BankTxnRow.__table__
    done = 0
    while True:
        pending = (ITEMS.c.company_id == company_id) & ITEMS.c.counterparty.is_(None)
        ids = connection.execute(select(ITEMS.c.id).where(pending).limit(batch)).scalars().all()
        if not ids:
            return done
        refs: dict[int, list] = {}
        for r in connection.execute(select(docs).where(docs.c.exception_id.in_(ids)).order_by(docs.c.id)):
            refs.setdefault(r.exception_id, []).append(r)
        # looked up by the keys the unique indexes lead with: (company, kind, doc_no) and
        # (company, account_no, txn_id); a doc_no alone would scan every document per batch
        by_kind: dict[str, set[str]] = {}
        for rs in refs.values():
            for r in rs:
                by_kind.setdefault(r.doc_type, set()).add(r.doc_no)
        names = {}
        for kind, numbers in sorted(by_kind.items()):
            if kind == "bank_txn":
                by_account: dict[str, set[str]] = {}
                for number in numbers:
                    account, _, txn = number.rpartition(":")
                    by_account.setdefault(account, set()).add(txn)
                for account, txns in sorted(by_account.items()):
                    for r in connection.execute(select(bank.c.account_no, bank.c.txn_id, bank.c.counterparty,
                                                       bank.c.amount_minor, bank.c.currency)
                                                .where((bank.c.company_id == company_id)
                                                       & (bank.c.account_no == account)
                                                       & bank.c.txn_id.in_(sorted(txns)))):
                        names[("bank_txn", f"{r.account_no}:{r.txn_id}")] = (r.counterparty, r.amount_minor, r.currency)
                continue
            for r in connection.execute(select(documents.c.kind, documents.c.doc_no, documents.c.counterparty,
                                               documents.c.net_minor, documents.c.tax_minor, documents.c.currency)
                                        .where((documents.c.company_id == company_id) & (documents.c.kind == kind)
                                               & documents.c.doc_no.in_(sorted(numbers)))):
                names[(r.kind, r.doc_no)] = (r.counterparty, (r.net_minor or 0) + (r.tax_minor or 0), r.currency)
        updates = []
        for item_id in ids:
            party, amount, currency = "", None, None
            for ref in refs.get(item_id, []):
                known = names.get((ref.doc_type, ref.doc_no))
                party = party or (known[0] if known else "")
                minor, code = (ref.amount_minor, ref.currency) if ref.amount_minor is not None else (
                    (known[1], known[2]) if known else (None, None))
                if minor is not None and code and (amount is None or abs(minor) > amount):
                    amount, currency = abs(minor), code
            updates.append({"item": item_id, "b_party": party[:256], "b_amount": amount, "b_currency": currency})
        connection.execute(update(ITEMS).where(ITEMS.c.id == bindparam("item")).values(
            counterparty=bindparam("b_party"), amount_minor=bindparam("b_amount"), currency=bindparam("b_currency")),
            updates)
        done += len(ids)
