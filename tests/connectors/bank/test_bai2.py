"""BAI2: records, continuations, funds types, signs, ids, balances and control totals; every
malformed input is a described problem, never an exception."""

from __future__ import annotations

import doctest
from datetime import date

import pytest

import connectors.bank.bai2
import connectors.bank.bai2_fields
from connectors.bank.bai2 import parse_bai2
from ledger.documents import BankTransaction
from ledger.money import Money

# Account 1111: 5,000.00 + 1,500.00 - 376.55 = 6,123.45; amounts 1,300,000 minor units in 5 records.
# Account 2222 (currency from the group): 1,000.00 - 50.00 = 950.00; 200,000 in 4 records.
BAI2 = """01,021000021,ACMECORP,261130,0600,FILE7,80,10,2/
02,ACMECORP,021000021,1,261130,0600,USD,2/
03,1111,USD,010,500000,,,015,612345,,/
16,195,150000,S,100000,30000,20000,WIRE001,INV-2026-11,INCOMING WIRE FROM
88,GLOBEX LTD, REF 42
16,475,37655,0,CHK0815,,CHECK 815 PAID/
49,{total1},5/
03,2222,,010,100000,,/
88,015,95000,,/
16,699,5000,V,261201,1200,,C-77,MONTHLY FEE/
49,200000,4/
98,1500000,2,11/
99,1500000,1,{records}/
"""


def bai2(total1: str = "1300000", records: str = "13", text: str = BAI2) -> bytes:
    return text.format(total1=total1, records=records).encode()


def test_two_accounts_in_a_group_read_every_field():
    parsed = parse_bai2(bai2(), "bank/f.bai2")
    assert parsed.problems == ()
    assert (parsed.format, parsed.encoding) == ("bai2", "utf-8-sig")
    assert parsed.transactions == [
        BankTransaction(account_no="1111", txn_id="WIRE001", booking_date=date(2026, 11, 30),
                        value_date=date(2026, 11, 30), amount=Money.parse("1500.00", "USD"),
                        remittance="INCOMING WIRE FROM GLOBEX LTD, REF 42"),
        BankTransaction(account_no="1111", txn_id="CHK0815", booking_date=date(2026, 11, 30),
                        value_date=date(2026, 11, 30), amount=Money.parse("-376.55", "USD"),
                        remittance="CHECK 815 PAID"),
        BankTransaction(account_no="2222", txn_id="C-77", booking_date=date(2026, 11, 30),
                        value_date=date(2026, 12, 1), amount=Money.parse("-50.00", "USD"),
                        remittance="MONTHLY FEE"),
    ]
    first, second = parsed.statements
    assert (first.reference, first.account_no, first.row) == ("FILE7 1111", "1111", 3)
    assert (first.opening, first.closing) == (Money.parse("5000.00", "USD"),
                                              Money.parse("6123.45", "USD"))
    assert (second.opening, second.closing) == (Money.parse("1000.00", "USD"),
                                                Money.parse("950.00", "USD"))


def test_account_currency_and_zero_decimal_currency_use_minor_units():
    text = ("01,B,C,261130,0600,F,,,2/\n02,C,B,1,261130,,EUR,2/\n03,9,JPY,010,1000,,/\n"
            "16,301,250,Z,,,/\n49,1250,3/\n98,1250,1,5/\n99,1250,1,7/\n")
    parsed = parse_bai2(text.encode(), "f.bai")
    assert parsed.problems == ()
    (txn,) = parsed.transactions
    assert txn.amount == Money.parse("250", "JPY")
    assert len(txn.txn_id) == 18 and txn.txn_id.endswith(".1")  # no reference: the hash id


def test_identical_lines_without_references_get_hash_ids_in_file_order():
    line = "16,301,100,0,,,SAME/\n"
    text = ("01,B,C,261130,0600,F,,,2/\n02,C,B,1,261130,,USD,2/\n03,9,,/\n" + line + line
            + "49,200,4/\n98,200,1,6/\n99,200,1,8/\n")
    first, second = parse_bai2(text.encode(), "f.bai").transactions
    assert first.txn_id[:-2] == second.txn_id[:-2]
    assert (first.txn_id[-2:], second.txn_id[-2:]) == (".1", ".2")


def test_control_total_mismatch_is_a_problem_and_lines_are_still_read():
    parsed = parse_bai2(bai2(total1="1300001"), "f.bai2")
    assert len(parsed.transactions) == 3
    (account,) = parsed.problems  # the group and file totals add what the lines say
    assert (account.row, account.field) == (7, "49")
    assert "account 1111 control total is 1300001, but its amounts add up to 1300000" in account.message


def test_record_count_mismatch_in_file_trailer():
    (problem,) = parse_bai2(bai2(records="12"), "f.bai2").problems
    assert (problem.field, problem.row) == ("99", 13)
    assert "counts 12 records, but there are 13" in problem.message


def test_closing_balance_that_does_not_add_up():
    (problem,) = parse_bai2(bai2(text=BAI2.replace("612345", "612346").replace(
        "49,{total1}", "49,1300001").replace("98,1500000", "98,1500001").replace(
        "99,1500000", "99,1500001")), "f.bai2").problems
    assert problem.field == "closing_balance" and "6123.46" in problem.message


def test_funds_type_d_and_bad_lines_are_problems_not_exceptions():
    text = ("01,B,C,261130,0600,F,,,2/\n02,C,B,1,261130,,USD,2/\n03,9,,010,1000,,/\n"
            "16,301,100,D,2,0,60,1,40,R1,,OK/\n16,301,1.00,0,R2,,/\n16,950,5,0,R3,,/\n"
            "16,301,5,X,R4,,/\n16,301,0,0,R5,,/\n49,1110,7/\n98,1110,1,9/\n99,1110,1,11/\n")
    parsed = parse_bai2(text.encode(), "f.bai")
    assert [t.txn_id for t in parsed.transactions] == ["R1"]
    assert [(p.row, p.field) for p in parsed.problems] == [
        (5, "amount"), (6, "type_code"), (7, "funds_type"), (8, "amount")]
    assert "found '1.00', expected an amount in minor units" in str(parsed.problems[0])
    assert "400-699 (debit)" in parsed.problems[1].message


def test_missing_trailers_headers_and_garbage_are_described():
    truncated = parse_bai2(b"01,B,C,261130,0600,F,,,2/\n02,C,B,1,261130,,USD,2/\n03,9,,/\n"
                           b"16,301,100,0,R1,,/\n", "f.bai")
    assert [t.txn_id for t in truncated.transactions] == ["R1"]
    assert [p.field for p in truncated.problems] == ["49", "98", "99"]
    garbage = parse_bai2(b"hello\nworld", "f.bai")
    assert garbage.transactions == [] and "01 file header" in garbage.problems[-1].message
    no_group = parse_bai2(b"01,B,C,261130,0600,F,,,2/\n03,9,,/\n16,301,1,0,R,,/\n99,0,0,4/",
                          "f.bai")
    assert no_group.transactions == [] and no_group.problems
    bad_date = parse_bai2(b"01,B,C,261130,0600,F,,,2/\n02,C,B,1,261331,,USD,2/\n", "f.bai")
    assert "a real calendar date YYMMDD" in str(bad_date.problems[0])
    for broken in (b"", b"88,X/", b"01/\n02/\n03/\n16/\n49/\n98/\n99/", b"16,,,,,\n49,x,y/"):
        assert parse_bai2(broken, "f.bai").problems


def test_undecodable_bytes_are_a_problem():
    parsed = parse_bai2(bai2() + b"\x81", "f.bai2", encoding_fallback="cp1252")
    assert parsed.statements == () and "0x81" in parsed.problems[0].message


@pytest.mark.parametrize("module", [connectors.bank.bai2, connectors.bank.bai2_fields])
def test_worked_examples_in_docstrings(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_funds_types_1_and_2_add_no_field_and_a_broken_account_takes_no_lines():
    text = ("01,B,C,261130,0600,F,,,2/\n02,C,B,1,261130,,USD,2/\n03,9,,/\n"
            "16,301,100,1,R1,,ONE DAY/\n16,301,200,2,R2,,TWO DAYS/\n03,,,/\n16,301,5,0,R3,,/\n"
            "49,305,4/\n98,305,1,8/\n99,305,1,10/\n")
    parsed = parse_bai2(text.encode(), "f.bai")
    assert [(t.txn_id, t.amount, t.remittance) for t in parsed.transactions] == [
        ("R1", Money.parse("1.00", "USD"), "ONE DAY"), ("R2", Money.parse("2.00", "USD"), "TWO DAYS")]
    assert [(p.row, p.field) for p in parsed.problems][:3] == [
        (6, "49"), (6, "account_no"), (7, "16")]


def test_bank_statement_connector_reads_bai_files(tmp_path):
    from connectors.registry import resolve

    (tmp_path / "f.bai").write_bytes(bai2())
    connector = resolve("bank_statement").from_options({"path": "."}, base_path=tmp_path)
    assert [r.source_id for r in connector.fetch()] == [
        "bank:1111:WIRE001", "bank:1111:CHK0815", "bank:2222:C-77"]
