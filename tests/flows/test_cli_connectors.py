"""``yecai connectors``: list, dry-run check, and a scaffold whose one-line test passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import EXAMPLE_CONFIG, ROOT

runner = CliRunner()


def test_list_shows_builtins_and_instances() -> None:
    result = runner.invoke(app, ["connectors", "list", "--config", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 0
    assert "dropfolder" in result.output and "erp_and_bank" in result.output


def test_check_dry_runs_without_writing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["connectors", "check", "erp_and_bank", "--config", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "configuration valid" in result.output and "nothing was written" in result.output
    assert "sales_order" in result.output
    assert list(tmp_path.iterdir()) == []  # no database file appeared


def test_check_names_a_bad_instance(tmp_path: Path) -> None:
    config = tmp_path / "company.toml"
    config.write_text('[company]\nid = "x"\nname = "X"\n[connectors.files]\ntype = "dropfolder"\npth = "."\n',
                      encoding="utf-8")
    result = runner.invoke(app, ["connectors", "check", "files", "--config", str(config)])
    assert result.exit_code == 2
    assert "connectors.files.pth" in result.output
    result = runner.invoke(app, ["connectors", "check", "nope", "--config", str(config)])
    assert result.exit_code == 2 and "no connector instance 'nope'" in result.output


def test_new_scaffolds_a_connector_whose_contract_test_passes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for folder in ("ledger", "connectors"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "tests" / "connectors").mkdir(parents=True)
    for init in ("tests/__init__.py", "tests/connectors/__init__.py"):
        (project / init).write_text("")
    result = runner.invoke(app, ["connectors", "new", "acme_bank", "--root", str(project)])
    assert result.exit_code == 0, result.output
    test = project / "tests" / "connectors" / "acme_bank" / "test_acme_bank.py"
    assert "connectors.acme_bank.connector:AcmeBankConnector" in result.output
    assert 'skipped": "sample.csv, row 5' in test.with_name("sample.golden.jsonl").read_text(encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(project)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                          str(project), str(test)], cwd=project, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "7 passed" in run.stdout
    again = runner.invoke(app, ["connectors", "new", "acme_bank", "--root", str(project)])
    assert again.exit_code == 2 and "exists already" in again.output
    bad = runner.invoke(app, ["connectors", "new", "Acme-Bank", "--root", str(project)])
    assert bad.exit_code == 2 and "lower-case" in bad.output
