"""camt entries, amounts, ids and problems; the bank connector and the drop folder's bank/ files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connectors.bank.camt import parse_camt
from connectors.contract import Record, Skipped
from connectors.dropfolder.connector import DropFolderConnector
from connectors.registry import resolve

ENTRY = """<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>
<BookgDt><Dt>2026-12-31</Dt></BookgDt>{ref}<NtryDtls><TxDtls><RltdPties>
<Dbtr><Nm>PAYER</Nm></Dbtr><DbtrAcct><Id><IBAN>DE02</IBAN></Id></DbtrAcct>
<Cdtr><Pty><Nm>PAYEE</Nm></Pty></Cdtr><CdtrAcct><Id><Othr><Id>77</Id></Othr></Id></CdtrAcct>
</RltdPties><RmtInf><Ustrd>INV 1</Ustrd><Ustrd>INV 2</Ustrd><Strd><CdtrRefInf><Ref>RF18</Ref>
</CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def camt(*entries: str, version: str = "053.001.02", closing: str = "108.85") -> bytes:
    return f"""<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{version}">
<BkToCstmrStmt><Stmt><Id>S-7</Id><Acct><Id><IBAN>NL01BANK</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>
{"".join(entries)}</Stmt></BkToCstmrStmt></Document>""".encode()


def entry(amount: str = "8.85", side: str = "CRDT", ref: str = "<AcctSvcrRef>A1</AcctSvcrRef>") -> str:
    return ENTRY.format(amount=amount, side=side, ref=ref)


def test_credit_takes_debtor_as_counterparty_and_joins_remittance():
    (txn,) = parse_camt(camt(entry()), "s.xml").transactions
    assert (txn.txn_id, txn.amount.amount, txn.counterparty, txn.counterparty_account) == (
        "A1", Decimal("8.85"), "PAYER", "DE02")
    assert txn.remittance == "INV 1 INV 2 RF18"


def test_debit_is_negative_and_takes_creditor_in_any_version():
    (txn,) = parse_camt(camt(entry(side="DBIT"), version="054.001.08", closing="91.15"),
                        "s.xml").transactions
    assert (txn.amount.amount, txn.counterparty, txn.counterparty_account) == (
        Decimal("-8.85"), "PAYEE", "77")


def test_ids_fall_back_from_servicer_reference_to_entry_reference_to_hash():
    by_entry_ref = entry(ref="<NtryRef>N9</NtryRef>")
    no_ref = entry(ref="")
    parsed = parse_camt(camt(by_entry_ref, no_ref, no_ref, closing="126.55"), "s.xml")
    ids = [t.txn_id for t in parsed.transactions]
    assert ids[0] == "N9" and ids[1].endswith(".1") and ids[2] == ids[1][:-1] + "2"
    assert [t.txn_id for t in parse_camt(camt(by_entry_ref, no_ref, no_ref, closing="126.55"),
                                         "s.xml").transactions] == ids


def test_extra_decimals_are_a_problem_never_rounded_but_trailing_zeros_are_exact():
    assert parse_camt(camt(entry("8.85000")), "s.xml").problems == ()
    parsed = parse_camt(camt(entry("8.85001")), "s.xml")
    assert parsed.transactions == [] and "not rounded" in parsed.problems[0].message


def test_balance_break_names_the_statement():
    (problem,) = parse_camt(camt(entry(), closing="100.00"), "s.xml").problems
    assert "'S-7'" in problem.message and problem.field == "closing_balance"


def test_entity_expansion_and_broken_xml_are_problems():
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>'
    assert "not readable XML" in parse_camt(bomb, "s.xml").problems[0].message
    assert parse_camt(b"<Document><BkToCstmrStmt>", "s.xml").problems


def test_connector_is_registered_and_yields_records_and_skips(tmp_path: Path):
    (tmp_path / "a.xml").write_bytes(camt(entry()))
    (tmp_path / "b.sta").write_bytes(b":20:X\n:25:DE1\n:60F:C260101EUR1,00\n:61:260230C1,00NTRFR1\n"
                                     b":62F:C260101EUR2,00\n-")
    connector = resolve("bank_statement").from_options({"path": "."}, base_path=tmp_path)
    items = list(connector.fetch())
    records = [i for i in items if isinstance(i, Record)]
    assert [r.source_id for r in records] == ["bank:NL01BANK:A1"]
    assert [i.problem.file for i in items if isinstance(i, Skipped)] == ["b.sta"]


def test_drop_folder_routes_bank_statements_and_reports_broken_files(tmp_path: Path):
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "good.xml").write_bytes(camt(entry()))
    (tmp_path / "bank" / "broken.xml").write_bytes(b"<Document>")
    connector = DropFolderConnector.from_options({"path": "."}, base_path=tmp_path)
    items = list(connector.fetch())
    assert [i.source_id for i in items if isinstance(i, Record)] == ["bank:NL01BANK:A1"]
    (skipped,) = [i for i in items if isinstance(i, Skipped)]
    assert skipped.problem.file == "bank/broken.xml"
    assert connector.report.files["bank/broken.xml"].error
    assert connector.report.files["bank/good.xml"].records == 1
