"""Scoring a reconcile run against a synthetic company's truth.json.

Links: precision and recall of auto links, and of auto + suggested links, on the adjacent
links of both chains. Settlement: the share of bank transactions that auto links settle
completely and correctly (exactly the true invoices). Exceptions: precision, recall and F1
per code on (code, document) pairs, and their macro average.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

# The document an exception code is about, for scoring (exceptions.csv may list more).
PRIMARY = {
    "UNMATCHED_BANK_TXN": {"bank_txn"}, "UNKNOWN_COUNTERPARTY": {"bank_txn"},
    "OVERPAYMENT": {"sales_invoice", "purchase_invoice"}, "SHORT_PAYMENT": {"sales_invoice", "purchase_invoice"},
    "DUPLICATE_PAYMENT": {"sales_invoice", "purchase_invoice"}, "DUPLICATE_INVOICE": {"purchase_invoice"},
    "QUANTITY_MISMATCH": {"purchase_invoice"}, "PRICE_MISMATCH": {"purchase_invoice"},
    "INVOICE_WITHOUT_RECEIPT": {"purchase_invoice"}, "DELIVERED_NOT_INVOICED": {"delivery"},
    "RECEIVED_NOT_INVOICED": {"goods_receipt"}, "INVOICE_OVERDUE": {"sales_invoice", "purchase_invoice"},
    "BANK_ACCOUNT_MISMATCH": {"purchase_invoice"},
}


@dataclass(frozen=True)
class Score:
    auto_precision: float
    auto_recall: float
    all_precision: float
    all_recall: float
    settled_correctly: float         # of the bank transactions that truly settle invoices
    auto_match_rate: float           # of all bank transactions (the spec's definition)
    per_code: dict[str, tuple[float, float, float, int]]   # precision, recall, f1, true count
    macro_f1: float


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def score(truth_path: Path, out: Path) -> Score:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    true_links = {tuple(link) for link in truth["links"]}
    with (out / "links.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    auto = {(r["from_type"], r["from_no"], r["to_type"], r["to_no"]) for r in rows if r["decision"] == "auto"}
    every = {(r["from_type"], r["from_no"], r["to_type"], r["to_no"]) for r in rows}
    linked_by_txn: dict[str, set[str]] = {}
    for _kind, number, to_type, to_no in auto:
        if to_type == "bank_txn":
            linked_by_txn.setdefault(to_no, set()).add(number)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    settled = truth["settled"]
    correct = sum(1 for txn, invoices in settled.items() if linked_by_txn.get(txn) == set(invoices))
    with (out / "exceptions.csv").open(encoding="utf-8") as handle:
        predicted = {(r["code"], r["doc_type"], r["doc_no"]) for r in csv.DictReader(handle)
                     if r["doc_type"] in PRIMARY.get(r["code"], ())}
    expected = {tuple(e) for e in truth["exceptions"]}
    per_code = {}
    for code in sorted({e[0] for e in expected} | {p[0] for p in predicted}):
        exp = {e for e in expected if e[0] == code}
        got = {p for p in predicted if p[0] == code}
        hit = len(exp & got)
        precision, recall = _ratio(hit, len(got)), _ratio(hit, len(exp))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_code[code] = (precision, recall, f1, len(exp))
    return Score(auto_precision=_ratio(len(auto & true_links), len(auto)),
                 auto_recall=_ratio(len(auto & true_links), len(true_links)),
                 all_precision=_ratio(len(every & true_links), len(every)),
                 all_recall=_ratio(len(every & true_links), len(true_links)),
                 settled_correctly=_ratio(correct, len(settled)), auto_match_rate=summary["auto_match_rate"],
                 per_code=per_code,
                 macro_f1=sum(v[2] for v in per_code.values()) / len(per_code) if per_code else 1.0)
