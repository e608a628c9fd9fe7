"""The settler's batch search against every combination tried one by one."""

from __future__ import annotations

from itertools import combinations
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.settle import Settler


def brute_force(opens: list[int], candidates: list[int], target: int, largest: int) -> list[tuple[int, ...]]:
    """The first two combinations of 2..largest candidates adding up to ``target``, smaller sizes first."""
    found = []
    for size in range(2, min(largest, len(candidates)) + 1):
        for combo in combinations(candidates, size):
            if sum(opens[i] for i in combo) == target and len(found) < 2:
                found.append(combo)
    return found


@settings(max_examples=300, deadline=None)
@given(opens=st.lists(st.integers(min_value=0, max_value=60), min_size=0, max_size=9),
       target=st.integers(min_value=0, max_value=200), largest=st.integers(min_value=1, max_value=5),
       data=st.data())
def test_the_batch_search_finds_what_trying_every_combination_finds(opens, target, largest, data) -> None:
    # small amounts make many sums meet the target, and many fall short of it or pass it at every size
    candidates = data.draw(st.permutations(range(len(opens))))
    settler = SimpleNamespace(open=opens, rules=SimpleNamespace(max_batch_invoices=largest))
    assert Settler._subset_sums(settler, list(candidates), target) == brute_force(opens, list(candidates), target,
                                                                                  largest)
