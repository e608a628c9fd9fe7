"""What a person does to an exception, each in one transaction with its audit event.

    accept(engine, books, item_id=17, version=3, actor=Actor("li.kuaiji", "reviewer"), link_id=42)

Every action claims the item first: ``UPDATE … SET version = version + 1 WHERE id = ? AND
version = ?``. Of two reviewers acting on one item, the first claim wins; the second updates no
row and gets ``Conflict`` with the item as it is now. The claim is the transaction's first
statement, so SQLite takes its write lock before reading anything and PostgreSQL holds the row
lock until commit. The audit event (actor, role, before, after, reason) is appended to the
ledger's audit chain in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, Engine, insert, select, update

from ledger.money import Money
from ledger.posting.audit import append_event
from ledger.posting.book import cancel_drafts, draft_vouchers
from ledger.posting.templates import PostingTemplates
from ledger.posting.vouchers import PostingEvent, post
from ledger.settings import ChartOfAccounts, Tolerances
from ledger.storage.review_tables import AuditEvent, ExceptionComment, PaymentBlock, RejectedPair, ReviewUser
from ledger.storage.tables import BankTxnRow, ExceptionDocumentRow, ExceptionItemRow, MatchLinkRow
from matching.model import evidence_json
from review.documents import CHAIN_ORDER, load_document, party_of
from review.learning import learn_alias, record_decision
from review.settings import ReviewSettings

ITEMS, LINKS = ExceptionItemRow.__table__, MatchLinkRow.__table__
TERMINAL = ("resolved", "ignored")
INVOICE_TYPES = ("sales_invoice", "purchase_invoice")   # the documents whose duplicate loses its voucher
INVOICES = ("sales_invoice", "purchase_invoice")


@dataclass(frozen=True, slots=True)
class Books:
    """What actions need besides the database: the company and its posting configuration."""

    company_id: str
    chart: ChartOfAccounts
    templates: PostingTemplates
    tolerances: Tolerances
    settings: ReviewSettings
    base_currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: str


class ActionError(ValueError):
    """A refused action; the message says why."""


class Conflict(Exception):
    """Someone else changed the item first; ``current`` is how it is now."""

    def __init__(self, current: dict) -> None:
        self.current = current
        by = f" by {current['changed_by']}" if current.get("changed_by") else ""
        super().__init__(f"this item was changed{by} before your action (it is now {current['status']}, "
                         f"version {current['version']}); nothing was applied: look at it again and redo "
                         f"your action if it still applies")


@dataclass(slots=True)
class Done:
    message: str
    voucher_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Acting:
    connection: Connection
    row: object
    refs: list[tuple[str, str]]
    changes: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def resolve(self, status: str, resolution: str, by: str) -> None:
        self.changes.update(status=status, resolution=resolution, resolved_by=by, resolved_at=datetime.now(UTC),
                            snoozed_until=None)


def _snapshot(row) -> dict:
    return {"status": row.status, "assignee": row.assignee, "version": row.version, "resolution": row.resolution,
            "snoozed_until": row.snoozed_until.isoformat() if row.snoozed_until else None}


def current_state(connection: Connection, company_id: str, item_id: int) -> dict:
    row = connection.execute(select(ITEMS).where((ITEMS.c.company_id == company_id) & (ITEMS.c.id == item_id))).first()
    if row is None:
        raise ActionError(f"no exception {item_id}")
    audit = AuditEvent.__table__
    last = connection.execute(select(audit.c.actor, audit.c.action, audit.c.at).where(
        (audit.c.company_id == company_id) & (audit.c.subject == f"exception:{item_id}"))
        .order_by(audit.c.seq.desc()).limit(1)).first()
    return {**_snapshot(row), "changed_by": last.actor if last else None, "last_action": last.action if last else None}


@contextmanager
def _acting(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, action: str,
            reason: str = "", allow_terminal: bool = False) -> Iterator[_Acting]:
    company = books.company_id
    with engine.begin() as connection:
        claimed = connection.execute(update(ITEMS).where(
            (ITEMS.c.company_id == company) & (ITEMS.c.id == item_id) & (ITEMS.c.version == version))
            .values(version=version + 1)).rowcount
        if not claimed:
            raise Conflict(current_state(connection, company, item_id))
        row = connection.execute(select(ITEMS).where(ITEMS.c.id == item_id)).one()
        if row.status in TERMINAL and not allow_terminal:
            raise ActionError(f"exception {item_id} is {row.status} already")
        docs = ExceptionDocumentRow.__table__
        refs = [(r.doc_type, r.doc_no) for r in connection.execute(
            select(docs.c.doc_type, docs.c.doc_no).where(docs.c.exception_id == item_id).order_by(docs.c.id))]
        acting = _Acting(connection, row, refs)
        yield acting
        if acting.changes:
            connection.execute(update(ITEMS).where(ITEMS.c.id == item_id).values(**acting.changes))
        before = {**_snapshot(row), "version": version}
        after = {**before, **{k: (v.isoformat() if isinstance(v, date | datetime) else v)
                              for k, v in acting.changes.items() if k in before}, "version": version + 1,
                 **acting.extra}
        append_event(connection, company, actor=actor.username, role=actor.role, action=action,
                     subject=f"exception:{item_id}", before=before, after=after, reason=reason)


def _bank_txn(connection: Connection, company_id: str, number: str):
    table = BankTxnRow.__table__
    account, _, txn_id = number.partition(":")
    return connection.execute(select(table).where((table.c.company_id == company_id) & (table.c.account_no == account)
                                                  & (table.c.txn_id == txn_id))).first()


def _cash_voucher(connection: Connection, books: Books, actor: Actor, invoice_type: str, invoice_no: str,
                  txn_no: str, amount: Money, party_name: str) -> list[int]:
    """Clear the suspense the nightly run booked the receipt (or payment) to, against the invoice."""
    kind, role = ("receipt_applied", "customer") if invoice_type == "sales_invoice" else ("payment_applied",
                                                                                          "supplier")
    event = PostingEvent(kind=kind, key=f"applied:{invoice_type}:{invoice_no}:{txn_no}", date=date.today(),
                         doc_type="bank_txn", doc_no=txn_no, currency=amount.currency, amounts={"settled": amount},
                         counterparty=party_name, dimensions={role: party_name})
    return draft_vouchers(connection, books.company_id, [post(event, books.templates, books.chart)],
                          prepared_by=actor.username)


def _accept_link(acting: _Acting, books: Books, actor: Actor, link, keep: frozenset[str] = frozenset()) -> list[int]:
    """Mark one link accepted by a person, decline its rivals (but those from ``keep``, the other
    invoices of one allocation), learn from it, book the cash."""
    connection, company, now = acting.connection, books.company_id, datetime.now(UTC)
    connection.execute(update(LINKS).where(LINKS.c.id == link.id).values(decision="accepted",
                                                                        decided_by=actor.username, decided_at=now))
    party = party_of(connection, company, link.from_type, link.from_no)
    record_decision(connection, company, party.external_id if party else None, accepted=True)
    rivals = connection.execute(select(LINKS).where(
        (LINKS.c.company_id == company) & (LINKS.c.decision == "suggested") & (LINKS.c.id != link.id)
        & (LINKS.c.to_type == link.to_type) & (LINKS.c.to_no == link.to_no)
        & LINKS.c.from_no.not_in(keep or {""}))).all()
    for rival in rivals:
        connection.execute(update(LINKS).where(LINKS.c.id == rival.id).values(
            decision="declined", decided_by=actor.username, decided_at=now))
        rival_party = party_of(connection, company, rival.from_type, rival.from_no)
        record_decision(connection, company, rival_party.external_id if rival_party else None, accepted=False)
    voucher_ids: list[int] = []
    if link.to_type == "bank_txn" and link.from_type in INVOICES:
        txn = _bank_txn(connection, company, link.to_no)
        if party and txn is not None and learn_alias(connection, company, party.external_id, txn.counterparty):
            acting.extra["alias_learned"] = txn.counterparty
        if link.amount_minor and link.currency:
            voucher_ids = _cash_voucher(connection, books, actor, link.from_type, link.from_no, link.to_no,
                                        Money.from_minor(abs(link.amount_minor), link.currency),
                                        party.name if party else (txn.counterparty if txn else ""))
    acting.extra["declined_links"] = [r.id for r in rivals]
    acting.extra["vouchers"] = voucher_ids
    return voucher_ids


def accept(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, link_id: int,
           reason: str = "") -> Done:
    """Accept a candidate link: the suggestion, or another candidate of the item (choose)."""
    with _acting(engine, books, item_id, version, actor, "accept", reason) as acting:
        link = acting.connection.execute(select(LINKS).where(
            (LINKS.c.company_id == books.company_id) & (LINKS.c.id == link_id))).first()
        ends = set(acting.refs)
        if link is None or not ({(link.from_type, link.from_no), (link.to_type, link.to_no)} & ends):
            raise ActionError(f"link {link_id} is not a candidate of exception {item_id}")
        if link.decision in ("rejected",):
            raise ActionError(f"link {link_id} was rejected for good and cannot be accepted")
        vouchers = _accept_link(acting, books, actor, link)
        acting.extra["link"] = link_id
        acting.resolve("resolved", f"accepted link {link.from_no} → {link.to_no}", actor.username)
    return Done(f"accepted {link.from_type} {link.from_no} → {link.to_type} {link.to_no}", vouchers)


def _upsert_link(connection: Connection, company_id: str, actor: Actor, from_ref: tuple[str, str],
                 to_ref: tuple[str, str], amount: Money | None, rule: str, detail: str):
    key = ((LINKS.c.company_id == company_id) & (LINKS.c.from_type == from_ref[0]) & (LINKS.c.from_no == from_ref[1])
           & (LINKS.c.to_type == to_ref[0]) & (LINKS.c.to_no == to_ref[1]))
    values = {"decision": "accepted", "score": 1.0, "amount_minor": amount.to_minor() if amount else None,
              "currency": amount.currency if amount else None, "rule": rule, "rule_version": "review",
              "decided_by": actor.username, "decided_at": datetime.now(UTC),
              "evidence": evidence_json([("person", rule, 1.0, detail)])}
    if connection.execute(update(LINKS).where(key).values(**values)).rowcount == 0:
        connection.execute(insert(LINKS).values(company_id=company_id, from_type=from_ref[0], from_no=from_ref[1],
                                                to_type=to_ref[0], to_no=to_ref[1], **values))
    return connection.execute(select(LINKS).where(key)).one()


def link_manually(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, doc_type: str,
                  doc_no: str, reason: str = "") -> Done:
    """Link the item's document to one a person found by searching."""
    with _acting(engine, books, item_id, version, actor, "link", reason) as acting:
        target = load_document(acting.connection, books.company_id, doc_type, doc_no)
        own = next((ref for ref in acting.refs if ref[0] in CHAIN_ORDER and ref != (doc_type, doc_no)), None)
        if not target.found or own is None:
            raise ActionError(f"{doc_type} {doc_no} is not a stored document, or the item has nothing to link it to")
        mine = load_document(acting.connection, books.company_id, *own)
        from_ref, to_ref = sorted([own, (doc_type, doc_no)], key=lambda ref: CHAIN_ORDER[ref[0]])
        if CHAIN_ORDER[from_ref[0]] == CHAIN_ORDER[to_ref[0]]:
            raise ActionError(f"{from_ref[0]} and {to_ref[0]} are the same stage of a chain: nothing links them")
        amounts = [abs(v.amount) for v in (target, mine) if v.amount is not None]
        amount = min(amounts, key=lambda m: m.amount) if len(amounts) == 2 and len(
            {m.currency for m in amounts}) == 1 else None
        link = _upsert_link(acting.connection, books.company_id, actor, from_ref, to_ref, amount, "manual", reason)
        vouchers = _accept_link(acting, books, actor, link)
        acting.extra["link"] = link.id
        acting.resolve("resolved", f"linked {from_ref[1]} → {to_ref[1]} by hand", actor.username)
    return Done(f"linked {from_ref[0]} {from_ref[1]} → {to_ref[0]} {to_ref[1]}", vouchers)


def parse_amount(text: str, currency: str) -> Money:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ActionError(f"amount {text!r}: expected a number such as 1234.50") from None
    if value <= 0:
        raise ActionError(f"amount {text!r}: expected more than zero")
    return Money(value, currency).quantize()


def allocate(engine: Engine, books: Books, item_id: int, version: int, actor: Actor,
             allocations: list[tuple[str, str]], reason: str = "") -> Done:
    """Spread one bank transaction over several invoices: [(invoice number, amount text), …]."""
    with _acting(engine, books, item_id, version, actor, "allocate", reason) as acting:
        connection = acting.connection
        txn_no = next((n for t, n in acting.refs if t == "bank_txn"), None)
        txn = _bank_txn(connection, books.company_id, txn_no) if txn_no else None
        if txn is None:
            raise ActionError("only an item about a bank transaction can be allocated")
        side = "sales_invoice" if txn.amount_minor > 0 else "purchase_invoice"
        total, vouchers, made = Money.zero(txn.currency), [], []
        chosen = frozenset(number.strip() for number, _text in allocations)
        for number, text in allocations:
            amount = parse_amount(text, txn.currency)
            invoice = load_document(connection, books.company_id, side, number.strip())
            if not invoice.found:
                raise ActionError(f"{side} {number}: no such invoice")
            if invoice.amount is None or invoice.amount.currency != txn.currency or amount > invoice.amount:
                raise ActionError(f"{side} {number}: {amount} is more than its amount {invoice.amount}")
            total = total + amount
            link = _upsert_link(connection, books.company_id, actor, (side, invoice.doc_no), ("bank_txn", txn_no),
                                amount, "allocation", reason)
            vouchers += _accept_link(acting, books, actor, link, keep=chosen)
            made.append(link.id)
        if not made:
            raise ActionError("an allocation needs at least one invoice and amount")
        if total.to_minor() > abs(txn.amount_minor):
            raise ActionError(f"the allocations add up to {total}, more than the transaction's "
                              f"{Money.from_minor(abs(txn.amount_minor), txn.currency)}")
        acting.extra.update(links=made, vouchers=vouchers)
        acting.resolve("resolved", f"allocated {total} over {len(made)} invoice(s)", actor.username)
    return Done(f"allocated {total} over {len(made)} invoice(s)", vouchers)


def write_off(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, amount_text: str,
              reason: str) -> Done:
    """Write off a difference within the company's amount tolerance; drafts its voucher."""
    if not reason.strip():
        raise ActionError("a write-off needs a reason")
    with _acting(engine, books, item_id, version, actor, "write_off", reason) as acting:
        invoice_ref = next((ref for ref in acting.refs if ref[0] in INVOICES), None)
        if invoice_ref is None:
            raise ActionError("only a difference on an invoice can be written off")
        invoice = load_document(acting.connection, books.company_id, *invoice_ref)
        if invoice.amount is None:
            raise ActionError(f"{invoice_ref[0]} {invoice_ref[1]} has no amount")
        amount = parse_amount(amount_text, invoice.amount.currency)
        limit = Money(books.tolerances.amount, amount.currency)
        if amount > limit:
            raise ActionError(f"{amount} is beyond the write-off tolerance of {limit}: settle it instead")
        receivable = invoice_ref[0] == "sales_invoice"
        event = PostingEvent(kind="write_off_receivable" if receivable else "write_off_payable",
                             key=f"write_off:exception:{item_id}", date=date.today(), doc_type=invoice_ref[0],
                             doc_no=invoice_ref[1], currency=amount.currency, amounts={"difference": amount},
                             counterparty=invoice.counterparty,
                             dimensions={"customer" if receivable else "supplier": invoice.counterparty})
        vouchers = draft_vouchers(acting.connection, books.company_id, [post(event, books.templates, books.chart)],
                                  prepared_by=actor.username)
        acting.extra["vouchers"] = vouchers
        acting.resolve("resolved", f"wrote off {amount}", actor.username)
    return Done(f"wrote off {amount}; voucher drafted for approval", vouchers)


def mark_duplicate(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, doc_type: str,
                   doc_no: str, reason: str = "") -> Done:
    """The document is a duplicate: block its payment and close the item."""
    with _acting(engine, books, item_id, version, actor, "duplicate", reason) as acting:
        if (doc_type, doc_no) not in acting.refs:
            raise ActionError(f"{doc_type} {doc_no} is not a document of exception {item_id}")
        others = [n for t, n in acting.refs if (t, n) != (doc_type, doc_no)]
        table = PaymentBlock.__table__
        if not acting.connection.execute(select(table.c.id).where(
                (table.c.company_id == books.company_id) & (table.c.doc_type == doc_type)
                & (table.c.doc_no == doc_no))).first():
            acting.connection.execute(insert(table).values(
                company_id=books.company_id, doc_type=doc_type, doc_no=doc_no, duplicate_of=", ".join(others)[:256],
                blocked_by=actor.username, blocked_at=datetime.now(UTC), reason=reason))
        acting.extra["blocked"] = f"{doc_type}:{doc_no}"
        cancelled, posted = [], []
        if doc_type in INVOICE_TYPES:   # a duplicate invoice is no business event: its own voucher goes
            cancelled, posted = cancel_drafts(acting.connection, books.company_id, [f"{doc_type}:{doc_no}"])
            acting.extra["cancelled_vouchers"] = [row["id"] for row in cancelled]
            acting.extra["posted_vouchers"] = [row["voucher_no"] for row in posted]
        acting.resolve("resolved", f"{doc_type} {doc_no} is a duplicate; its payment is blocked", actor.username)
    if posted:
        return Done(f"{doc_type} {doc_no} marked as a duplicate; payment blocked; its voucher "
                    f"{', '.join(row['voucher_no'] for row in posted)} is posted already: reverse it (red-letter)")
    if cancelled:
        return Done(f"{doc_type} {doc_no} marked as a duplicate; payment blocked; its draft voucher was cancelled")
    return Done(f"{doc_type} {doc_no} marked as a duplicate; payment blocked")


def ignore(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, reason: str) -> Done:
    """Ignore for good: the item closes and its suggested pairs are rejected, never to return."""
    if not reason.strip():
        raise ActionError("ignoring for good needs a reason")
    with _acting(engine, books, item_id, version, actor, "ignore", reason) as acting:
        connection, company, now = acting.connection, books.company_id, datetime.now(UTC)
        ends = set(acting.refs)
        pairs = [link for link in connection.execute(select(LINKS).where(
            (LINKS.c.company_id == company) & LINKS.c.decision.in_(("suggested", "declined"))
            & LINKS.c.to_no.in_([n for _t, n in ends]))) if (link.from_type, link.from_no) in ends
            and (link.to_type, link.to_no) in ends]
        rejected = RejectedPair.__table__
        for link in pairs:
            connection.execute(update(LINKS).where(LINKS.c.id == link.id).values(
                decision="rejected", decided_by=actor.username, decided_at=now))
            connection.execute(insert(rejected).values(
                company_id=company, from_type=link.from_type, from_no=link.from_no, to_type=link.to_type,
                to_no=link.to_no, rejected_by=actor.username, rejected_at=now, reason=reason))
            party = party_of(connection, company, link.from_type, link.from_no)
            record_decision(connection, company, party.external_id if party else None, accepted=False)
        acting.extra["rejected_pairs"] = [f"{p.from_no}->{p.to_no}" for p in pairs]
        acting.resolve("ignored", "ignored for good", actor.username)
    return Done(f"ignored for good ({len(pairs)} pair(s) will not be suggested again)")


def snooze(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, until: date,
           reason: str = "") -> Done:
    if until <= date.today():
        raise ActionError(f"snooze until {until}: expected a date after today")
    with _acting(engine, books, item_id, version, actor, "snooze", reason) as acting:
        acting.changes.update(status="snoozed", snoozed_until=until)
    return Done(f"snoozed until {until}")


def assign(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, assignee: str,
           reason: str = "") -> Done:
    """Give the item to someone (or to nobody, with ''); an open item goes into review."""
    users = ReviewUser.__table__
    with _acting(engine, books, item_id, version, actor, "assign", reason) as acting:
        if assignee and not acting.connection.execute(select(users.c.id).where(
                (users.c.username == assignee) & users.c.disabled.is_(False))).first():
            raise ActionError(f"no active user {assignee}")
        status = acting.row.status
        acting.changes.update(assignee=assignee or None,
                              status="in_review" if assignee and status in ("open", "snoozed") else
                              ("open" if not assignee and status == "in_review" else status))
        if acting.changes["status"] != "snoozed":
            acting.changes["snoozed_until"] = None
    return Done(f"assigned to {assignee}" if assignee else "unassigned")


def comment(engine: Engine, books: Books, item_id: int, version: int, actor: Actor, body: str) -> Done:
    if not body.strip():
        raise ActionError("a comment needs some text")
    with _acting(engine, books, item_id, version, actor, "comment", allow_terminal=True) as acting:
        acting.connection.execute(insert(ExceptionComment.__table__).values(
            exception_id=item_id, author=actor.username, body=body.strip()[:4000], created_at=datetime.now(UTC)))
        acting.extra["comment"] = body.strip()[:200]
    return Done("comment added")
