"""Domain records as plain JSON-able values: for content hashes and golden files."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from ledger.money import Money

_FIELDS: dict[type, tuple[str, ...]] = {}
_SCALARS = (str, int, float, bool, type(None))   # float only ever as a score, never money


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


def to_plain(value: Any) -> Any:
    """Money → [amount, currency]; Decimal → normalised text ('1.0' and '1.00' agree); date → ISO."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Money):
        return [str(value.amount), value.currency]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if is_dataclass(value):
        return {name: to_plain(getattr(value, name)) for name in _field_names(type(value))}
    return value
