"""The tabular connector end to end on small inline exports: title lines above the header,
footers below, GB18030 and xlsx files, and bad rows that never stop the good ones."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from connectors.contract import Record, Skipped
from connectors.errors import FatalError
from connectors.registry import resolve
from connectors.tabular.connector import TabularConnector

SPLIT_PROFILE = """
name = "split"
header = ["交易日期", "摘要", "收入", "支出", "币种", "对方户名"]
date = "交易日期"
currency_column = "币种"
counterparty = ["对方户名"]
remittance = ["摘要"]
account_no_pattern = '卡号[:：]\\s*(\\S+)'
footer = ["^合计"]
ignore = ["^以下为冲正"]
[amount]
debit = "支出"
credit = "收入"
"""

SPLIT_EXPORT = """明细查询文件下载

卡号: 6222000011112222
交易日期,摘要,收入,支出,币种,对方户名,
2026-11-01\t,工资\t,"12,000.00",,人民币,ABC公司,
2026年11月2日,消费,,(35.50),人民币,="麦当劳",
2026/11/03,消费,,９９．００,人民币,/,
2026.11.04,错误,abc,,人民币,张三,
以下为冲正记录,,,,,,
2026-11-05,消费,,1.234,人民币,李四,

合计,,"12,000.00",35.50,,,
第1页 共1页,,,,,,
"""


def run(tmp_path: Path, profile: str, export: bytes, filename: str = "export.csv",
        **options: str) -> tuple[TabularConnector, list[Record], list[Skipped]]:
    (tmp_path / "p.toml").write_text(profile, encoding="utf-8")
    (tmp_path / filename).write_bytes(export)
    connector = TabularConnector.from_options(
        {"path": filename, "profile": "p.toml", **options}, base_path=tmp_path)
    items = list(connector.fetch())
    assert isinstance(connector, TabularConnector)
    return (connector, [i for i in items if isinstance(i, Record)],
            [i for i in items if isinstance(i, Skipped)])


def test_gb18030_export_with_title_lines_footer_and_bad_rows(tmp_path: Path) -> None:
    connector, records, skipped = run(tmp_path, SPLIT_PROFILE, SPLIT_EXPORT.encode("gb18030"))
    amounts = [r.document.amount.amount for r in records]
    # "(35.50)" in the 支出 column is a negative debit (a reversal): money comes back in
    assert amounts == [Decimal("12000.00"), Decimal("35.50"), Decimal("-99.00")]
    first, second, _third = (r.document for r in records)
    assert first.account_no == "6222000011112222" and first.counterparty == "ABC公司"
    assert second.counterparty == "麦当劳" and second.remittance == "消费"
    assert [(s.problem.row, s.problem.field) for s in skipped] == [(8, "收入"), (10, "支出")]
    assert all(s.problem.file == "export.csv" for s in skipped)
    assert "at most 2 decimals" in str(skipped[1].problem)
    counts = connector.counts["export.csv"]
    assert (counts.transactions, counts.problems, counts.ignored, counts.blank, counts.footer) == \
        (3, 2, 1, 1, 2)
    assert records[0].source_id == f"bank:6222000011112222:{first.txn_id}"


def test_undeclared_trailing_line_is_a_problem_not_dropped(tmp_path: Path) -> None:
    profile = SPLIT_PROFILE.replace('footer = ["^合计"]', "footer = []")
    _connector, records, skipped = run(tmp_path, profile, SPLIT_EXPORT.encode("utf-8"))
    assert len(records) == 3
    # 合计 and 第1页 are not transactions and no rule declares them: each is a problem
    assert [s.problem.row for s in skipped] == [8, 10, 12, 13]
    assert all(s.problem.field for s in skipped)


def test_derived_ids_are_stable_and_count_identical_rows(tmp_path: Path) -> None:
    export = ("卡号: 1\n交易日期,摘要,收入,支出,币种,对方户名\n"
              "2026-11-01,消费,,5.00,人民币,甲\n2026-11-01,消费,,5.00,人民币,甲\n").encode()
    _c, first_run, _ = run(tmp_path, SPLIT_PROFILE, export)
    _c, second_run, _ = run(tmp_path, SPLIT_PROFILE, export)
    ids = [r.document.txn_id for r in first_run]
    assert ids == [r.document.txn_id for r in second_run]
    assert ids[0].endswith("-0") and ids[1].endswith("-1") and ids[0][:-2] == ids[1][:-2]


DIRECTION_PROFILE = """
name = "direction"
header = ["交易时间", "收/支", "金额", "交易单号"]
date = "交易时间"
currency = "CNY"
txn_id = "交易单号"
account_no = "wallet"
[amount]
column = "金额"
direction = "收/支"
[amount.directions]  # '/' is a placeholder, read as empty
"收入" = "in"
"支出" = "out"
"收" = "in"
"支" = "out"
"借" = "out"
"贷" = "in"
"" = "ignore"
"""


def test_amount_with_direction_column(tmp_path: Path) -> None:
    export = ("交易时间,收/支,金额,交易单号\n"
              "2026-11-01 09:00:00,支出,¥28.16,T1\t\n"
              "2026-11-01 10:00:00,收入,￥0.35,T2\n"
              "2026-11-01 11:00:00,收,1.00,T3\n"
              "2026-11-01 12:00:00,借,2.00,T4\n"
              "2026-11-01 13:00:00,/,100.00,T5\n"
              "2026-11-01 14:00:00,转,3.00,T6\n"
              "2026-11-01 15:00:00,支出,4.00,T1\n").encode()
    connector, records, skipped = run(tmp_path, DIRECTION_PROFILE, export)
    assert [(r.document.txn_id, r.document.amount.amount) for r in records] == [
        ("T1", Decimal("-28.16")), ("T2", Decimal("0.35")), ("T3", Decimal("1.00")),
        ("T4", Decimal("-2.00"))]
    assert [(s.problem.row, s.problem.field) for s in skipped] == [(7, "收/支"), (8, "交易单号")]
    assert "appears more than once" in str(skipped[1].problem)
    assert connector.counts["export.csv"].ignored_rows == [6]


def test_xlsx_with_numbers_dates_and_text_cells(tmp_path: Path) -> None:
    import datetime as dt

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["交易明细"])
    sheet.append([])
    sheet.append(["交易时间", "收/支", "金额", "交易单号"])
    sheet.append([dt.datetime(2026, 11, 1, 9, 30), "支出", 1234.56, "A1"])
    sheet.append(["2026/11/02", "收入", 7, "A2"])
    sheet.append([dt.date(2026, 11, 3), "收入", "12.30\t", "A3"])
    sheet.append(["合计", None, 1253.86, None])
    workbook.save(tmp_path / "x.xlsx")
    profile = DIRECTION_PROFILE.replace(
        'account_no = "wallet"', 'account_no = "wallet"\nfooter = ["^合计"]')
    _c, records, skipped = run(tmp_path, profile, (tmp_path / "x.xlsx").read_bytes(), "x.xlsx")
    assert skipped == []
    assert [(r.document.booking_date.isoformat(), r.document.amount.amount) for r in records] == [
        ("2026-11-01", Decimal("-1234.56")), ("2026-11-02", Decimal("7")),
        ("2026-11-03", Decimal("12.30"))]


def test_file_without_the_header_is_one_problem(tmp_path: Path) -> None:
    _c, records, skipped = run(tmp_path, SPLIT_PROFILE, "日期,金额\n2026-11-01,1\n".encode())
    assert records == [] and len(skipped) == 1
    assert skipped[0].problem.row is None and "no header row with the column(s)" in str(skipped[0].problem)


def test_broken_xlsx_is_one_problem(tmp_path: Path) -> None:
    _c, records, skipped = run(tmp_path, DIRECTION_PROFILE, b"not a zip", "bad.xlsx")
    assert records == [] and "not a readable xlsx workbook" in str(skipped[0].problem)
    _c, records, skipped = run(tmp_path, DIRECTION_PROFILE, b"not an xls either", "bad.xls")
    assert records == [] and "not a readable xls workbook" in str(skipped[0].problem)


def test_undecodable_csv_is_one_problem_naming_the_offset(tmp_path: Path) -> None:
    _c, records, skipped = run(tmp_path, DIRECTION_PROFILE, b"\xff\xfe\x00\x81\x00", "bad.csv")
    assert records == [] and "undecodable byte at offset" in str(skipped[0].problem)


def test_missing_account_number_is_reported(tmp_path: Path) -> None:
    export = "交易日期,摘要,收入,支出,币种,对方户名\n2026-11-01,工资,1.00,,人民币,甲\n".encode()
    _c, records, skipped = run(tmp_path, SPLIT_PROFILE, export)
    assert records == [] and skipped[0].problem.field == "account_no"
    _c, records, skipped = run(tmp_path, SPLIT_PROFILE, export, account_no="9999")
    assert [r.document.account_no for r in records] == ["9999"] and skipped == []


def test_folder_reads_files_matching_the_profile_patterns(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    export = "卡号: 1\n交易日期,摘要,收入,支出,币种,对方户名\n2026-11-01,工资,1.00,,人民币,甲\n"
    (tmp_path / "in" / "a.csv").write_text(export, encoding="utf-8")
    (tmp_path / "in" / "notes.txt").write_text("not an export", encoding="utf-8")
    (tmp_path / "p.toml").write_text(SPLIT_PROFILE, encoding="utf-8")
    connector = TabularConnector.from_options({"path": "in", "profile": "p.toml"}, base_path=tmp_path)
    assert [r.file for r in connector.fetch() if isinstance(r, Record)] == ["a.csv"]


def test_configuration_errors_are_fatal_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="known profiles"):
        TabularConnector.from_options({"path": ".", "profile": "nosuchbank"})
    connector = TabularConnector.from_options({"path": "absent", "profile": "icbc_debit"},
                                              base_path=tmp_path)
    with pytest.raises(FatalError, match="does not exist"):
        list(connector.fetch())


def test_registered_as_tabular() -> None:
    assert resolve("tabular") is TabularConnector


def test_profile_encoding_override(tmp_path: Path) -> None:
    export = "交易时间,收/支,金额,交易单号\n2026-11-01,支出,1.00,E1\n".encode("utf-16")
    profile = 'encoding = "utf-16"\n' + DIRECTION_PROFILE
    _c, records, skipped = run(tmp_path, profile, export)
    assert [r.document.txn_id for r in records] == ["E1"] and skipped == []
    _c, records, skipped = run(tmp_path, 'encoding = "no-such-codec"\n' + DIRECTION_PROFILE, export)
    assert records == [] and "cannot decode as no-such-codec" in str(skipped[0].problem)


NOTE_PROFILE = """
name = "noted"
header = ["交易时间", "商户名称", "金额", "收/支"]
date = "交易时间"
currency = "CNY"
counterparty = ["商户名称"]
[amount]
column = "金额"
direction = "收/支"
directions = { "支出" = "out", "收入" = "in" }
note = '[(（]已(?:全额)?退款[\\d.,]*[)）]'
"""


def test_an_amount_note_declared_by_the_profile_is_removed_and_other_text_still_refused(tmp_path: Path) -> None:
    export = ("交易时间,商户名称,金额,收/支\n2024-12-28 13:27:56,JEEP,131.77(已退款89.84),支出\n"
              "2024-12-24 22:33:07,拓路者,468.32（已全额退款）,支出\n2024-12-24 22:34:05,痞帅,70.48,收入\n"
              "2024-12-24 22:35:05,某店,12.00(待退款),支出\n").encode()
    _connector, records, skipped = run(tmp_path, NOTE_PROFILE, export, account_no="6222")
    assert [r.document.amount.amount for r in records] == [Decimal("-131.77"), Decimal("-468.32"), Decimal("70.48")]
    assert [(s.problem.row, s.problem.field) for s in skipped] == [(5, "金额")]
