"""``yecai reconcile`` as the spec describes it: files, determinism, bank-only and broken folders."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import EXAMPLE_CONFIG

SAMPLE = EXAMPLE_CONFIG.parent / "dropfolder"
runner = CliRunner()


def reconcile(folder: Path, out: Path, *extra: str):
    result = runner.invoke(app, ["reconcile", str(folder), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_outputs_follow_the_spec_and_a_rerun_writes_the_same_bytes(tmp_path: Path) -> None:
    first = reconcile(SAMPLE, tmp_path / "a")
    second = reconcile(SAMPLE, tmp_path / "b")
    for name in ("links.csv", "exceptions.csv", "vouchers.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    links = rows(tmp_path / "a" / "links.csv")
    assert list(links[0]) == ["from_type", "from_no", "to_type", "to_no", "decision", "score", "amount"]
    assert {(r["from_type"], r["to_type"]) for r in links} <= {
        ("sales_order", "delivery"), ("delivery", "sales_invoice"), ("sales_invoice", "bank_txn"),
        ("purchase_order", "goods_receipt"), ("goods_receipt", "purchase_invoice"),
        ("purchase_invoice", "bank_txn"), ("sales_order", "sales_invoice"), ("purchase_order", "purchase_invoice")}
    assert all(0 <= float(r["score"]) <= 1 and r["decision"] in ("auto", "suggested") for r in links)
    assert all(r["amount"] for r in links if r["to_type"] == "bank_txn")
    exceptions = rows(tmp_path / "a" / "exceptions.csv")
    assert list(exceptions[0]) == ["exception_id", "code", "severity", "doc_type", "doc_no", "amount", "message"]
    assert first["links"]["auto"] == sum(r["decision"] == "auto" for r in links)
    assert first["documents"]["sales_order"] == 70 and 0 < first["auto_match_rate"] <= 1
    vouchers = rows(tmp_path / "a" / "vouchers.csv")
    assert list(vouchers[0]) == ["voucher_no", "voucher_date", "voucher_word", "line_no", "account_code",
                                 "account_name", "debit", "credit", "currency", "summary", "doc_type", "doc_no",
                                 "customer", "supplier", "project", "department"]
    totals: dict[str, list[Decimal]] = {}
    for line in vouchers:
        total = totals.setdefault(line["voucher_no"], [Decimal(0), Decimal(0)])
        total[0] += Decimal(line["debit"] or 0)
        total[1] += Decimal(line["credit"] or 0)
    assert len(totals) == first["vouchers"] and all(debit == credit for debit, credit in totals.values())
    # every bank transaction is posted once: settled ones against receivables/payables, the rest to suspense
    assert sum(1 for line in vouchers if line["doc_type"] == "bank_txn" and line["line_no"] == "1") == \
        first["documents"]["bank_txn"]


def test_a_folder_of_only_bank_files_lists_every_transaction_unmatched(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLE / "bank", folder / "bank")
    summary = reconcile(folder, tmp_path / "out")
    transactions = summary["documents"]["bank_txn"]
    assert summary["exceptions"]["UNMATCHED_BANK_TXN"] == transactions > 0
    unmatched = [r for r in rows(tmp_path / "out" / "exceptions.csv") if r["code"] == "UNMATCHED_BANK_TXN"]
    assert all(r["amount"] for r in unmatched)
    assert summary["files"]["bank/icbc_cny_2026-10.csv"]["records"] > 0
    assert summary["links"] == {"auto": 0, "suggested": 0} and summary["auto_match_rate"] == 0


def test_an_unreadable_file_is_reported_and_the_rest_is_reconciled(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLE, folder)
    (folder / "deliveries.csv").write_bytes(b"delivery_no,delivery_date\n\xff\xfe\x81broken\n")
    summary = reconcile(folder, tmp_path / "out", "--as-of", "2026-11-30")
    assert summary["files"]["deliveries.csv"]["status"] == "error"
    assert "GB18030" in summary["files"]["deliveries.csv"]["error"]
    assert summary["as_of"] == "2026-11-30" and summary["links"]["auto"] > 0
    unparseable = [r for r in rows(tmp_path / "out" / "exceptions.csv") if r["code"] == "UNPARSEABLE_DOCUMENT"]
    assert [(r["doc_type"], r["doc_no"]) for r in unparseable] == [("file", "deliveries.csv")]


def test_bad_arguments_are_clear_messages(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reconcile", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a folder" in result.output
    result = runner.invoke(app, ["reconcile", str(SAMPLE), "--out", str(tmp_path / "o"), "--as-of", "30/11/2026"])
    assert result.exit_code == 2 and "expected a date YYYY-MM-DD" in result.output


def test_with_a_database_links_keep_their_evidence_and_reruns_do_not_duplicate(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from ledger.storage.engine import make_engine
    from ledger.storage.tables import ExceptionItemRow, MatchLinkRow
    from matching.model import evidence_comparisons

    db = f"sqlite:///{tmp_path / 'keep.db'}"
    reconcile(SAMPLE, tmp_path / "a", "--db", db)
    reconcile(SAMPLE, tmp_path / "b", "--db", db)
    engine = make_engine(db)
    with engine.connect() as connection:
        links = connection.execute(select(MatchLinkRow.__table__)).all()
        items = connection.execute(select(func.count()).select_from(ExceptionItemRow.__table__)).scalar_one()
    engine.dispose()
    assert len(links) == len(rows(tmp_path / "a" / "links.csv"))
    evidence = evidence_comparisons(links[0].evidence)
    assert evidence and set(evidence[0]) == {"name", "level", "score", "detail"}
    assert links[0].rule and links[0].rule_version
    assert items == len({r["exception_id"] for r in rows(tmp_path / "a" / "exceptions.csv")})
