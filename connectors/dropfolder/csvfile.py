"""Reading the spec's CSV files: encoding detection that never drops bytes, strict cells.

Encodings are tried in the spec's order: a UTF-8 BOM, then strict UTF-8, then GB18030 (a
superset of GBK). If none decodes every byte the file is refused with the byte offset.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

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


def _decodes(path: Path, encoding: str, skip: int = 0) -> bool:
    """True when every byte of ``path`` after ``skip`` decodes strictly; read in blocks, kept nowhere."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as handle:
        handle.seek(skip)
        try:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path, name: str) -> str:
    """``decode``'s answer for the file at ``path`` without holding its text: the encoding to
    open it with. A file that does not decode is read whole once more, for ``decode``'s error."""
    with path.open("rb") as handle:
        bom = handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    if bom and _decodes(path, "utf-8", skip=len(codecs.BOM_UTF8)):
        return "utf-8-sig"
    if not bom and _decodes(path, "utf-8"):
        return "utf-8"
    if not bom and _decodes(path, "gb18030"):
        return "gb18030"
    return decode(path.read_bytes(), name)[1]  # raises FileError naming the byte


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # 1-based line number in the file, the header being row 1
    cells: dict[str, str]


def open_table(path: Path, name: str, required: tuple[str, ...]) -> tuple[list[str], Iterator[list[str]], TextIO]:
    """Open a CSV file and check its header: (header, csv reader, open file to close).

    The text is streamed, never held whole; the reader's ``line_num`` is the row number."""
    handle = path.open(encoding=detect_encoding(path, name), newline="")
    try:
        reader = csv.reader(handle)
        try:
            header = [cell.strip() for cell in next(reader)]
        except StopIteration:
            raise FileError(f"{name}: empty file (expected a header row)") from None
        except csv.Error as error:
            raise FileError(f"{name}: the header row is not valid CSV ({error})") from None
        missing = [column for column in required if column not in header]
        if missing:
            raise FileError(f"{name}: missing column(s) {', '.join(missing)} "
                            f"(expected header {','.join(required)})")
        if len(set(header)) != len(header):
            raise FileError(f"{name}: a column name appears twice in the header")
    except BaseException:
        handle.close()
        raise
    return header, reader, handle


def read_rows(path: Path, name: str, required: tuple[str, ...]) -> Iterator[Row]:
    """Check the header now (a FileError names what is wrong), then yield rows one at a time."""
    header, reader, handle = open_table(path, name, required)
    return _rows(reader, header, handle)


#: The cell of a Row that could not be read: the message saying why.
BAD = "__bad__"


def _rows(reader, header: list[str], handle: TextIO) -> Iterator[Row]:
    width = len(header)
    with handle:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:  # this row only (a cell over the size limit): read on after it
                yield Row(reader.line_num, {BAD: f"not valid CSV: {error}"})
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != width:
                yield Row(reader.line_num, {BAD: f"wrong number of cells: {len(cells)} cells for {width} columns"})
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
