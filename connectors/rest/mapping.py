"""JSON records → canonical documents, through the drop-folder builders.

A record's fields are named as the interchange format's columns (``fields`` renames them:
canonical column → dotted JSON path); business documents carry their lines in a list. The
values become the same text cells a CSV row gives, so one set of builders and checks serves
both sources.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.dropfolder import bank_csv
from connectors.dropfolder.business import SCHEMAS
from ledger.documents import AnyDocument, DocumentKind
from ledger.errors import FieldError

SCHEMA_BY_KIND = {schema.kind: schema for schema in SCHEMAS}


def lookup(record: Any, path: str) -> Any:
    value = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise FieldError(column, value, "a text, number or date value")
    if isinstance(value, float):  # cannot happen with parse_float=Decimal; refuse rather than round
        raise FieldError(column, value, "an exact decimal")
    return str(value) if not isinstance(value, Decimal) else format(value, "f")


def cells(record: dict, columns: tuple[str, ...], fields: dict[str, str]) -> dict[str, str]:
    return {column: _cell(column, lookup(record, fields.get(column, column))) for column in columns}


def to_document(kind: DocumentKind, record: dict, fields: dict[str, str], lines_field: str,
                defaults: dict[str, str]) -> AnyDocument:
    if kind is DocumentKind.BANK_TXN:
        row = cells(record, bank_csv.COLUMNS, fields)
        for column, value in defaults.items():
            row[column] = row.get(column) or value
        return bank_csv.transaction(row)
    schema = SCHEMA_BY_KIND[kind]
    head = cells(record, schema.header, fields)
    for column, value in defaults.items():
        if column in head:
            head[column] = head[column] or value
    lines = lookup(record, fields.get("lines", lines_field))
    if not isinstance(lines, list) or not lines:
        raise FieldError(lines_field, lines, "a non-empty list of lines")
    line_cells = [cells(line if isinstance(line, dict) else {}, schema.line, fields) for line in lines]
    try:
        return schema.build(head, line_cells)
    except FieldError as error:
        raise FieldError(schema.fields.get(error.field, error.field), error.found, error.expected) from None
