"""The external corpus: real MT940/MT942 and camt files from other projects.

Every file either parses to exactly the expected output stored beside it (statements,
accounts, references, balances, line counts, dates, signed amounts, ids from the references,
counterparty and remittance), or, where the corpus has no expected output because the file
is invalid, gives the described problems listed here and nothing else. Real test files often
have balances that do not add up; those breaks are problems too, and each one is checked
against the expected output's own numbers. Skipped with a reason when YECAI_EXTERNAL_CORPUS
is unset.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.bank.camt import parse_camt
from connectors.bank.mt940 import parse_mt940
from connectors.bank.mt940_details import parse_details
from connectors.bank.statement import ParsedFile
from ledger.money import Money

CORPUS = os.environ.get("YECAI_EXTERNAL_CORPUS")
pytestmark = pytest.mark.skipif(not CORPUS, reason="set YECAI_EXTERNAL_CORPUS (e.g. ../shared/fixtures) "
                                                   "to run the external bank corpus")
ROOT = Path(CORPUS or ".")
MT940_ROOT = ROOT / "bank/mt940/tests/data"
MT940 = sorted(MT940_ROOT.rglob("*.sta")) if CORPUS else []
CAMT = sorted((ROOT / "bank/camt/test/data").glob("*.xml")) if CORPUS else []
# mt940-rs names SWIFT "RC" (reversal of a credit: a debit entry, money out) ReverseDebit.
SIGN = {"Credit": 1, "ReverseCredit": 1, "Debit": -1, "ReverseDebit": -1}
HASH_ID = re.compile(r"[0-9a-f]{16}\.\d+")

# Files the corpus has no expected output for (invalid on purpose, or MT942 / broken samples):
# the (row, field) of every problem we must report. A balance field means the file's own
# numbers do not add up (opening + lines != closing, or a statement not opening at the
# previous one's closing balance).
MT940_PROBLEMS = {
    "mt940/full/betterplace/sepa_snippet_broken.sta": [(6, "25"), (1, "closing_balance")],
    "mt940/full/jejik/knab_broken.sta": [(17, "61"), (10, "opening_balance")],
    "mt940/special-cases/february_30.sta": [(6, "value_date")],
    "mt940/special-cases/incomplete_tag_61.sta": [(1, "closing_balance")],
    "mt940/special-cases/invalid_statement.sta": [(None, None)],  # no :20:
    "mt940/special-cases/invalid_utf8.sta": [(None, None)],  # undecodable, see below
    "mt940/special-cases/overly_long_details.sta": [(1, "closing_balance")],
    "mt940/special-cases/unexpected_tag.sta": [(8, "12"), (2, "25")],
    "mt940/special-cases/unknown_tag.sta": [(9, "12")],
    "mt942/full/cmxl/mt942_1.sta": [(None, None)],  # an empty file
    "mt942/full/jejik/generic.sta": [],
    "mt942/full/jejik/rabobank.sta": [(2, "closing_balance"), (13, "opening_balance"),
                                      (19, "closing_balance"), (19, "opening_balance")],
    "mt942/full/jejik/triodos.sta": [(1, "closing_balance")],
    "mt942/full/mBank/mt942.sta": [],
    "mt942/full/sberbank/171011_01234945.sta": [],
    "mt942/special-cases/long_statement_number.sta": [],
    "mt942/special-cases/mt942.sta": [],
    "mt942/special-cases/raphaelm.sta": [(27, "62M"), (35, "62F"), (47, "62F")],  # no currency
}


def swift(text: str) -> str:
    """Text as mt940-rs writes it: transliterated to ASCII, trailing spaces before a line break
    dropped, and characters outside the SWIFT set as '.'."""
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    text = re.sub(r" *\n", "\n", "".join(c for c in text if not unicodedata.combining(c)))
    return re.sub(r"[^A-Za-z0-9/\-?:().,+{} \r\n]", ".", text)


def _balance(balance: dict | None) -> Money | None:
    if balance is None:
        return None
    sign = 1 if balance["debit_credit_indicator"] == "Credit" else -1
    return Money(sign * Decimal(balance["amount"]), balance["iso_currency_code"])


def _expected_details(info: str | dict | None) -> tuple[str, str, str]:
    """(counterparty, account, remittance) as our :86: reading must give them."""
    if isinstance(info, dict):  # mt940-rs decoded the German ?-subfields
        remittance = (info.get("purpose") or "") + (info.get("additional_purpose") or "")
        return (info.get("applicant_name") or "", info.get("applicant_iban") or "",
                remittance or info.get("posting_text") or "")
    return tuple(parse_details(info)) if info else ("", "", "")  # type: ignore[return-value]


def _mt940_balance_problems(expected: list[dict]) -> list[tuple[int, str]]:
    """The balance breaks the expected output itself shows, as (statement index, field)."""
    breaks = []
    for index, statement in enumerate(expected):
        opening, closing = _balance(statement["opening_balance"]), _balance(statement["closing_balance"])
        moved = sum((SIGN[line["ext_debit_credit_indicator"]] * Decimal(line["amount"])
                     for line in statement["statement_lines"]), Decimal(0))
        if opening is not None and closing is not None and opening.amount + moved != closing.amount:
            breaks.append((index, "closing_balance"))
        before = _balance(expected[index - 1]["closing_balance"]) if index else None
        if before is not None and opening is not None and before != opening \
                and expected[index - 1]["account_id"] == statement["account_id"]:
            breaks.append((index, "opening_balance"))
    return breaks


def _rows(parsed: ParsedFile) -> list[tuple[int | None, str | None]]:
    return [(problem.row, problem.field) for problem in parsed.problems]


@pytest.mark.parametrize("path", MT940, ids=lambda p: p.relative_to(MT940_ROOT).as_posix())
def test_mt940_file_matches_its_expected_output_or_its_listed_problems(path: Path) -> None:
    name = path.relative_to(MT940_ROOT).as_posix()
    parsed = parse_mt940(path.read_bytes(), path.name)
    expected_path = path.with_suffix(".json")
    if not expected_path.exists():
        assert _rows(parsed) == MT940_PROBLEMS[name]
        assert all(problem.message and problem.file == path.name for problem in parsed.problems)
        return
    assert name not in MT940_PROBLEMS
    expected = json.loads(expected_path.read_text(), parse_float=Decimal)
    rows = {statement.row: index for index, statement in enumerate(parsed.statements)}
    assert [(rows[row], field) for row, field in _rows(parsed)] == _mt940_balance_problems(expected)
    assert len(parsed.statements) == len(expected)
    for want, got in zip(expected, parsed.statements, strict=True):
        number = want["statement_no"] + (f"/{want['sequence_no']}" if want["sequence_no"] else "")
        assert swift(got.reference) == swift(f"{want['transaction_ref_no']} {number}")
        assert got.account_no == want["account_id"]
        assert (got.opening, got.closing) == (_balance(want["opening_balance"]),
                                              _balance(want["closing_balance"]))
        assert len(got.transactions) == len(want["statement_lines"])
        for line, txn in zip(want["statement_lines"], got.transactions, strict=True):
            assert txn.value_date.isoformat() == line["value_date"]
            assert txn.booking_date.isoformat() == (line["entry_date"] or line["value_date"])
            assert txn.amount == Money(SIGN[line["ext_debit_credit_indicator"]] * Decimal(line["amount"]),
                                       got.opening.currency if got.opening else txn.amount.currency)
            reference = next((ref.strip() for ref in (line["bank_ref"], line["customer_ref"])
                              if ref and ref.strip() and ref.strip() != "NONREF"), None)
            if reference:
                assert txn.txn_id == reference or re.fullmatch(re.escape(reference) + r"\.\d+", txn.txn_id)
            else:
                assert HASH_ID.fullmatch(txn.txn_id)
            want_details = tuple(swift(text) for text in _expected_details(
                line["information_to_account_owner"]))
            got_details = tuple(swift(text) for text in (txn.counterparty, txn.counterparty_account,
                                                         txn.remittance))
            if not isinstance(line["information_to_account_owner"], dict):
                # mt940-rs joins repeated :86: fields without a line break, we keep one
                got_details = tuple(g if "\n" in w else g.replace("\n", "")
                                    for g, w in zip(got_details, want_details, strict=True))
            assert got_details == want_details


def test_mt940_corpus_encodings_are_explicit() -> None:
    """invalid_utf8.sta is not UTF-8: refused when no fallback fits, read when one is set."""
    data = (MT940_ROOT / "mt940/special-cases/invalid_utf8.sta").read_bytes()
    refused = parse_mt940(data, "invalid_utf8.sta", encoding_fallback="utf-8")
    assert refused.statements == () and "not valid UTF-8" in refused.problems[0].message
    latin = parse_mt940(data, "invalid_utf8.sta", encoding_fallback="latin-1")
    assert latin.encoding == "latin-1" and latin.transactions
    assert "cannot be decoded" in parse_mt940(data, "x.sta").problems[0].message  # cp1252 lacks 0x81


def _objects(value: object, kind: str) -> list[dict]:
    """Every fully written object of a genkgo class ending in ``kind`` (the PHP dump writes an
    object once and ``__RECURSIVITY__`` where it recurs), in document order, each once."""
    found: list[dict] = []

    def walk(item: object) -> None:
        if isinstance(item, dict):
            if str(item.get("__CLASS__", "")).endswith(kind) and item not in found:
                found.append(item)
            for child in item.values():
                walk(child)
        elif isinstance(item, list):
            for child in item:
                walk(child)

    walk(value)
    return found


def _camt_texts(entry: dict) -> list[str]:
    """The remittance texts and creditor references genkgo shows for an entry."""
    texts = []
    for info in _objects(entry.get("getTransactionDetail"), "RemittanceInformation") + [
            item for detail in entry.get("getTransactionDetails") or [] if isinstance(detail, dict)
            for item in _objects(detail, "RemittanceInformation")]:
        texts += [info.get("getMessage") or ""] + [
            block.get("getMessage") or "" for block in _objects(info, "UnstructuredRemittanceInformation")] + [
            ref.get("getRef") or "" for ref in _objects(info, "CreditorReferenceInformation")]
    return [text.strip() for text in texts if text and text.strip()]


CAMT_PROBLEMS = {"camt053.v2.wrong.xml": [(None, None)]}  # no Stmt under the Document
SIDE = {True: "Debtor", False: "Creditor"}  # a credit's counterparty is its debtor


@pytest.mark.parametrize("path", CAMT, ids=lambda p: p.name)
def test_camt_file_matches_its_expected_output(path: Path) -> None:
    parsed = parse_camt(path.read_bytes(), path.name)
    expected_path = path.with_suffix(".json")
    if not expected_path.exists():
        assert _rows(parsed) == CAMT_PROBLEMS[path.name]
        return
    expected = json.loads(expected_path.read_text(), parse_float=Decimal)
    records = _objects(expected, "Statement") + _objects(expected, "Report") + _objects(expected, "Notification")
    hidden = len(expected["getRecords"]) > len(records)  # the dump shows a record once at most
    assert len(parsed.statements) == len(expected["getRecords"])
    by_reference = {statement.reference: statement for statement in parsed.statements}
    for record in records:
        statement = by_reference[record["getId"]]
        assert statement.account_no == record["getAccount"]["getIdentification"]
        balances = [b for b in record.get("getBalances") or [] if isinstance(b, dict)]
        for kind, got in (("opening", statement.opening), ("closing", statement.closing)):
            typed = [b for b in balances if b["getType"] == kind]
            if len(typed) == 1:
                assert got is not None and got.to_minor() == int(typed[0]["getAmount"]["getAmount"])
    entries = _objects(expected, "Entry")
    dated = [entry for entry in entries if entry.get("getBookingDate") or entry.get("getValueDate")]
    # an entry without any date cannot be a bank transaction: it is a described problem
    assert [p.field for p in parsed.problems if p.field == "BookgDt"] == ["BookgDt"] * (len(entries) - len(dated))
    # the corpus' balances often do not add up: each such statement, and only those, is a
    # closing_balance problem (its balances and lines are checked against the JSON here)
    breaks = [f"{s.reference!r}" for s in parsed.statements if s.complete and s.opening and s.closing
              and s.opening.amount + sum(t.amount.amount for t in s.transactions) != s.closing.amount]
    others = [p for p in parsed.problems if p.field != "BookgDt"]
    assert [p.field for p in others] == ["closing_balance"] * len(breaks)
    assert all(name in problem.message for name, problem in zip(breaks, others, strict=True))
    assert len(parsed.transactions) >= len(dated) if hidden else len(parsed.transactions) == len(dated)
    unmatched = list(parsed.transactions)
    for entry in dated:
        amount = entry["getAmount"]
        booking = (entry.get("getBookingDate") or entry["getValueDate"])["0"][:10]
        value = (entry.get("getValueDate") or entry["getBookingDate"])["0"][:10]
        key = (int(amount["getAmount"]), amount["getCurrency"]["getCode"], booking, value)
        txn = next(t for t in unmatched if (t.amount.to_minor(), t.amount.currency,
                                            t.booking_date.isoformat(), t.value_date.isoformat()) == key)
        unmatched.remove(txn)
        reference = entry.get("getAccountServicerReference") or entry.get("getReference")
        assert txn.txn_id == reference if reference else HASH_ID.fullmatch(txn.txn_id)
        kinds = {party.get("__CLASS__", "").rsplit("\\", 1)[-1]: party for party in
                 (p.get("getRelatedPartyType") or {} for p in _objects(entry, "RelatedParty"))}
        side = SIDE[txn.amount.amount > 0]
        parties = [party for party in _objects(entry, "RelatedParty") if (party.get(
            "getRelatedPartyType") or {}).get("__CLASS__", "").rsplit("\\", 1)[-1]
            == (side if side in kinds else "Ultimate" + side)]
        for party in parties:
            name = party["getRelatedPartyType"].get("getName")
            account = (party.get("getAccount") or {}).get("getIdentification")
            assert not name or name in txn.counterparty.split("; ")
            assert not account or account in txn.counterparty_account.split("; ")
        for text in _camt_texts(entry) or [(entry.get("getAdditionalInfo") or "").strip()]:
            assert text in txn.remittance
