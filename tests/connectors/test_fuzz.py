"""Fuzzing every parser: damaged, truncated and random input may only come back as described
problems (values), never as an exception escaping the parser."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.bank.bai2 import parse_bai2
from connectors.bank.camt import parse_camt
from connectors.bank.mt940 import parse_mt940
from connectors.bank.ofx import parse_ofx
from connectors.dropfolder.csvfile import FileError, decode
from connectors.einvoice.fields import extract
from connectors.einvoice.templates import load_templates
from connectors.tabular.cells import parse_amount, parse_date
from ledger.errors import FieldError

SAMPLES = Path(__file__).parent / "samples"
MT940 = (SAMPLES / "bank_statement" / "statement.sta").read_bytes()
CAMT = b"""<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<Stmt><Id>S1</Id><Acct><Id><IBAN>DE02100100109307118603</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2026-11-01</Dt></Dt></Bal>
<Ntry><NtryRef>N1</NtryRef><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2026-11-02</Dt></BookgDt>
<ValDt><Dt>2026-11-02</Dt></ValDt><NtryDtls><TxDtls><RltdPties><Cdtr><Nm>ACME</Nm></Cdtr></RltdPties>
<RmtInf><Ustrd>INV 44001234</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>"""
BAI2 = b"""01,BANK,CUST,261102,0800,1,,,2/
02,CUST,BANK,1,261101,,USD,2/
03,12345678,USD,010,100000,,,015,98750,,/
16,475,1250,0,REF1,CUST1,CHECK 1001/
88,PAID TO ACME/
49,200000,4/
98,200000,1,6/
99,200000,1,8/
"""
OFX = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
ENCODING:USASCII
CHARSET:1252

<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>999<ACCTTYPE>CHECKING
</BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261102<TRNAMT>-12.50<FITID>F1<NAME>ACME
</STMTTRN></BANKTRANLIST><LEDGERBAL><BALAMT>87.50<DTASOF>20261102</LEDGERBAL></STMTRS></STMTTRNRS>
</BANKMSGSRSV1></OFX>
"""
TEMPLATES = load_templates()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def damaged(sample: bytes) -> st.SearchStrategy[bytes]:
    """The sample cut short, with bytes flipped, or with random bytes spliced in."""
    return st.one_of(
        st.integers(0, len(sample)).map(lambda n: sample[:n]),
        st.tuples(st.integers(0, len(sample) - 1), st.binary(min_size=1, max_size=8)).map(
            lambda t: sample[:t[0]] + t[1] + sample[t[0] + len(t[1]):]),
        st.binary(max_size=300),
    )


def test_the_samples_are_valid_statements_to_start_from() -> None:
    for parse, data in ((parse_mt940, MT940), (parse_camt, CAMT), (parse_bai2, BAI2), (parse_ofx, OFX)):
        parsed = parse(data, "sample")
        assert parsed.transactions and not parsed.problems, (parse.__name__, parsed.problems)


@FUZZ
@given(damaged(MT940))
def test_mt940(data: bytes) -> None:
    parse_mt940(data, "fuzz.sta")


@FUZZ
@given(damaged(CAMT))
def test_camt(data: bytes) -> None:
    parse_camt(data, "fuzz.xml")


@FUZZ
@given(damaged(BAI2))
def test_bai2(data: bytes) -> None:
    parse_bai2(data, "fuzz.bai")


@FUZZ
@given(damaged(OFX))
def test_ofx(data: bytes) -> None:
    parse_ofx(data, "fuzz.ofx")


@FUZZ
@given(st.text(max_size=400) | st.just("电子发票（普通发票） 发票号码：26442000000123456789 开票日期：2026年11月01日"))
def test_invoice_text(text: str) -> None:
    extract(text, TEMPLATES, "fuzz.pdf")


@FUZZ
@given(st.binary(max_size=200))
def test_csv_decoding_refuses_with_a_file_error_only(data: bytes) -> None:
    try:
        decode(data, "fuzz.csv")
    except FileError:
        pass


@FUZZ
@given(st.text(max_size=40))
def test_tabular_cells_refuse_with_a_field_error_only(text: str) -> None:
    for parse in (lambda: parse_amount("amount", text, "CNY"), lambda: parse_date("date", text)):
        try:
            parse()
        except FieldError:
            pass
