"""The baseline every peer beats: exact references only.

A shipment links to the order its ``order_ref`` names; an invoice to the shipment its
``delivery_ref`` / ``receipt_ref`` names; a bank transaction settles the invoices whose exact
numbers its remittance names when the amounts add up exactly. Everything else is unmatched.
Writes links.csv, exceptions.csv and summary.json like ``yecai reconcile``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from connectors.contract import Record
from connectors.dropfolder.connector import DropFolderConnector
from ledger.documents import BankTransaction, Invoice, Shipment
from matching.refs import extract_numbers


def run_baseline(folder: Path, out: Path) -> None:
    records = [i.document for i in DropFolderConnector.from_options({"path": str(folder)}).fetch()
               if isinstance(i, Record)]
    documents = {(d.kind.value, d.number): d for d in records if hasattr(d, "kind") and d.kind.value != "bank_txn"}
    transactions = list({t.number: t for t in records if isinstance(t, BankTransaction)}.values())
    links, exceptions, settled = [], [], 0
    order_kind = {"delivery": "sales_order", "goods_receipt": "purchase_order"}
    shipment_kind = {"sales_invoice": "delivery", "purchase_invoice": "goods_receipt"}
    for (kind, number), document in sorted(documents.items()):
        if isinstance(document, Shipment) and (order_kind[kind], document.order_ref) in documents:
            links.append((order_kind[kind], document.order_ref, kind, number, "auto", "1.0000", ""))
        if isinstance(document, Invoice) and (shipment_kind[kind], document.shipment_ref) in documents:
            links.append((shipment_kind[kind], document.shipment_ref, kind, number, "auto", "1.0000", ""))
    for txn in transactions:
        side = "sales_invoice" if txn.amount.amount > 0 else "purchase_invoice"
        named = [documents[(side, n)] for n in extract_numbers(txn.remittance) if (side, n) in documents]
        if named and sum(i.gross_total.amount for i in named) == abs(txn.amount.amount):
            links += [(side, i.number, "bank_txn", txn.number, "auto", "1.0000", format(i.gross_total.amount, "f"))
                      for i in named]
            settled += 1
        else:
            exceptions.append((f"EX-{txn.number}", "UNMATCHED_BANK_TXN", "medium", "bank_txn", txn.number,
                               format(txn.amount.amount, "f"), "no exact reference"))
    out.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (("links.csv", "from_type,from_no,to_type,to_no,decision,score,amount", links),
                               ("exceptions.csv", "exception_id,code,severity,doc_type,doc_no,amount,message",
                                exceptions)):
        with (out / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header.split(","))
            writer.writerows(sorted(rows))
    (out / "summary.json").write_text(json.dumps({
        "links": {"auto": len(links), "suggested": 0},
        "auto_match_rate": round(settled / len(transactions), 4) if transactions else 0.0}), encoding="utf-8")
