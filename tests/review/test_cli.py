"""``yecai users`` and ``yecai ui``: accounts from the command line, the server's help."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from review.auth import AuthError, login
from review.settings import ReviewSettings

runner = CliRunner()


def test_users_add_roles_disable(tmp_path: Path, monkeypatch) -> None:
    db = f"sqlite:///{tmp_path / 'y.db'}"
    engine = make_engine(db)
    migrate.upgrade(engine)
    monkeypatch.setenv("NEW_PASSWORD", "a long enough password")
    added = runner.invoke(app, ["users", "add", "li", "--roles", "reviewer", "--password-env", "NEW_PASSWORD",
                                "--db", db])
    assert added.exit_code == 0 and "roles reviewer" in added.output
    assert login(engine, "li", "a long enough password", "1.2.3.4", ReviewSettings()).user.roles == ("reviewer",)
    bad = runner.invoke(app, ["users", "roles", "li", "reviewer,boss", "--db", db])
    assert bad.exit_code == 2 and "unknown role(s) boss" in bad.output
    assert runner.invoke(app, ["users", "roles", "li", "approver,auditor", "--db", db]).exit_code == 0
    listed = runner.invoke(app, ["users", "list", "--db", db]).output
    assert "approver, auditor" in listed
    assert runner.invoke(app, ["users", "disable", "li", "--db", db]).exit_code == 0
    try:
        login(engine, "li", "a long enough password", "1.2.3.4", ReviewSettings())
        raise AssertionError("a disabled user logged in")
    except AuthError as error:
        assert "wrong user name or password" in str(error)
    reserved = runner.invoke(app, ["users", "add", "yecai", "--roles", "approver", "--password-env",
                                   "NEW_PASSWORD", "--db", db])
    assert reserved.exit_code == 2 and "reserved for the agent" in reserved.output


def test_ui_is_a_command_with_help() -> None:
    result = runner.invoke(app, ["ui", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output
