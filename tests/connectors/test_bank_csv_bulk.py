"""The bulk reader of the canonical bank CSV accepts and rejects exactly what the row-by-row
definition does (``bank_csv.transaction``), with the same rows, row numbers and messages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.dropfolder import bank_csv
from connectors.dropfolder.csvfile import open_table
from ledger.bank_rows import BankBatch, bank_values
from ledger.errors import BadInput, FieldError

AMOUNTS = ["12.50", "-12.50", "100.00", "0.01", "-0.50", "7", "-7", "12.5", "007.10", "1.230", "1.235", "0.00",
           "-0", "５.００", "1e3", "+5", "5.", ".5", "1,000.00", "1_000", "12.345", "-", "", "(1.00)", "99999999.99"]
DATES = ["2026-11-01", "2026-11-02", "2026-02-30", "20261101", "2026-1-01", "２０２６-11-01", "", "2026-11-01T00"]
CURRENCIES = ["CNY", "CNY", "CNY", "USD", "JPY", "BHD", "cny", "XXX", ""]
TEXT = ["", "海尔智家", " 货款 44001234 ", "a,b", 'say "hi"', "two\nlines", "x\r\ny"]


def cell(options: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(options), st.sampled_from(options).map(lambda s: f" {s} "))


row_strategy = st.tuples(
    st.sampled_from(["6222", "6223", "", "62:22", " 6222 "]),
    st.sampled_from(["T1", "T2", "T3", "T4", "T5", "T6", ""]),
    cell(DATES), cell(DATES), cell(AMOUNTS), st.sampled_from(CURRENCIES), st.sampled_from(TEXT),
    st.sampled_from(TEXT), st.sampled_from(TEXT))


def reference(name: str, width: int, rows: list[tuple[int, list[str]]]) -> tuple[list[tuple], list[BadInput]]:
    """What the bulk reader must give, the plain way: each row on its own through ``transaction``."""
    accepted, problems, seen = [], [], {}
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != width:
            problems.append(BadInput(file=name, row=number, field=None,
                                     message=f"wrong number of cells: {len(cells)} cells for {width} columns"))
            continue
        try:
            row = bank_values(bank_csv.transaction(dict(zip(bank_csv.COLUMNS, (c.strip() for c in cells)))))
        except FieldError as error:
            problems.append(BadInput.from_field_error(name, number, error))
            continue
        key = (row[0], row[1])
        if key in seen:
            if seen[key][1] != row[-1]:
                problems.append(BadInput(file=name, row=number, field="txn_id", message=(
                    f"transaction {row[0]}:{row[1]} appears again with different content "
                    f"(first on row {seen[key][0]}); the first is kept")))
            continue
        seen[key] = (number, row[-1])
        accepted.append(row)
    return accepted, problems


def write(path: Path, rows: list[list[str]], numbered: bool = True) -> list[tuple[int, list[str]]]:
    """Write the CSV and return each row with its number as csv's line_num counts it."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(bank_csv.COLUMNS)
        writer.writerows(rows)
    if not numbered:
        return []
    reader = csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline=""))
    next(reader)
    return [(reader.line_num, cells) for cells in reader]


def read_bulk(path: Path, size: int) -> tuple[list[tuple], list[BadInput], int]:
    header, reader, handle = open_table(path, "bank/x.csv", bank_csv.COLUMNS)
    rows, problems, batches = [], [], 0
    with handle:
        for item in bank_csv.batches("bank/x.csv", header, reader, size=size):
            if isinstance(item, BankBatch):
                assert len(item) > 0 and len({(r[0], r[1]) for r in item.rows}) == len(item)
                rows += item.rows
                batches += 1
            else:
                problems.append(item)
    return rows, problems, batches


def by_row(problems: list[BadInput]) -> list[BadInput]:
    return sorted(problems, key=lambda p: (p.row, p.field or "", p.message))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(row_strategy.map(list), st.just(["", "", "", "", "", "", "", "", ""]),
                               st.just(["6222", "T9"])), max_size=40),
       check_rows=st.sampled_from([1, 3, 256]), size=st.sampled_from([1, 4, 10_000]))
def test_bulk_reader_agrees_with_the_row_by_row_definition(tmp_path_factory, monkeypatch, rows, check_rows, size):
    monkeypatch.setattr(bank_csv, "CHECK_ROWS", check_rows)
    path = tmp_path_factory.mktemp("bank") / "x.csv"
    expected_rows, expected_problems = reference("bank/x.csv", len(bank_csv.COLUMNS), write(path, rows))
    got_rows, got_problems, _ = read_bulk(path, size)
    assert got_rows == expected_rows
    assert by_row(got_problems) == by_row(expected_problems)


def clean_rows(n: int, start: int = 0) -> list[list[str]]:
    return [["6222", f"T{i:06d}", f"2026-11-{1 + i % 28:02d}", "2026-11-01",
             f"{(i % 7 - 3) or 1}{i % 10}.{i % 100:02d}", "CNY", "海尔智家", "6222000011112222",
             f"货款 {44000000 + i}"] for i in range(start, start + n)]


def test_clean_chunks_are_checked_in_bulk_not_row_by_row(tmp_path, monkeypatch) -> None:
    one_by_one = []
    original = bank_csv._one_by_one

    def spy(*args, **kwargs):
        one_by_one.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(bank_csv, "_one_by_one", spy)
    rows = clean_rows(1000)
    rows[700][4] = "12.345"  # a bad amount: that chunk, and only that one, goes row by row
    numbered = write(tmp_path / "x.csv", rows)
    got_rows, problems, batches = read_bulk(tmp_path / "x.csv", size=300)
    assert got_rows == reference("bank/x.csv", 9, numbered)[0] and len(got_rows) == 999
    assert [str(p) for p in problems] == [
        "bank/x.csv, row 702, field 'amount': found '12.345', expected at most 2 decimals for CNY"]
    assert len(one_by_one) == 1
    assert batches == 2  # a batch is yielded once it holds 300 rows or more, filled 256 at a time


def test_a_cell_over_the_csv_size_limit_is_one_bad_row(tmp_path) -> None:
    rows = clean_rows(3)
    rows[1][8] = "x" * 200_000
    write(tmp_path / "x.csv", rows, numbered=False)
    got_rows, problems, _ = read_bulk(tmp_path / "x.csv", size=10)
    assert [r[1] for r in got_rows] == ["T000000", "T000002"]
    assert [(p.row, p.field) for p in problems] == [(3, None)]
    assert "not valid CSV: field larger than field limit" in problems[0].message


def test_a_transaction_repeated_across_chunks_is_one_and_a_changed_one_is_named(tmp_path) -> None:
    rows = clean_rows(600)
    rows.append(list(rows[10]))  # the same transaction again, far away: one transaction
    changed = list(rows[20])
    changed[4] = "1.00" if changed[4] != "1.00" else "2.00"
    rows.append(changed)
    write(tmp_path / "x.csv", rows)
    got_rows, problems, _ = read_bulk(tmp_path / "x.csv", size=10_000)
    assert len(got_rows) == 600
    assert [str(p) for p in problems] == [
        "bank/x.csv, row 603, field 'txn_id': transaction 6222:T000020 appears again with different "
        "content (first on row 22); the first is kept"]


@pytest.mark.parametrize("amount, minor, plain", [
    ("12.50", 1250, "12.5"), ("-0.50", -50, "-0.5"), ("100.00", 10000, "100"), ("007.10", 710, "7.1"),
    ("1.230", None, None), ("5", 500, "5"), ("0.00", None, None), ("１.００", None, None)])
def test_amount_text_to_minor_units_and_normalised_text(amount, minor, plain) -> None:
    parsed = bank_csv._amount(amount, 2)
    assert parsed == (None if minor is None else (minor, plain))
