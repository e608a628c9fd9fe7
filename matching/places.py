"""The place-name table behind name normalisation (``matching/data/places.txt``).

Provinces and prefecture-level divisions are known by their full form and their short form;
districts and counties only by their full form, because short district names (长安, 和平,
新华) are everyday brand words. Worked example:

    >>> places = load_places()
    >>> "四川省" in places.full and "四川" in places.short
    True
    >>> strip_leading_places("江苏常州万达人力资源管理", places)
    ('万达人力资源管理', ('江苏', '常州'))
    >>> strip_leading_places("长安汽车", places)
    ('长安汽车', ())
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PLACES_FILE = Path(__file__).with_name("data") / "places.txt"

# Ethnic autonomous divisions shorten to the name before the first nationality: 延边朝鲜族自治州
# is called 延边; a plain 自治区 / 地区 / 盟 drops just that suffix.
_AUTONOMOUS = re.compile(r"^([一-鿿]{2,}?)(?:[一-鿿]{1,4}族|维吾尔)*自治(?:区|州|县|旗)$")
_PLAIN_SUFFIX = re.compile(r"(?:特别行政区|地区|省|市|盟)$")
# A county, district, banner or town named by the generic pattern "two or three characters +
# 县/区/旗/镇" at the very front (宛城区, 千灯镇); 市 is not treated so because "华联超市" would
# lose its brand.
_GENERIC_COUNTY = re.compile(r"^[一-鿿]{2,3}[县区旗镇]")
# A stripped name must keep at least this much, or the place was the name (长沙 → 长沙).
MIN_REMAINDER = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceTable:
    full: frozenset[str]
    short: frozenset[str]
    # Lengths longest first, so 黑龙江省 is tried before 黑龙江: a set lookup per length
    # instead of a scan over every place for every name.
    lengths: tuple[int, ...]


def short_form(name: str) -> str:
    """成都市 → 成都, 广西壮族自治区 → 广西; a short form under two characters is not kept."""
    autonomous = _AUTONOMOUS.match(name)
    short = autonomous.group(1) if autonomous else _PLAIN_SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


def parse_places(lines: list[str]) -> PlaceTable:
    full: set[str] = set()
    short: set[str] = set()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        level, name = line.split(maxsplit=1)
        full.add(name)
        if level in {"P", "C"}:
            short.add(short_form(name))
    lengths = tuple(sorted({len(p) for p in full | short}, reverse=True))
    return PlaceTable(full=frozenset(full), short=frozenset(short - full), lengths=lengths)


@cache
def load_places(path: Path = PLACES_FILE) -> PlaceTable:
    return parse_places(path.read_text(encoding="utf-8").splitlines())


def is_place(text: str, places: PlaceTable) -> bool:
    return text in places.full or text in places.short


def strip_leading_places(text: str, places: PlaceTable) -> tuple[str, tuple[str, ...]]:
    """Remove place names from the front, repeatedly (江苏常州万达 → 万达), never leaving less
    than two characters. Returns the rest and the places removed."""
    removed: list[str] = []
    changed = True
    while changed:
        changed = False
        for length in places.lengths:
            if len(text) - length >= MIN_REMAINDER and is_place(text[:length], places):
                removed.append(text[:length])
                text = text[length:]
                changed = True
                break
        else:
            county = _GENERIC_COUNTY.match(text)
            if county and len(text) - county.end() >= MIN_REMAINDER:
                removed.append(county.group())
                text = text[county.end():]
                changed = True
    return text, tuple(removed)
