"""The layering of ARCHITECTURE.md: ledger at the bottom; connectors and matching import only
ledger; review imports ledger and matching; flows imports everything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "connectors", "matching", "review", "flows")
ALLOWED = {
    "ledger": set(),
    "connectors": {"ledger"},
    "matching": {"ledger"},
    "review": {"ledger", "matching"},
    "flows": {"ledger", "connectors", "matching", "review"},
}


def internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in PACKAGES)
    return found


def violations(package: str) -> list[str]:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for imported in internal_imports(path) - ALLOWED[package] - {package}:
            problems.append(f"{path.relative_to(ROOT)} imports {imported}")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    assert violations(package) == []


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from connectors.contract import Connector\nimport flows.cli\n")
    assert internal_imports(bad) - ALLOWED["ledger"] == {"connectors", "flows"}


def test_config_is_data_not_a_package() -> None:
    assert not list((ROOT / "config").rglob("*.py"))
