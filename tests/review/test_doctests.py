"""The worked examples in the review modules' docstrings are tests too."""

from __future__ import annotations

import doctest

import pytest

import review.charts
import review.i18n
import review.learning
import review.roles


@pytest.mark.parametrize("module", [review.charts, review.i18n, review.learning, review.roles])
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
