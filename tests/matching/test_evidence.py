"""The stored evidence text, built without a list per comparison, is what ``json.dumps`` writes, and reads back."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from matching.model import evidence_comparisons, evidence_json

comparison = st.tuples(st.sampled_from(["reference", "counterparty", "amount", "名称"]),
                       st.sampled_from(["exact", "one_digit_off", "within_fee", "不同"]),
                       st.floats(min_value=0, max_value=1, allow_nan=False) | st.sampled_from([1.0, 0.97, 0.5]),
                       st.text(max_size=12))


@given(st.lists(comparison, max_size=5))
def test_evidence_is_the_json_of_its_comparisons(comparisons: list[tuple[str, str, float, str]]) -> None:
    text = evidence_json(comparisons)
    assert text == json.dumps([list(c) for c in comparisons], ensure_ascii=False, separators=(",", ":"))
    assert evidence_comparisons(text) == [{"name": n, "level": level, "score": s, "detail": d}
                                          for n, level, s, d in comparisons]


def test_evidence_stored_as_objects_before_reads_the_same() -> None:
    old = json.dumps([{"name": "reference", "level": "exact", "score": 1.0, "detail": "44001234"}], ensure_ascii=False)
    assert evidence_comparisons(old) == evidence_comparisons(evidence_json([("reference", "exact", 1.0, "44001234")]))
    assert evidence_comparisons(None) == evidence_comparisons("") == []
