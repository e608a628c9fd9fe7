"""MT940/MT942: tags, dates, details, ids, encodings and balances, on small inline statements."""

from __future__ import annotations

import doctest
import gc
from datetime import date
from decimal import Decimal

import pytest

import connectors.bank.mt940
import connectors.bank.mt940_details
import connectors.bank.statement
from connectors.bank.mt940 import parse_mt940
from connectors.bank.statement import cycle_collection_paused

STATEMENT = """:20:REF1
:25:NL01BANK0123456789
:28C:00001/001
:60F:C261230EUR100,00
:61:2612301230C50,00NTRFINV-7//BANKREF1
:86:/TRTP/SEPA/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/ACME BV/REMI/Invoice 7 and 8 fo
r december/EREF/E1
:61:2612310102D30,00NTRFNONREF
:86:RC AFREKENING BETALINGSVERKEER
BETREFT REKENING 4715589 PERIODE: 01-10-2010 / 31-12-2010
ING Bank N.V. tarifering ING
:62F:C270102EUR120,00
-
"""


def parse(text: str, **options):
    return parse_mt940(text.encode(options.pop("encoding", "utf-8")), "bank/s.sta", **options)


def test_lines_become_signed_transactions_with_dates_across_year_end():
    parsed = parse(STATEMENT)
    assert parsed.problems == ()
    first, second = parsed.transactions
    assert first.amount.amount == Decimal("50.00") and first.amount.currency == "EUR"
    assert second.amount.amount == Decimal("-30.00")
    assert second.value_date == date(2026, 12, 31)
    assert second.booking_date == date(2027, 1, 2)  # entry date 0102 belongs to next year


def test_keyword_details_fill_counterparty_account_and_remittance_across_line_breaks():
    first = parse(STATEMENT).transactions[0]
    assert first.counterparty == "ACME BV"
    assert first.counterparty_account == "NL91ABNA0417164300"
    assert first.remittance == "Invoice 7 and 8 for december"


def test_multiline_free_text_details_are_kept_whole():
    second = parse(STATEMENT).transactions[1]
    assert second.remittance == ("RC AFREKENING BETALINGSVERKEER\nBETREFT REKENING 4715589 "
                                 "PERIODE: 01-10-2010 / 31-12-2010\nING Bank N.V. tarifering ING")


def test_german_sepa_subfields():
    text = STATEMENT.replace(
        ":86:/TRTP/SEPA/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/ACME BV/REMI/Invoice 7 and 8 fo\n"
        "r december/EREF/E1",
        ":86:166?00GUTSCHRIFT?20EREF+E1?21SVWZ+Rechnung 4\n2?30GENODEF1?31DE02120300000000202051"
        "?32Finanzamt Muenchen Abteilun?33g Erhebung")
    first = parse(text).transactions[0]
    assert first.counterparty == "Finanzamt Muenchen Abteilung Erhebung"
    assert first.counterparty_account == "DE02120300000000202051"
    assert first.remittance == "EREF+E1SVWZ+Rechnung 42"


def test_ids_bank_reference_then_customer_reference_then_stable_hash():
    parsed = parse(STATEMENT)
    assert parsed.transactions[0].txn_id == "BANKREF1"
    assert parse(STATEMENT.replace("//BANKREF1", "")).transactions[0].txn_id == "INV-7"
    hashed = parsed.transactions[1].txn_id
    assert hashed.endswith(".1") and len(hashed) == 18
    assert parse(STATEMENT).transactions[1].txn_id == hashed  # same file, same id


def test_identical_lines_get_distinct_occurrence_ids():
    line = ":61:2612310102D30,00NTRFNONREF\n:86:fee\n"
    text = STATEMENT.replace(":62F:C270102EUR120,00", line + line + ":62F:C270102EUR60,00")
    ids = [t.txn_id for t in parse(text).transactions[2:]]
    assert ids[0][:-2] == ids[1][:-2] and ids[0].endswith(".1") and ids[1].endswith(".2")


def test_february_30_is_a_described_problem_not_a_crash():
    parsed = parse(STATEMENT.replace("2612301230C50,00", "2602301230C50,00"))
    assert [p.field for p in parsed.problems] == ["value_date"]
    assert "260230" in str(parsed.problems[0])
    assert len(parsed.transactions) == 1


def test_balance_break_inside_a_statement_is_reported_with_its_name():
    parsed = parse(STATEMENT.replace(":62F:C270102EUR120,00", ":62F:C270102EUR121,00"))
    assert len(parsed.transactions) == 2
    (problem,) = parsed.problems
    assert problem.field == "closing_balance" and "REF1 00001/001" in problem.message


def test_consecutive_statements_must_chain():
    second = STATEMENT.replace("REF1", "REF2").replace("BANKREF1", "BANKREF2").replace(
        ":60F:C261230EUR100,00", ":60F:C261230EUR99,00").replace("EUR120,00", "EUR119,00")
    (problem,) = parse(STATEMENT + second).problems
    assert problem.field == "opening_balance" and "'REF1 00001/001' closed at 120.00 EUR" in problem.message


def test_encoding_utf8_first_then_explicit_fallback_never_dropping_bytes():
    text = STATEMENT.replace("ACME BV", "Müller GmbH")
    assert parse(text).encoding == "utf-8-sig"
    latin = parse(text, encoding="cp1252")
    assert latin.encoding == "cp1252" and latin.transactions[0].counterparty == "Müller GmbH"
    broken = parse_mt940(STATEMENT.encode() + b"\x81", "bank/s.sta", encoding_fallback="cp1252")
    assert broken.transactions == [] and "0x81" in broken.problems[0].message


def test_mt942_currency_from_floor_limit_and_unknown_tags_reported():
    text = (":20:INTRA\n:25:DE01/123\n:28C:1/1\n:34F:EUR0,\n:13D:2612301200+0100\n"
            ":61:261230C5,00NTRFX1\n:99:zz\n:90D:0EUR0,\n:90C:1EUR5,00\n-")
    parsed = parse(text)
    assert [t.amount.amount for t in parsed.transactions] == [Decimal("5.00")]
    assert [p.field for p in parsed.problems] == ["99"]


def test_an_unknown_floor_limit_currency_is_a_problem_and_its_lines_too_not_a_crash():
    text = (":20:INTRA\n:25:DE01/123\n:28C:1/1\n:34F:XXX0,\n:13D:2612301200+0100\n"
            ":61:261230C5,00NTRFX1\n:86:a\n-\n:20:NEXT\n:25:DE01/123\n:34F:EUR0,\n"
            ":61:261230C6,00NTRFX2\n-")
    parsed = parse(text)
    assert [t.amount.amount for t in parsed.transactions] == [Decimal("6.00")]
    assert [(p.row, p.field) for p in parsed.problems] == [(4, "34F"), (6, "currency")]
    assert "'XXX'" in parsed.problems[0].message and "ISO 4217" in parsed.problems[0].message


def test_an_amount_beyond_decimal_precision_is_a_problem_of_its_line_only():
    text = (":20:R\n:25:NL01\n:28C:1\n:60F:C261102EUR0,00\n"
            ":61:2611021102C123456789012345678901234567890,00NTRFX//B1\n:86:a\n"
            ":61:2611021102C5,00NTRFX//B2\n:62F:C261102EUR5,00\n-")
    parsed = parse(text)
    assert [t.txn_id for t in parsed.transactions] == ["B2"]
    assert [(p.row, p.field) for p in parsed.problems] == [(5, "amount")]
    assert "at most 28 digits" in parsed.problems[0].message


@pytest.mark.parametrize("module", [connectors.bank.mt940, connectors.bank.mt940_details,
                                    connectors.bank.statement])
def test_worked_examples_in_docstrings(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_the_cycle_collector_is_as_it_was_after_a_parse_even_a_failing_one():
    assert gc.isenabled()
    parse(STATEMENT)
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), cycle_collection_paused():
        assert not gc.isenabled()
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        parse(STATEMENT)
        assert not gc.isenabled()
    finally:
        gc.enable()
