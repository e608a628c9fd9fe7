"""Documents as the review UI shows them: one document or bank transaction with its lines, a
search for manual linking, the counterparty a document belongs to, and the chain around it.

    chain(connection, "acme", "sales_invoice", "44001234")
    → [sales_order SO-1 → delivery D-1 (auto), delivery D-1 → sales_invoice 44001234 (auto),
       sales_invoice 44001234 → bank_txn 3105:T1 (suggested)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, or_, select

from ledger.money import Money
from ledger.storage.tables import (
    BankTxnRow,
    CounterpartyAlias,
    CounterpartyRow,
    DocumentLineRow,
    DocumentRow,
    MatchLinkRow,
)

CHAIN_ORDER = {"sales_order": 0, "purchase_order": 0, "delivery": 1, "goods_receipt": 1, "sales_invoice": 2,
               "purchase_invoice": 2, "bank_txn": 3}


@dataclass(slots=True)
class DocumentView:
    doc_type: str
    doc_no: str
    found: bool
    date: str = ""
    counterparty: str = ""
    tax_id: str = ""
    amount: Money | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)


def _money(minor: int | None, currency: str | None) -> Money | None:
    return Money.from_minor(minor, currency) if minor is not None and currency else None


def load_document(connection: Connection, company_id: str, doc_type: str, doc_no: str) -> DocumentView:
    if doc_type == "bank_txn":
        table = BankTxnRow.__table__
        account, _, txn_id = doc_no.partition(":")
        row = connection.execute(select(table).where((table.c.company_id == company_id)
                                                     & (table.c.account_no == account)
                                                     & (table.c.txn_id == txn_id))).first()
        if row is None:
            return DocumentView(doc_type, doc_no, False)
        return DocumentView(doc_type, doc_no, True, row.booking_date.isoformat(), row.counterparty, "",
                            Money.from_minor(row.amount_minor, row.currency),
                            [("account", row.account_no), ("value_date", row.value_date.isoformat()),
                             ("counterparty_account", row.counterparty_account), ("remittance", row.remittance),
                             ("source", row.source)])
    table, lines = DocumentRow.__table__, DocumentLineRow.__table__
    row = connection.execute(select(table).where((table.c.company_id == company_id) & (table.c.kind == doc_type)
                                                 & (table.c.doc_no == doc_no))).first()
    if row is None:
        return DocumentView(doc_type, doc_no, False)
    gross = None
    if row.net_minor is not None and row.currency:
        gross = Money.from_minor(row.net_minor + (row.tax_minor or 0), row.currency)
    view = DocumentView(doc_type, doc_no, True, row.doc_date.isoformat(), row.counterparty,
                        row.counterparty_tax_id or "", gross,
                        [(name, str(value)) for name, value in (
                            ("due_date", row.due_date), ("order_ref", row.order_ref),
                            ("shipment_ref", row.shipment_ref), ("project", row.project),
                            ("department", row.department), ("source", row.source)) if value])
    for line in connection.execute(select(lines).where(lines.c.document_id == row.id).order_by(lines.c.line_no)):
        view.lines.append({"line_no": line.line_no, "sku": line.sku, "quantity": line.quantity,
                           "unit_price": line.unit_price, "tax_rate": line.tax_rate,
                           "net": _money(line.net_minor, row.currency), "tax": _money(line.tax_minor, row.currency)})
    return view


def search_documents(connection: Connection, company_id: str, text: str, limit: int = 20) -> list[DocumentView]:
    """Documents whose number starts with, or whose counterparty contains, ``text``; bank
    transactions whose id starts with it or whose payer or remittance contains it."""
    text = text.strip()
    if not text:
        return []
    table = DocumentRow.__table__
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = connection.execute(select(table.c.kind, table.c.doc_no).where(
        (table.c.company_id == company_id) & or_(table.c.doc_no.like(f"{pattern}%", escape="\\"),
                                                 table.c.counterparty.like(f"%{pattern}%", escape="\\")))
        .order_by(table.c.doc_date.desc(), table.c.id.desc()).limit(limit)).all()
    bank = BankTxnRow.__table__
    txns = connection.execute(select(bank.c.account_no, bank.c.txn_id).where(
        (bank.c.company_id == company_id) & or_(bank.c.txn_id.like(f"{pattern}%", escape="\\"),
                                                bank.c.counterparty.like(f"%{pattern}%", escape="\\"),
                                                bank.c.remittance.like(f"%{pattern}%", escape="\\")))
        .order_by(bank.c.booking_date.desc(), bank.c.id.desc()).limit(limit)).all()
    return [*(load_document(connection, company_id, kind, number) for kind, number in rows),
            *(load_document(connection, company_id, "bank_txn", f"{account}:{txn}") for account, txn in txns)]


@dataclass(frozen=True, slots=True)
class Party:
    external_id: str
    name: str


def party_of(connection: Connection, company_id: str, doc_type: str, doc_no: str) -> Party | None:
    """The counterparty a business document names: by tax id, then legal name, then a known alias."""
    documents, parties, aliases = DocumentRow.__table__, CounterpartyRow.__table__, CounterpartyAlias.__table__
    row = connection.execute(select(documents.c.counterparty, documents.c.counterparty_tax_id).where(
        (documents.c.company_id == company_id) & (documents.c.kind == doc_type)
        & (documents.c.doc_no == doc_no))).first()
    if row is None:
        return None
    scope = parties.c.company_id == company_id
    for where in ((parties.c.tax_id == row.counterparty_tax_id) if row.counterparty_tax_id else None,
                  parties.c.name == row.counterparty):
        if where is not None:
            found = connection.execute(select(parties.c.external_id, parties.c.name).where(scope & where)).first()
            if found:
                return Party(*found)
    found = connection.execute(select(parties.c.external_id, parties.c.name)
                               .join(aliases, aliases.c.counterparty_id == parties.c.id)
                               .where(scope & (aliases.c.alias == row.counterparty))).first()
    return Party(*found) if found else None


@dataclass(frozen=True, slots=True)
class ChainLink:
    from_type: str
    from_no: str
    to_type: str
    to_no: str
    decision: str
    score: float


def links_touching(connection: Connection, company_id: str, doc_type: str, doc_no: str, limit: int = 50) -> list:
    """Links from or to one document: two index lookups (an OR of both would scan the table)."""
    table = MatchLinkRow.__table__
    scope = table.c.company_id == company_id
    return [*connection.execute(select(table).where(scope & (table.c.from_type == doc_type)
                                                    & (table.c.from_no == doc_no)).limit(limit)),
            *connection.execute(select(table).where(scope & (table.c.to_type == doc_type)
                                                    & (table.c.to_no == doc_no)).limit(limit))]


def chain(connection: Connection, company_id: str, doc_type: str, doc_no: str, limit: int = 40) -> list[ChainLink]:
    """Every link reachable from one document, ordered order → delivery → invoice → receipt."""
    seen_docs, frontier, found = {(doc_type, doc_no)}, [(doc_type, doc_no)], {}
    while frontier and len(found) < limit:
        kind, number = frontier.pop()
        for row in links_touching(connection, company_id, kind, number, limit):
            found[row.id] = ChainLink(row.from_type, row.from_no, row.to_type, row.to_no, row.decision, row.score)
            for end in ((row.from_type, row.from_no), (row.to_type, row.to_no)):
                if end not in seen_docs and row.decision not in ("rejected", "declined"):
                    seen_docs.add(end)
                    frontier.append(end)
    return sorted(found.values(), key=lambda link: (CHAIN_ORDER.get(link.from_type, 9), link.from_no, link.to_no))
