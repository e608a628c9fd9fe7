"""The worked examples in the matching modules' docstrings are tests too."""

from __future__ import annotations

import doctest

import pytest

import matching.model
import matching.parties
import matching.places
import matching.refs


@pytest.mark.parametrize("module", [matching.model, matching.parties, matching.places, matching.refs])
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
