"""Reading an export as rows of text cells and finding its header row.

Chinese bank exports put title, account and blank lines above the header and totals below:

    row 1  明细查询文件下载
    row 3  卡号: 1234****5678
    row 5  交易日期,摘要,交易金额(收入),...      ← first row holding every profile header column
    row 6  2023-05-02,消费,,13.40,...           ← data from here on

``find_header`` returns row 5's column positions and the lines above it (where an account
number may be read). Cells are text: numbers from Excel become their shortest decimal text
(``str`` of the stored double, which reproduces what was typed), dates become ISO text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from connectors.dropfolder.csvfile import FileError, decode
from connectors.tabular.cells import clean


@dataclass(frozen=True, slots=True)
class SheetRow:
    number: int  # 1-based row (line) number in the file, as a spreadsheet shows it
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Header:
    row: int
    positions: dict[str, int]
    preamble: tuple[SheetRow, ...]


def _excel_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _csv_rows(path: Path, name: str, encoding: str | None) -> list[SheetRow]:
    data = path.read_bytes()
    if encoding:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise FileError(f"{name}: cannot decode as {encoding} ({error})") from None
    else:
        text, _encoding = decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for cells in reader:
            rows.append(SheetRow(reader.line_num, tuple(cells)))
    except csv.Error as error:
        raise FileError(f"{name}: line {reader.line_num}: not valid CSV ({error})") from None
    return rows


def _xlsx_rows(path: Path, name: str, sheet: int) -> list[SheetRow]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise FileError(f"{name}: not a readable xlsx workbook ({error})") from None
    try:
        if sheet >= len(workbook.worksheets):
            raise FileError(f"{name}: has no sheet {sheet + 1}")
        return [SheetRow(number, tuple(_excel_text(v) for v in values)) for number, values
                in enumerate(workbook.worksheets[sheet].iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def _xls_rows(path: Path, name: str, sheet: int) -> list[SheetRow]:
    import xlrd

    try:
        book = xlrd.open_workbook(path)
        worksheet = book.sheet_by_index(sheet)
    except (xlrd.XLRDError, OSError, IndexError, AssertionError) as error:
        raise FileError(f"{name}: not a readable xls workbook ({error})") from None
    rows = []
    for index in range(worksheet.nrows):
        cells = []
        for cell in worksheet.row(index):
            if cell.ctype == xlrd.XL_CELL_DATE:
                cells.append(_excel_text(xlrd.xldate_as_datetime(cell.value, book.datemode)))
            else:
                cells.append(_excel_text(cell.value))
        rows.append(SheetRow(index + 1, tuple(cells)))
    return rows


def read_sheet(path: Path, name: str, *, encoding: str | None = None, sheet: int = 0) -> list[SheetRow]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(path, name, sheet)
    if suffix == ".xls":
        return _xls_rows(path, name, sheet)
    return _csv_rows(path, name, encoding)


def header_name(cell: str) -> str:
    """Header cells compare without padding or inner spaces ('币\u3000\u3000种' is '币种')."""
    return "".join(clean(cell).split())


def find_header(rows: list[SheetRow], name: str, required: list[str]) -> Header:
    wanted = [header_name(column) for column in required]
    for index, row in enumerate(rows):
        positions: dict[str, int] = {}
        for position, cell in enumerate(row.cells):
            positions.setdefault(header_name(cell), position)
        if all(column in positions for column in wanted):
            return Header(row.number, positions, tuple(rows[:index]))
    raise FileError(f"{name}: no header row with the column(s) {', '.join(required)} "
                    f"(read {len(rows)} rows)")
