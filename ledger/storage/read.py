"""Reading back: counts per kind, and stored rows rebuilt as domain records."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, select

from ledger.counterparties import Counterparty, Role
from ledger.documents import (
    DOCUMENT_CLASSES,
    BankTransaction,
    BusinessDocument,
    DocumentKind,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    ShipmentLine,
)
from ledger.money import Money
from ledger.storage.bulk import driver_rows
from ledger.storage.tables import (
    BankTxnRow,
    CounterpartyRow,
    DocumentLineRow,
    DocumentRow,
)


def counts_by_kind(engine: Engine, company_id: str) -> dict[str, int]:
    """Rows in the database per document kind (and counterparties), in the spec's kind order."""
    with engine.connect() as connection:
        documents = DocumentRow.__table__
        stored = dict(connection.execute(
            select(documents.c.kind, func.count()).where(documents.c.company_id == company_id)
            .group_by(documents.c.kind)).all())
        bank = BankTxnRow.__table__
        stored["bank_txn"] = connection.execute(
            select(func.count()).select_from(bank).where(bank.c.company_id == company_id)).scalar_one()
        parties = CounterpartyRow.__table__
        stored["counterparty"] = connection.execute(
            select(func.count()).select_from(parties).where(parties.c.company_id == company_id)
        ).scalar_one()
    order = [kind.value for kind in DocumentKind] + ["counterparty"]
    return {kind: stored.get(kind, 0) for kind in order}


def load_counterparties(connection: Connection, company_id: str, *, tax_ids: bool = True) -> list[Counterparty]:
    """Master data as domain records; ``tax_ids=False`` leaves tax ids out (and so skips
    re-validating every stored 统一社会信用代码) for callers that look tax ids up on their own.
    Read as plain driver rows: a company can have a hundred thousand parties."""
    alias_map: dict[int, list[str]] = {}
    for cid, alias in driver_rows(connection, "SELECT a.counterparty_id, a.alias FROM counterparty_alias a "
                                  "JOIN counterparty p ON p.id = a.counterparty_id WHERE p.company_id = {} "
                                  "ORDER BY a.id", (company_id,)):
        alias_map.setdefault(cid, []).append(alias)
    account_map: dict[int, list[str]] = {}
    for cid, account in driver_rows(connection, "SELECT b.counterparty_id, b.account_no FROM "
                                    "counterparty_bank_account b JOIN counterparty p ON p.id = b.counterparty_id "
                                    "WHERE p.company_id = {} ORDER BY b.id", (company_id,)):
        account_map.setdefault(cid, []).append(account)
    rows = driver_rows(connection, "SELECT id, external_id, role, name, tax_id, country FROM counterparty "
                       "WHERE company_id = {} ORDER BY id", (company_id,))
    return [Counterparty(counterparty_id=external_id, role=Role(role), name=name,
                         tax_id=tax_id if tax_ids else None, country=country,
                         aliases=tuple(alias_map.get(row_id, ())),
                         bank_accounts=tuple(account_map.get(row_id, ())))
            for row_id, external_id, role, name, tax_id, country in rows]


def load_bank_transactions(connection: Connection, company_id: str) -> list[BankTransaction]:
    table = BankTxnRow.__table__
    rows = connection.execute(select(table).where(table.c.company_id == company_id)
                              .order_by(table.c.id))
    return [BankTransaction(account_no=r.account_no, txn_id=r.txn_id, booking_date=r.booking_date,
                            value_date=r.value_date,
                            amount=Money.from_minor(r.amount_minor, r.currency),
                            counterparty=r.counterparty, counterparty_account=r.counterparty_account,
                            remittance=r.remittance) for r in rows]


def load_documents(connection: Connection, company_id: str) -> list[BusinessDocument]:
    """Every stored business document rebuilt as its domain record, in storage order."""
    documents = DocumentRow.__table__
    lines = DocumentLineRow.__table__
    by_document: dict[int, list] = {}
    for line in connection.execute(select(lines).join(documents, lines.c.document_id == documents.c.id)
                                   .where(documents.c.company_id == company_id)
                                   .order_by(lines.c.document_id, lines.c.line_no)):
        by_document.setdefault(line.document_id, []).append(line)
    result: list[BusinessDocument] = []
    for row in connection.execute(select(documents).where(documents.c.company_id == company_id)
                                  .order_by(documents.c.id)):
        result.append(_document(row, by_document.get(row.id, [])))
    return result


def _document(row, lines: list) -> BusinessDocument:
    cls = DOCUMENT_CLASSES[DocumentKind(row.kind)]
    common = {"number": row.doc_no, "date": row.doc_date, "counterparty": row.counterparty}
    if issubclass(cls, Order):
        return cls(**common, currency=row.currency, counterparty_tax_id=row.counterparty_tax_id,
                   project=row.project, department=row.department,
                   lines=tuple(OrderLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity,
                                         unit_price=line.unit_price, tax_rate=line.tax_rate) for line in lines))
    if issubclass(cls, Invoice):
        money = Money.from_minor
        return cls(**common, due_date=row.due_date, currency=row.currency,
                   counterparty_tax_id=row.counterparty_tax_id, order_ref=row.order_ref,
                   shipment_ref=row.shipment_ref,
                   lines=tuple(InvoiceLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity,
                                           unit_price=line.unit_price, tax_rate=line.tax_rate,
                                           net_amount=money(line.net_minor, row.currency).amount,
                                           tax_amount=money(line.tax_minor, row.currency).amount) for line in lines))
    return cls(**common, order_ref=row.order_ref,
               lines=tuple(ShipmentLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity) for line in lines))
