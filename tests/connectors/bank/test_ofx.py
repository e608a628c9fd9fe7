"""OFX 1.x SGML and 2.x XML: statements, fields, ids, dates, encodings; every malformed input
is a described problem, never an exception. Also: the drop folder reads .bai2 and .ofx."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

import pytest

import connectors.bank.ofx
import connectors.bank.ofx_sgml
from connectors.bank.ofx import parse_ofx
from connectors.contract import Record, Skipped
from connectors.dropfolder.connector import DropFolderConnector
from ledger.documents import BankTransaction
from ledger.money import Money
from tests.connectors.bank.test_bai2 import bai2

HEADER = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n" \
         "CHARSET:{charset}\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
CHECKING = """<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>
<DTSERVER>20261231235959<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1001<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>4455667788<ACCTTYPE>CHECKING
</BANKACCTFROM><BANKTRANLIST><DTSTART>20261201<DTEND>20261231
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261230<DTAVAIL>20261231<TRNAMT>1500.00<FITID>F1
<NAME>Caf\u00e9 Fleur &amp; Co<MEMO>INV 7</STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261231230000.000[-5:EST]<TRNAMT>-25.03<FITID>F1
<PAYEE><NAME>ACME<ADDR1>1 Main St<CITY>Springfield<STATE>IL<POSTALCODE>62701<PHONE>555</PAYEE>
<BANKACCTTO><BANKID>026009593<ACCTID>998877<ACCTTYPE>CHECKING</BANKACCTTO><MEMO></STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>2474.97<DTASOF>20261231</LEDGERBAL>
<AVAILBAL><BALAMT>2474.97<DTASOF>20261231</AVAILBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""
CREDIT_CARD = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>77</TRNUID>
<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<CCSTMTRS><CURDEF>EUR</CURDEF><CCACCTFROM><ACCTID>4111********1111</ACCTID></CCACCTFROM>
<BANKTRANLIST><DTSTART>20261101</DTSTART><DTEND>20261130</DTEND>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20261105101500[+1:CET]</DTPOSTED>
<TRNAMT>-42.50</TRNAMT><FITID>CC-1</FITID><NAME>Bäckerei Müller</NAME><MEMO>Brot</MEMO></STMTTRN>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20261110</DTPOSTED><TRNAMT>-10.00</TRNAMT>
<NAME>NYC CAB</NAME><CURRENCY><CURRATE>0.92</CURRATE><CURSYM>USD</CURSYM></CURRENCY></STMTTRN>
<STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20261120</DTPOSTED><TRNAMT>100</TRNAMT>
<FITID>CC-3</FITID><NAME>PAYMENT</NAME><ORIGCURRENCY><CURRATE>1.1</CURRATE><CURSYM>GBP</CURSYM>
</ORIGCURRENCY></STMTTRN></BANKTRANLIST>
<LEDGERBAL><BALAMT>-150.00</BALAMT><DTASOF>20261130</DTASOF></LEDGERBAL></CCSTMTRS>
</CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
"""


def sgml(body: str = CHECKING, charset: str = "1252") -> bytes:
    return (HEADER.format(charset=charset) + body).encode("cp1252")


def test_ofx1_sgml_checking_account_reads_every_field():
    parsed = parse_ofx(sgml(), "bank/c.ofx")
    assert parsed.problems == ()
    assert (parsed.format, parsed.encoding) == ("ofx", "cp1252")
    assert parsed.transactions == [
        BankTransaction(account_no="4455667788", txn_id="F1", booking_date=date(2026, 12, 30),
                        value_date=date(2026, 12, 31), amount=Money.parse("1500.00", "USD"),
                        counterparty="Café Fleur & Co", remittance="INV 7"),
        # a repeated FITID gets .2; the date is the bank's local date, not converted to UTC
        BankTransaction(account_no="4455667788", txn_id="F1.2", booking_date=date(2026, 12, 31),
                        value_date=date(2026, 12, 31), amount=Money.parse("-25.03", "USD"),
                        counterparty="ACME", counterparty_account="998877", remittance=""),
    ]
    (statement,) = parsed.statements
    assert (statement.reference, statement.account_no, statement.opening, statement.closing) == (
        "1001", "4455667788", None, Money.parse("2474.97", "USD"))


def test_ofx2_xml_credit_card_reads_every_field():
    parsed = parse_ofx(CREDIT_CARD.encode(), "bank/card.qfx")
    assert parsed.problems == ()
    assert parsed.encoding == "utf-8"
    first, second, third = parsed.transactions
    assert first == BankTransaction(
        account_no="4111********1111", txn_id="CC-1", booking_date=date(2026, 11, 5),
        value_date=date(2026, 11, 5), amount=Money.parse("-42.50", "EUR"),
        counterparty="Bäckerei Müller", remittance="Brot")
    # no FITID: the hash id; CURRENCY says the amount is in USD
    assert second == BankTransaction(
        account_no="4111********1111", txn_id=second.txn_id, booking_date=date(2026, 11, 10),
        value_date=date(2026, 11, 10), amount=Money.parse("-10.00", "USD"), counterparty="NYC CAB")
    assert len(second.txn_id) == 18 and second.txn_id.endswith(".1")
    # ORIGCURRENCY only says where the amount came from: it is in CURDEF
    assert third == BankTransaction(
        account_no="4111********1111", txn_id="CC-3", booking_date=date(2026, 11, 20),
        value_date=date(2026, 11, 20), amount=Money.parse("100.00", "EUR"), counterparty="PAYMENT")
    assert parsed.statements[0].closing == Money.parse("-150.00", "EUR")


def test_undecodable_byte_under_the_declared_encoding_is_a_problem():
    ascii_only = parse_ofx(sgml(charset="NONE"), "c.ofx")  # é is not US-ASCII
    assert ascii_only.transactions == []
    assert "byte 0xe9" in ascii_only.problems[0].message and "ascii" in ascii_only.problems[0].message
    undefined_in_1252 = parse_ofx(sgml().replace(b"INV 7", b"INV \x81"), "c.ofx")
    assert "byte 0x81" in undefined_in_1252.problems[0].message
    xml = parse_ofx(CREDIT_CARD.encode().replace("ü".encode(), b"\xfc"), "c.qfx")
    assert "byte 0xfc" in str(xml.problems[0]) and "XML declaration" in str(xml.problems[0])


def test_utf8_header_and_latin1_charset_are_honoured():
    utf8 = (HEADER.replace("USASCII", "UTF-8").format(charset="NONE") + CHECKING).encode()
    assert parse_ofx(utf8, "c.ofx").transactions[0].counterparty == "Café Fleur & Co"
    latin1 = (HEADER.format(charset="ISO-8859-1") + CHECKING).encode("latin-1")
    assert parse_ofx(latin1, "c.ofx").encoding == "iso8859-1"


def test_bad_transactions_are_problems_and_the_others_are_read():
    body = (CHECKING.replace("<TRNAMT>1500.00", "<TRNAMT>1500.001")
            .replace("20261231230000.000[-5:EST]", "2026-12-31"))
    parsed = parse_ofx(sgml(body), "c.ofx")
    assert parsed.transactions == []
    assert [(p.field, "transaction" in p.message) for p in parsed.problems] == [
        ("TRNAMT", True), ("DTPOSTED", True)]
    assert "found '1500.001 USD', expected at most 2 decimals" in parsed.problems[0].message
    comma = parse_ofx(sgml(CHECKING.replace("<TRNAMT>-25.03", "<TRNAMT>-25,03")), "c.ofx")
    assert comma.transactions[1].amount == Money.parse("-25.03", "USD")  # a decimal comma
    bad_day = parse_ofx(sgml(CHECKING.replace("<DTPOSTED>20261230", "<DTPOSTED>20260230")), "c.ofx")
    assert [t.txn_id for t in bad_day.transactions] == ["F1"]
    assert "real calendar date" in bad_day.problems[0].message


def test_malformed_files_are_described_problems():
    cases = {
        b"": "no OFX markup",
        b"garbage": "no OFX markup",
        b"hello\n<OFX></OFX>": "not KEY:VALUE",
        b"OFXHEADER:100\nENCODING:EBCDIC\n\n<OFX></OFX>": "unknown header ENCODING",
        b"OFXHEADER:100\nCHARSET:KLINGON\n\n<OFX></OFX>": "unknown header CHARSET",
        b"OFXHEADER:100\nCHARSET:12\x0052\n\n<OFX></OFX>": "unknown header CHARSET",  # found by the fuzzer
        sgml("<OFX><CODE>0</CODE></BANKTRANLIST></OFX>"): "closes no open element",
        sgml(CHECKING.replace("</OFX>", "")): "is never closed",
        sgml("<OFX><BANKMSGSRSV1></OFX"): "unreadable markup",
        sgml("<FOO></FOO>"): "no <OFX> element",
        b"<?xml version='1.0'?><OFX><BANK": "not readable XML",
        b'<?xml version="1.0"?><!DOCTYPE OFX [<!ENTITY a "b">]><OFX>&a;</OFX>': "not readable XML",
        b"<?xml version='1.0'?><NOTOFX/>": "expected <OFX>",
        sgml("<OFX></OFX>"): "no STMTRS or CCSTMTRS",
        sgml("<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>9<STATUS><CODE>2000<SEVERITY>ERROR"
             "<MESSAGE>No such account</STATUS></STMTTRNRS></BANKMSGSRSV1></OFX>"): "No such account",
        sgml(CHECKING.replace("<ACCTID>4455667788", "")): "names no BANKACCTFROM/ACCTID",
        sgml(CHECKING.replace("<BALAMT>2474.97<DTASOF>20261231</LEDGERBAL>",
                              "<BALAMT>lots<DTASOF>20261231</LEDGERBAL>")): "BALAMT",
        sgml(CHECKING.replace("<TRNAMT>-25.03", "<TRNAMT>0.00")): "non-zero amount",
        CREDIT_CARD.replace("<CURSYM>USD</CURSYM>", "").encode(): "CURRENCY/CURSYM",
    }
    for data, expected in cases.items():
        problems = parse_ofx(data, "c.ofx").problems
        assert problems and expected in str(problems[0]), (data[-80:], problems)


def test_drop_folder_reads_bai2_and_ofx_files(tmp_path: Path):
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "f.bai2").write_bytes(bai2())
    (tmp_path / "bank" / "c.ofx").write_bytes(sgml())
    connector = DropFolderConnector.from_options({"path": "."}, base_path=tmp_path)
    items = list(connector.fetch())
    assert [i for i in items if isinstance(i, Skipped)] == []
    assert [i.source_id for i in items if isinstance(i, Record)] == [
        "bank:4455667788:F1", "bank:4455667788:F1.2",
        "bank:1111:WIRE001", "bank:1111:CHK0815", "bank:2222:C-77"]
    assert connector.report.files["bank/f.bai2"].records == 3
    assert connector.report.files["bank/c.ofx"].records == 2
    assert connector.report.unknown == []


@pytest.mark.parametrize("module", [connectors.bank.ofx, connectors.bank.ofx_sgml])
def test_worked_examples_in_docstrings(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
