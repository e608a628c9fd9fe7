"""The external corpus: real MT940/MT942 and camt files from other projects, compared with the
expected outputs stored beside them. Skipped with a reason when YECAI_EXTERNAL_CORPUS is unset."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.bank.camt import parse_camt
from connectors.bank.mt940 import parse_mt940

CORPUS = os.environ.get("YECAI_EXTERNAL_CORPUS")
pytestmark = pytest.mark.skipif(not CORPUS, reason="set YECAI_EXTERNAL_CORPUS (e.g. ../shared/fixtures) "
                                                   "to run the external bank corpus")
ROOT = Path(CORPUS or ".")
MT940 = sorted((ROOT / "bank/mt940/tests/data").rglob("*.sta")) if CORPUS else []
CAMT = sorted((ROOT / "bank/camt/test/data").glob("*.xml")) if CORPUS else []
# mt940-rs names SWIFT "RC" (reversal of a credit: a debit entry, money out) ReverseDebit.
SIGN = {"Credit": 1, "ReverseCredit": 1, "Debit": -1, "ReverseDebit": -1}


@pytest.mark.parametrize("path", MT940, ids=lambda p: p.name)
def test_mt940_file_parses_and_matches_expected_lines(path: Path):
    parsed = parse_mt940(path.read_bytes(), path.name)
    assert parsed.statements or parsed.problems, "a file gives statements or described problems"
    assert all(problem.message for problem in parsed.problems)
    expected_path = path.with_suffix(".json")
    if not expected_path.exists():
        return
    expected = json.loads(expected_path.read_text(), parse_float=Decimal)
    want = sorted((line["value_date"], SIGN[line["ext_debit_credit_indicator"]] * Decimal(line["amount"]))
                  for statement in expected for line in statement["statement_lines"])
    got = sorted((t.value_date.isoformat(), t.amount.amount) for t in parsed.transactions)
    assert got == want


@pytest.mark.parametrize("path", CAMT, ids=lambda p: p.name)
def test_camt_file_parses_and_matches_expected_entries(path: Path):
    parsed = parse_camt(path.read_bytes(), path.name)
    assert parsed.transactions or parsed.problems or parsed.statements  # a statement may have no entries
    expected_path = path.with_suffix(".json")
    if not expected_path.exists():
        return
    expected = json.loads(expected_path.read_text(), parse_float=Decimal)
    got = {(t.amount.to_minor(), t.amount.currency, t.booking_date.isoformat())
           for t in parsed.transactions}
    for entry in expected["getEntries"]:
        booking = entry.get("getBookingDate")
        if booking is None:  # we refuse an entry without dates: it must be a described problem
            assert any(p.field == "BookgDt" for p in parsed.problems)
            continue
        key = (int(entry["getAmount"]["getAmount"]), entry["getAmount"]["getCurrency"]["getCode"],
               booking["0"][:10])
        assert key in got
