"""What every statement format promises: stable ids, balance continuity, explicit encodings,
and XML read with no DTD, no entity expansion and no network."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from connectors.bank.bai2 import parse_bai2
from connectors.bank.camt import parse_camt
from connectors.bank.connector import records
from connectors.bank.mt940 import parse_mt940
from connectors.bank.ofx import parse_ofx
from connectors.bank.statement import ParsedFile
from connectors.contract import Record, Skipped
from tests.connectors.bank.test_bai2 import bai2
from tests.connectors.bank.test_camt_and_connector import camt, entry
from tests.connectors.bank.test_mt940 import STATEMENT
from tests.connectors.bank.test_ofx import CREDIT_CARD

# (parser, a valid file, a transaction line of that format to insert at the start)
FORMATS: dict[str, tuple[Callable[[bytes, str], ParsedFile], bytes, bytes, bytes]] = {
    "mt940": (parse_mt940, STATEMENT.encode(), b":60F:C261230EUR100,00\n",
              b":60F:C261230EUR100,00\n:61:2612300101D1,00NTRFNONREF\n:86:extra\n"),
    "camt": (parse_camt, camt(entry(ref=""), entry(ref="<NtryRef>N1</NtryRef>"), closing="117.70"),
             b"<Ntry>", b'<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>'
                        b"2026-12-31</Dt></BookgDt></Ntry><Ntry>"),
    "bai2": (parse_bai2, bai2(), b"16,195,150000", b"16,475,1,0,,,EXTRA/\n16,195,150000"),
    "ofx": (parse_ofx, CREDIT_CARD.encode(), b"<STMTTRN>",
            b"<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20261101</DTPOSTED><TRNAMT>-1.00</TRNAMT>"
            b"<NAME>EXTRA</NAME></STMTTRN><STMTTRN>"),
}


@pytest.mark.parametrize("name", FORMATS)
def test_ids_are_stable_across_reads_and_unchanged_by_an_added_line(name: str) -> None:
    parse, data, anchor, inserted = FORMATS[name]
    first = [t.txn_id for t in parse(data, "f").transactions]
    assert first == [t.txn_id for t in parse(data, "f").transactions]
    assert len(set(first)) == len(first)
    grown = parse(data.replace(anchor, inserted, 1), "f").transactions
    assert len(grown) == len(first) + 1
    assert [t.txn_id for t in grown if t.txn_id in first] == first  # old ids all still there


def test_camt_consecutive_statements_must_chain_and_a_break_is_a_problem_not_a_crash() -> None:
    one = camt(entry())  # 100.00 + 8.85 = 108.85
    statements = one.replace(b"</Stmt>", b"</Stmt>" + one.split(b"<BkToCstmrStmt>")[1].split(
        b"</BkToCstmrStmt>")[0].replace(b"S-7", b"S-8").replace(b"A1", b"A2"), 1)
    (problem,) = parse_camt(statements, "s.xml").problems  # S-8 opens at 100.00, not 108.85
    assert problem.field == "opening_balance" and "'S-8'" in problem.message
    assert "'S-7' closed at 108.85 EUR" in problem.message
    items = list(records(parse_camt(statements, "s.xml"), "c"))
    assert [type(i) for i in items] == [Skipped, Record, Record]  # the lines are still read


def test_camt_encoding_is_the_declared_one_and_a_wrong_byte_is_a_problem() -> None:
    latin = camt(entry()).replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    latin = latin.replace(b"PAYER", "Müller".encode("latin-1"))
    assert parse_camt(latin, "s.xml").transactions[0].counterparty == "Müller"
    broken = camt(entry()).replace(b"PAYER", "Müller".encode("latin-1"))  # not UTF-8
    assert "not readable XML" in parse_camt(broken, "s.xml").problems[0].message
    unknown = camt(entry()).replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="klingon"?>')
    assert "not readable XML" in parse_camt(unknown, "s.xml").problems[0].message


LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>
<{root}>&i;</{root}>"""


def _hostile(root: bytes, port: int) -> dict[str, bytes]:
    return {
        "billion laughs": LAUGHS.replace(b"{root}", root),
        "external entity": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                           b"<" + root + b">&x;</" + root + b">",
        "external DTD": f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/d.dtd">'.encode()
                        + b"<" + root + b"/>",
        "parameter entity": f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p">'
                            f"%p;]>".encode() + b"<" + root + b"/>",
        "undeclared entity": b'<?xml version="1.0"?><' + root + b">&nope;</" + root + b">",
    }


@pytest.fixture
def listener():
    """A loopback socket that would see any attempt to fetch a DTD or entity."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    yield server
    server.close()


def _connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except TimeoutError:
        return False
    return True


@pytest.mark.parametrize("parse, root", [(parse_camt, b"Document"), (parse_ofx, b"OFX")])
def test_hostile_xml_is_refused_without_expansion_or_network(parse, root, listener) -> None:
    for case, data in _hostile(root, listener.getsockname()[1]).items():
        parsed = parse(data, "h.xml")
        assert parsed.transactions == [] and len(parsed.problems) == 1, case
        message = parsed.problems[0].message
        assert "not readable XML" in message, (case, message)
        if case != "undeclared entity":
            assert "Forbidden" in message, (case, message)
    assert not _connected(listener)
