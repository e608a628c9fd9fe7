"""Amounts as printed on Chinese VAT invoices: ``¥1,234.56`` and 大写 (uppercase) amounts.

The uppercase parser reads the integer part by sections (亿, 万, then 仟佰拾 within each),
then the 角 and 分 after 圆:

    >>> parse_uppercase("壹万贰仟叁佰肆拾伍圆陆角柒分")
    Decimal('12345.67')
    >>> parse_uppercase("叁佰零伍圆整")
    Decimal('305.00')
    >>> parse_uppercase("壹亿零贰佰万圆整")
    Decimal('102000000.00')
    >>> parse_money("¥1,234.50")
    Decimal('1234.50')
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

DIGITS = {"零": 0, "〇": 0, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7,
          "捌": 8, "玖": 9}
SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
YUAN = ("圆", "元")
WHOLE = ("整", "正")
CENT = Decimal("0.01")
_MONEY = re.compile(r"[-+]?\d+(?:\.\d+)?")


class AmountError(ValueError):
    """Text that is not an amount; the message says what was expected."""


def parse_money(text: str) -> Decimal:
    """``¥1,234.50``, ``￥ -12.00`` or ``12`` as an exact Decimal; never a float."""
    compact = text.strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if not _MONEY.fullmatch(compact):
        raise AmountError(f"{text!r} is not an amount such as ¥1234.50")
    try:
        return Decimal(compact)
    except InvalidOperation:
        raise AmountError(f"{text!r} is not an amount such as ¥1234.50") from None


def _integer_part(text: str, original: str) -> int:
    def bad(why: str) -> AmountError:
        return AmountError(f"{original!r} is not an uppercase amount: {why}")

    total = block = section = 0
    digit: int | None = None
    last_small = 10_000
    seen_wan = False
    for char in text:
        if char in DIGITS:
            if DIGITS[char] == 0:
                if digit is not None:
                    raise bad(f"零 after a digit without a unit ({char})")
                continue
            if digit is not None:
                raise bad(f"two digits without a unit between them near {char!r}")
            digit = DIGITS[char]
        elif char in SMALL_UNITS:
            unit = SMALL_UNITS[char]
            if unit >= last_small:
                raise bad(f"{char} out of order")
            if digit is None:
                if unit != 10 or section or block or total:
                    raise bad(f"{char} without a digit before it")
                digit = 1  # 拾伍圆 is 15
            section += digit * unit
            digit, last_small = None, unit
        elif char in ("万", "萬"):
            section += digit or 0
            if not section or seen_wan:
                raise bad("万 without a number before it or twice")
            block, section, digit, last_small, seen_wan = section * 10_000, 0, None, 10_000, True
        elif char in ("亿", "億"):
            value = block + section + (digit or 0)
            if not value or total:
                raise bad("亿 without a number before it or twice")
            total, block, section, digit, last_small, seen_wan = value * 10**8, 0, 0, None, 10_000, False
        else:
            raise bad(f"unexpected character {char!r}")
    return total + block + section + (digit or 0)


def _fraction_part(text: str, original: str) -> Decimal:
    match = re.fullmatch(r"零?(?:(?P<jiao>[壹贰叁肆伍陆柒捌玖])角)?零?(?:(?P<fen>[壹贰叁肆伍陆柒捌玖])分)?"
                         r"(?P<whole>[整正])?", text)
    if not match or (match["fen"] and match["whole"]):
        raise AmountError(f"{original!r} is not an uppercase amount: expected 角 and 分 after 圆, "
                          f"or 整, found {text!r}")
    jiao = DIGITS[match["jiao"]] if match["jiao"] else 0
    fen = DIGITS[match["fen"]] if match["fen"] else 0
    return Decimal(jiao * 10 + fen) * CENT


def parse_uppercase(text: str) -> Decimal:
    """The amount written in 大写, e.g. ``壹万贰仟叁佰肆拾伍圆陆角柒分``; ``负`` makes it negative."""
    compact = re.sub(r"\s", "", text)
    sign = 1
    for prefix in ("(负数)", "（负数）", "负"):
        if compact.startswith(prefix):
            sign, compact = -1, compact[len(prefix):]
            break
    if not compact:
        raise AmountError(f"{text!r} is not an uppercase amount: it is empty")
    yuan_at = max(compact.find(mark) for mark in YUAN)
    if yuan_at >= 0:
        integer_text, fraction_text = compact[:yuan_at], compact[yuan_at + 1:]
        if not integer_text:
            raise AmountError(f"{text!r} is not an uppercase amount: nothing before 圆")
    elif compact.endswith(("角", "分", "角整", "角正")):
        integer_text, fraction_text = "", compact
    else:
        raise AmountError(f"{text!r} is not an uppercase amount: no 圆, 角 or 分")
    integer = _integer_part(integer_text, text) if integer_text.strip("零〇") else 0
    return sign * (Decimal(integer) + _fraction_part(fraction_text, text)).quantize(CENT)
