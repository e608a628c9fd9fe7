"""What matching produces: links between documents, each with the evidence behind it.

Scores are confidences in [0, 1] (floats are fine here: they are never money).

    >>> evidence = Evidence(rule="invoice_ref_in_remittance", rule_version="1",
    ...     comparisons=(Comparison(name="reference", level="exact", score=1.0),
    ...                  Comparison(name="amount", level="exact", score=1.0)))
    >>> Link(from_type="sales_invoice", from_no="44001234", to_type="bank_txn", to_no="3105:T1",
    ...      decision=Decision.AUTO, score=evidence.score, evidence=evidence).score
    1.0
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ledger.money import Money


class Decision(StrEnum):
    AUTO = "auto"
    SUGGESTED = "suggested"


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """One named comparison and the level it reached (splink's vocabulary)."""

    name: str      # "reference", "amount", "counterparty", "date", "sku", …
    level: str     # "exact", "one_digit_off", "within_fee", "alias", "fuzzy", "none", …
    score: float   # this comparison's contribution in [0, 1]
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    rule: str
    rule_version: str
    comparisons: tuple[Comparison, ...]
    decided_by: str = "yecai"

    @property
    def score(self) -> float:
        """Confidence: the product of the comparisons' scores, rounded for stable output."""
        result = 1.0
        for comparison in self.comparisons:
            result *= comparison.score
        return round(result, 4)


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    from_type: str
    from_no: str
    to_type: str
    to_no: str
    decision: Decision
    score: float
    evidence: Evidence
    amount: Money | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} is not in [0, 1]")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.from_type, self.from_no, self.to_type, self.to_no)


_ENCODE = json.encoder.encode_basestring   # the C string encoder json.dumps(ensure_ascii=False) uses
EVIDENCE_KEYS = ("name", "level", "score", "detail")   # the order of a stored comparison's four values


def evidence_json(comparisons: Iterable[tuple[str, str, float, str]]) -> str:
    """The stored evidence: each comparison as the array of its name, level, score and detail
    (``EVIDENCE_KEYS``), exactly as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``
    writes it; ``evidence_comparisons`` reads it back as dicts. Arrays rather than objects: a link's
    evidence in half the bytes (the million's 1,126,724 links: 257 → 132 bytes each, 0.14 GB less to
    build, write, log and copy). Built without a list per comparison: the text before each detail is
    made once per (name, level, score), found by name, then level, then score, in dicts of the strings
    themselves, which keep their hashes (no tuple made and hashed per comparison).

        >>> evidence_json([("reference", "exact", 1.0, "44001234"), ("amount", "exact", 1.0, "")])
        '[["reference","exact",1.0,"44001234"],["amount","exact",1.0,""]]'
    """
    parts = []
    for name, level, score, detail in comparisons:
        try:
            head = _HEADS[name][level][score]
        except KeyError:
            head = _HEADS.setdefault(name, {}).setdefault(level, {}).setdefault(
                score, f"[{_ENCODE(name)},{_ENCODE(level)},{score!r},")
        parts.append(f"{head}{_ENCODE(detail)}]")
    return f"[{','.join(parts)}]"


_HEADS: dict[str, dict[str, dict[float, str]]] = {}   # name → level → score → the text before the detail


def evidence_comparisons(text: str | None) -> list[dict]:
    """Stored evidence as one dict per comparison (``EVIDENCE_KEYS``). Reads both forms: arrays (what
    ``evidence_json`` writes) and the objects of links stored before it (one per comparison, with those keys).

        >>> evidence_comparisons('[["reference","exact",1.0,"44001234"]]')
        [{'name': 'reference', 'level': 'exact', 'score': 1.0, 'detail': '44001234'}]
        >>> evidence_comparisons('[{"name": "person", "level": "manual", "score": 1.0, "detail": "ok"}]')[0]["level"]
        'manual'
    """
    return [comparison if isinstance(comparison, dict) else dict(zip(EVIDENCE_KEYS, comparison))
            for comparison in json.loads(text or "[]")]
