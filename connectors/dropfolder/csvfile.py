"""Reading the spec's CSV files: encoding detection that never drops bytes, strict cells.

Encodings are tried in the spec's order: a UTF-8 BOM, then strict UTF-8, then GB18030 (a
superset of GBK). If none decodes every byte the file is refused with the byte offset.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ledger.errors import FieldError


class FileError(ValueError):
    """The whole file cannot be read (encoding, header)."""


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise FileError(f"{name}: has a UTF-8 BOM but byte {error.start + 3} is not UTF-8") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        raise FileError(f"{name}: neither UTF-8 nor GB18030 (undecodable byte at offset "
                        f"{error.start}); re-export as UTF-8") from None


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # 1-based line number in the file, the header being row 1
    cells: dict[str, str]


def read_rows(path: Path, name: str, required: tuple[str, ...]) -> Iterator[Row]:
    """Check the header now (a FileError names what is wrong), then yield rows one at a time."""
    text, _encoding = decode(path.read_bytes(), name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise FileError(f"{name}: empty file (expected a header row)") from None
    missing = [column for column in required if column not in header]
    if missing:
        raise FileError(f"{name}: missing column(s) {', '.join(missing)} "
                        f"(expected header {','.join(required)})")
    if len(set(header)) != len(header):
        raise FileError(f"{name}: a column name appears twice in the header")
    return _rows(reader, header)


def _rows(reader, header: list[str]) -> Iterator[Row]:
    width = len(header)
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != width:
            yield Row(reader.line_num, {"__width__": f"{len(cells)} cells for {width} columns"})
            continue
        yield Row(reader.line_num, {column: cell.strip() for column, cell in zip(header, cells)})


_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_decimal(column: str, value: str) -> Decimal:
    if not _DECIMAL.match(value):
        raise FieldError(column, value, "a number with '.' decimals and no thousands separators")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise FieldError(column, value, "a number") from None


def parse_date(column: str, value: str) -> date:
    # A length and separator check first: fromisoformat alone would also take 20261101 or 2026-W01.
    if len(value) != 10 or value[4] != "-" or value[7] != "-" or not _DATE.match(value):
        raise FieldError(column, value, "an ISO date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(column, value, "a real calendar date YYYY-MM-DD") from None


def parse_int(column: str, value: str) -> int:
    if not value.isdecimal():
        raise FieldError(column, value, "a whole number")
    return int(value)


def require(column: str, value: str) -> str:
    if not value:
        raise FieldError(column, value, "a value (the column is empty)")
    return value
