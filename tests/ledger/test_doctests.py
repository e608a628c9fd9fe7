"""The worked examples in module docstrings are tests too."""

from __future__ import annotations

import doctest

import pytest

import ledger.counterparties
import ledger.documents
import ledger.money


@pytest.mark.parametrize("module", [ledger.money, ledger.documents, ledger.counterparties])
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
