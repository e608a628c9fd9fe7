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


def test_user_changes_are_in_every_company_s_audit_chain_and_verify_checks_them(tmp_path: Path, monkeypatch) -> None:
    from sqlalchemy import select, text

    from ledger.settings import load_chart, load_company
    from ledger.storage.review_tables import AuditEvent
    from ledger.storage.store import sync_company
    from tests.conftest import EXAMPLE_CONFIG

    db = f"sqlite:///{tmp_path / 'y.db'}"
    engine = make_engine(db)
    migrate.upgrade(engine)
    config = load_company(EXAMPLE_CONFIG)
    sync_company(engine, config, load_chart(config))
    monkeypatch.setenv("NEW_PASSWORD", "a long enough password")
    for command in (["add", "li", "--roles", "reviewer", "--password-env", "NEW_PASSWORD"],
                    ["roles", "li", "approver"], ["disable", "li"], ["enable", "li", "--by", "wang.it"]):
        done = runner.invoke(app, ["users", *command, "--db", db] + ([] if "--by" in command else ["--by", "zhao"]))
        assert done.exit_code == 0, done.output
        assert "recorded in the audit chain of 1 company" in done.output
    events = AuditEvent.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(events).order_by(events.c.seq)).all()
    assert [(r.company_id, r.actor, r.role, r.action, r.subject) for r in rows] == [
        (config.company.id, "zhao", "user_admin", "user_add", "user:li"),
        (config.company.id, "zhao", "user_admin", "user_roles", "user:li"),
        (config.company.id, "zhao", "user_admin", "user_disable", "user:li"),
        (config.company.id, "wang.it", "user_admin", "user_enable", "user:li")]
    assert '"roles": "reviewer"' in rows[1].before and '"roles": "approver"' in rows[1].after
    assert '"disabled": true' in rows[2].after and all("argon2" not in r.after for r in rows)
    verify = ["ledger", "verify", "--config", str(EXAMPLE_CONFIG), "--db", db]
    assert "hash chain intact" in runner.invoke(app, verify).output
    with engine.begin() as connection:     # someone with the database owner's rights hides the grant
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("UPDATE audit_event SET after = replace(after, 'approver', 'auditor')"))
    broken = runner.invoke(app, verify)
    assert broken.exit_code == 2 and "audit chain broken at event 2" in broken.output


def test_a_user_change_without_any_company_says_it_is_not_audited(tmp_path: Path, monkeypatch) -> None:
    db = f"sqlite:///{tmp_path / 'y.db'}"
    migrate.upgrade(make_engine(db))
    monkeypatch.setenv("NEW_PASSWORD", "a long enough password")
    done = runner.invoke(app, ["users", "add", "li", "--roles", "reviewer", "--password-env", "NEW_PASSWORD",
                               "--db", db])
    assert done.exit_code == 0 and "no audit chain recorded this change" in done.output
