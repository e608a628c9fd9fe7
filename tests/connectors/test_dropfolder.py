"""The drop-folder connector on the bundled sample and on broken inputs: every bad record is
reported with file, row and field, and never stops the others."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from connectors.contract import Record, Skipped
from connectors.dropfolder.connector import DropFolderConnector
from connectors.errors import FatalError
from ledger.documents import DocumentKind, SalesOrder
from tests.conftest import EXAMPLE_CONFIG

SAMPLE = EXAMPLE_CONFIG.parent / "dropfolder"
ORDER_HEADER = ("order_no,order_date,customer,customer_tax_id,currency,line_no,sku,quantity,unit_price,"
                "tax_rate,project,department")
BANK_HEADER = "account_no,txn_id,booking_date,value_date,amount,currency,counterparty,counterparty_account,remittance"


def fetch(folder: Path) -> tuple[list[Record], list[Skipped], DropFolderConnector]:
    connector = DropFolderConnector.from_options({"path": str(folder)})
    items = list(connector.fetch())
    return ([i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Skipped)],
            connector)


def distinct_numbers(path: Path, column: int = 0) -> int:
    with path.open(encoding="utf-8") as handle:
        return len({row[column] for row in list(csv.reader(handle))[1:]})


def test_sample_folder_reads_every_document_once() -> None:
    records, skipped, connector = fetch(SAMPLE)
    assert skipped == []
    kinds = Counter(r.document.kind.value if hasattr(r.document, "kind") else "counterparty"
                    for r in records)
    for name, kind in [("sales_orders", "sales_order"), ("deliveries", "delivery"),
                       ("sales_invoices", "sales_invoice"), ("purchase_orders", "purchase_order"),
                       ("goods_receipts", "goods_receipt"), ("purchase_invoices", "purchase_invoice")]:
        assert kinds[kind] == distinct_numbers(SAMPLE / f"{name}.csv"), name
    assert kinds["counterparty"] == distinct_numbers(SAMPLE / "counterparties.csv")
    # overlapping bank exports repeat transactions across files (storage keeps one); within a file ids are unique
    per_file = Counter((r.file, r.source_id) for r in records)
    assert max(per_file.values()) == 1
    october, november = (SAMPLE / "bank" / "icbc_cny_2026-10.csv", SAMPLE / "bank" / "icbc_cny_2026-11.csv")
    overlap = {r[1] for r in csv.reader(october.open())} & {r[1] for r in csv.reader(november.open())} - {"txn_id"}
    assert overlap and len({r.source_id for r in records}) == len(records) - len(overlap)
    assert connector.report.files["sales_orders.csv"].records == kinds["sales_order"]
    assert connector.report.unknown == []
    # multi-line orders are grouped into one document with all their lines
    orders = [r.document for r in records if isinstance(r.document, SalesOrder)]
    assert max(len(o.lines) for o in orders) > 1


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


def order_row(no="SO1", date="2026-11-01", customer="海尔智家", qty="2", price="10.00", line="1",
              tax_id="") -> str:
    return f"{no},{date},{customer},{tax_id},CNY,{line},A,{qty},{price},0.13,,销售一部\n"


def test_each_bad_row_is_reported_with_file_row_and_field(tmp_path: Path) -> None:
    write(tmp_path, "sales_orders.csv", ORDER_HEADER + "\n"
          + order_row("SO1")                                  # row 2 good
          + order_row("SO2", date="2026-02-30")               # row 3 impossible date
          + order_row("SO3", qty="\"1,000\"")                 # row 4 thousands separator
          + order_row("SO4", line="1") + order_row("SO4", line="2", customer="别人")  # rows 5-6 disagree
          + order_row("SO5", tax_id="914403001922038217")     # row 7 bad check digit
          + "SO6,2026-11-01,x\n"                              # row 8 too few cells
          + order_row("SO7", price="-1"))                     # row 9 negative price
    records, skipped, _ = fetch(tmp_path)
    assert [r.document.number for r in records] == ["SO1"]
    problems = {(p.problem.row, p.problem.field) for p in skipped}
    assert problems == {(3, "order_date"), (4, "quantity"), (6, "customer"),
                        (7, "customer_tax_id"), (8, None), (9, "unit_price")}
    messages = {p.problem.row: str(p.problem) for p in skipped}
    assert messages[3].startswith("sales_orders.csv, row 3, field 'order_date': found '2026-02-30'")
    assert "as on row 5 of the same document" in messages[6]


def test_encodings_bom_utf8_and_gb18030(tmp_path: Path) -> None:
    write(tmp_path, "sales_orders.csv", ORDER_HEADER + "\n" + order_row(customer="青岛海尔智家股份有限公司"),
          encoding="gb18030")
    records, skipped, _ = fetch(tmp_path)
    assert skipped == [] and records[0].document.counterparty == "青岛海尔智家股份有限公司"
    write(tmp_path, "sales_orders.csv", "\ufeff" + ORDER_HEADER + "\n" + order_row(customer="海尔"))
    records, skipped, _ = fetch(tmp_path)
    assert skipped == [] and records[0].document.counterparty == "海尔"


def test_undecodable_or_headerless_files_are_refused_whole_and_the_rest_goes_on(tmp_path: Path) -> None:
    (tmp_path / "deliveries.csv").write_bytes(b"delivery_no\n\x81\x20\xff\xfe\n")
    write(tmp_path, "purchase_orders.csv", "po_no,po_date\nPO1,2026-11-01\n")
    write(tmp_path, "sales_orders.csv", ORDER_HEADER + "\n" + order_row())
    write(tmp_path, "notes.txt", "hello")
    records, skipped, connector = fetch(tmp_path)
    assert [r.document.number for r in records] == ["SO1"]
    errors = {p.problem.file: p.problem.message for p in skipped}
    assert "neither UTF-8 nor GB18030" in errors["deliveries.csv"]
    assert "missing column(s) supplier" in errors["purchase_orders.csv"]
    assert connector.report.files["deliveries.csv"].status == "error"
    assert connector.report.unknown == ["notes.txt"]


def test_bank_duplicates_across_exports_are_one_transaction(tmp_path: Path) -> None:
    row = "3105,T1,2026-11-02,2026-11-02,100.00,CNY,海尔,6222,货款 44001234\n"
    changed = "3105,T1,2026-11-02,2026-11-02,100.01,CNY,海尔,6222,货款 44001234\n"
    write(tmp_path, "bank/a.csv", BANK_HEADER + "\n" + row + row)
    write(tmp_path, "bank/b.csv", BANK_HEADER + "\n" + row + changed
          + "3105,T2,2026-11-02,2026-11-02,1.005,CNY,x,,\n"
          + "3105,T3,2026-11-02,2026-11-02,5.00,RMB,x,,\n")
    records, skipped, _ = fetch(tmp_path)
    assert [r.source_id for r in records] == ["bank:3105:T1", "bank:3105:T1"]  # one per file; storage dedups
    assert {(p.problem.file, p.problem.row, p.problem.field) for p in skipped} == {
        ("bank/b.csv", 3, "txn_id"), ("bank/b.csv", 4, "amount"), ("bank/b.csv", 5, "currency")}


def test_missing_folder_is_fatal() -> None:
    with pytest.raises(FatalError, match="does not exist"):
        list(DropFolderConnector.from_options({"path": "/nonexistent/yecai"}).fetch())


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        DropFolderConnector.from_options({"path": ".", "pth": "x"})


def test_kinds_cover_the_spec() -> None:
    assert DropFolderConnector.kinds == frozenset(DocumentKind)


def test_cursor_skips_an_unchanged_folder_and_rereads_a_changed_one(tmp_path: Path) -> None:
    write(tmp_path, "sales_orders.csv", ORDER_HEADER + "\n" + order_row())
    connector = DropFolderConnector.from_options({"path": str(tmp_path)})
    first = list(connector.fetch())
    cursor = first[-1].cursor
    assert cursor and list(connector.fetch(since=cursor)) == []
    write(tmp_path, "sales_orders.csv", ORDER_HEADER + "\n" + order_row() + order_row("SO2"))
    again = list(connector.fetch(since=cursor))
    assert [r.document.number for r in again] == ["SO1", "SO2"] and again[0].cursor != cursor


def test_e_invoices_in_the_drop_folder_need_the_company_tax_id(tmp_path: Path) -> None:
    from tests.connectors.einvoice.pdfs import SELLER_ID, shudian
    from tests.connectors.einvoice.test_pdf_invoices import SHUDIAN

    (tmp_path / "invoices_pdf").mkdir()
    shudian(tmp_path / "invoices_pdf" / "a.pdf", SHUDIAN)
    records, skipped, connector = fetch(tmp_path)
    assert records == [] and "company_tax_id" in skipped[0].problem.message
    assert connector.report.files["invoices_pdf/a.pdf"].status == "error"
    connector = DropFolderConnector.from_options({"path": str(tmp_path), "company_tax_id": SELLER_ID})
    items = list(connector.fetch())
    assert [(i.source_id, i.file) for i in items] == [("sales_invoice:26442000000123456789", "invoices_pdf/a.pdf")]
    assert connector.report.files["invoices_pdf/a.pdf"].records == 1
