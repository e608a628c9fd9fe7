"""Cell parsing for bank and ERP exports: Excel artefacts, full-width forms, amounts, dates.

Worked example (each line is one cell as it arrives, then what it becomes):

    '="6222 0012"'           → '6222 0012'        (Excel's formula-quoted text)
    '  18.00      \\t'        → Decimal('18.00')    (padding and the tab Excel adds)
    '(1,234.56)'             → Decimal('-1234.56') (accounting negative, thousands separators)
    '￥１２３４．５６'         → Decimal('1234.56')  (full-width digits and symbol, via NFKC)
    'CNY 13.50' in CNY       → Decimal('13.50')    (its own currency code)
    '12.345' in CNY          → FieldError: at most 2 decimals (never rounded)
    '2026年11月1日 09:30'     → date(2026, 11, 1)
    '20261101'               → date(2026, 11, 1)
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from ledger.errors import FieldError
from ledger.money import minor_units

#: Currency names found in Chinese exports, mapped to ISO 4217 codes.
CURRENCY_NAMES: dict[str, str] = {
    "人民币": "CNY", "人民币元": "CNY", "RMB": "CNY", "CNY": "CNY", "美元": "USD", "USD": "USD",
    "港币": "HKD", "港元": "HKD", "HKD": "HKD", "欧元": "EUR", "EUR": "EUR", "英镑": "GBP",
    "GBP": "GBP", "日元": "JPY", "JPY": "JPY",
}

_EXCEL_FORMULA_TEXT = re.compile(r'^="(.*)"$', re.S)
_PLACEHOLDER = re.compile(r"^[-/—\s]*$")
_AMOUNT = re.compile(r"^(?P<sign>[+-]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?$")
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[\sT]?\d{2}:?\d{2}(?::?\d{2})?)?$")
_SYMBOLS = str.maketrans("", "", "¥$€£元 ")


def clean(raw: str) -> str:
    """Remove what spreadsheet exports wrap around a value: padding, tabs, ="..." quoting."""
    text = raw.strip().strip("\t").strip()
    match = _EXCEL_FORMULA_TEXT.match(text)
    if match:
        text = match.group(1).strip()
    if text.startswith("'"):
        text = text[1:]
    return text.strip().strip('"').strip()


def is_blank(text: str) -> bool:
    """Empty, or a placeholder such as '-', '/', '----------'."""
    return bool(_PLACEHOLDER.match(text))


def parse_amount(field: str, raw: str, currency: str) -> Decimal | None:
    """An exact Decimal, or None for an empty cell. More decimals than the currency allows
    is an error, never rounded."""
    text = unicodedata.normalize("NFKC", clean(raw)).translate(_SYMBOLS)
    if text.upper().startswith(currency) or text.upper().endswith(currency):
        text = text.upper().replace(currency, "", 1)  # "CNY 13.50": the code of this amount
    if is_blank(text):
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    match = _AMOUNT.match(text)
    if not match:
        raise FieldError(field, raw.strip(), "an amount such as 1,234.56, -1234.56 or (1,234.56)")
    frac = match.group("frac") or ""
    if len(frac.rstrip("0")) > minor_units(currency):
        raise FieldError(field, raw.strip(), f"at most {minor_units(currency)} decimals for {currency}")
    try:
        value = Decimal(match.group("int").replace(",", "") + ("." + frac if frac else ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise FieldError(field, raw.strip(), "a number") from None
    if match.group("sign") == "-":
        negative = not negative
    return -value if negative else value


def parse_date(field: str, raw: str) -> date:
    """Dates as 2026-11-01, 2026/11/01, 2026.11.01, 2026年11月1日, 20261101, with or without time."""
    text = unicodedata.normalize("NFKC", clean(raw))
    match = _DATE_PARTS.match(text) or _DATE_COMPACT.match(text)
    if not match:
        raise FieldError(field, raw.strip(), "a date such as 2026-11-01, 2026/11/01, "
                                             "2026年11月1日 or 20261101")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldError(field, raw.strip(), "a real calendar date") from None


def parse_currency(field: str, raw: str, names: dict[str, str]) -> str:
    text = unicodedata.normalize("NFKC", clean(raw)).upper()
    code = names.get(text) or CURRENCY_NAMES.get(text)
    if code is None:
        raise FieldError(field, raw.strip(), f"a currency ({', '.join(sorted(CURRENCY_NAMES))})")
    minor_units(code)
    return code


def text_field(raw: str) -> str:
    """A text cell: Excel artefacts removed, placeholders become empty, inner runs of
    whitespace collapsed (exports pad to fixed widths)."""
    text = clean(raw)
    return "" if is_blank(text) else " ".join(text.split())
