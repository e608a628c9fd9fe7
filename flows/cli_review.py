"""``yecai ui`` (the review web UI on 127.0.0.1) and ``yecai users`` (accounts and roles)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.posting.templates import load_templates
from ledger.settings import ConfigError, load_chart, load_company
from ledger.storage.engine import DatabaseUrlError, make_engine
from review.actions import Books
from review.auth import AuthError, add_user, audit_chains, list_users, set_disabled, set_roles
from review.roles import ROLES, RoleError
from review.settings import DEFAULT_REVIEW_CONFIG, load_review_settings

users_app = typer.Typer(help="Review UI accounts: add, disable, enable, roles, list. Roles: " + ", ".join(ROLES)
                        + ". Every change is recorded in the audit chain of each company in the database "
                        "(yecai ledger verify checks it).", no_args_is_help=True, rich_markup_mode="markdown")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
DEFAULT_CONFIG = Path("config/example/company.toml")
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Company TOML file.")]
ReviewOption = Annotated[Path, typer.Option("--review-config", help="Review settings (SLAs, autonomy, sessions).")]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default $DATABASE_URL or yecai.db).")]


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):   # no login name in this environment (a bare container)
        return "cli"


ByOption = Annotated[str, typer.Option("--by", help="Who makes the change, recorded in every company's audit "
                                       "chain (default: your login name).")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def books_for(config_path: Path, review_config: Path = DEFAULT_REVIEW_CONFIG) -> Books:
    config = load_company(config_path)
    chart = load_chart(config)
    return Books(company_id=config.company.id, chart=chart, templates=load_templates(chart),
                 tolerances=config.tolerances, settings=load_review_settings(review_config),
                 base_currency=config.company.base_currency)


def ui(config_path: ConfigOption = DEFAULT_CONFIG, review_config: ReviewOption = DEFAULT_REVIEW_CONFIG,
       db: DbOption = None, port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000) -> None:
    """Serve the review web UI on 127.0.0.1 (put a TLS proxy in front to reach it from elsewhere)."""
    import uvicorn

    from review.web.app import create_app

    try:
        books, engine = books_for(config_path, review_config), make_engine(db)
    except (ConfigError, DatabaseUrlError) as error:
        raise _fail(str(error)) from None
    console.print(f"review UI for {books.company_id} on http://127.0.0.1:{port}/ (Ctrl-C stops it)")
    uvicorn.run(create_app(engine, books), host="127.0.0.1", port=port, log_level="info")


def _engine(db: str | None):
    try:
        return make_engine(db)
    except DatabaseUrlError as error:
        raise _fail(str(error)) from None


def _audited(engine) -> None:
    chains = audit_chains(engine)
    if chains:
        console.print(f"recorded in the audit chain of {chains} compan{'y' if chains == 1 else 'ies'}")
    else:
        err.print("[yellow]warning:[/] no company in this database yet, so no audit chain recorded this change; "
                  "run `yecai sync` first so that later user changes are audited", highlight=False)


@users_app.command("add")
def users_add(username: str, roles: Annotated[str, typer.Option("--roles", help="Comma separated.")],
              display_name: Annotated[str, typer.Option(help="Shown in the UI.")] = "",
              password_env: Annotated[str, typer.Option(help="Read the password from this environment variable "
                                                        "instead of asking.")] = "",
              by: ByOption = "", db: DbOption = None) -> None:
    """Add a user; the password is asked for (twice) unless --password-env names a variable."""
    password = os.environ.get(password_env, "") if password_env else typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    engine = _engine(db)
    try:
        user = add_user(engine, username, password, roles.split(","), display_name, by=by or _login_name())
    except (AuthError, RoleError) as error:
        raise _fail(str(error)) from None
    console.print(f"user {user.username} added with roles {', '.join(user.roles)}")
    _audited(engine)


def _set_disabled(username: str, disabled: bool, by: str, db: str | None) -> None:
    engine = _engine(db)
    try:
        set_disabled(engine, username, disabled, by=by or _login_name())
    except AuthError as error:
        raise _fail(str(error)) from None
    console.print(f"user {username} {'disabled' if disabled else 'enabled'}")
    _audited(engine)


@users_app.command("disable")
def users_disable(username: str, by: ByOption = "", db: DbOption = None) -> None:
    """Disable a user and end their sessions."""
    _set_disabled(username, True, by, db)


@users_app.command("enable")
def users_enable(username: str, by: ByOption = "", db: DbOption = None) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False, by, db)


@users_app.command("roles")
def users_roles(username: str, roles: Annotated[str, typer.Argument(help="Comma separated, replacing the old.")],
                by: ByOption = "", db: DbOption = None) -> None:
    """Set a user's roles."""
    engine = _engine(db)
    try:
        set_roles(engine, username, roles.split(","), by=by or _login_name())
    except (AuthError, RoleError) as error:
        raise _fail(str(error)) from None
    console.print(f"user {username} now has roles {roles}")
    _audited(engine)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    out = Table(title="users")
    for column in ("user", "name", "roles", "disabled"):
        out.add_column(column)
    for user, disabled in list_users(_engine(db)):
        out.add_row(user.username, user.display_name, ", ".join(user.roles), "yes" if disabled else "")
    console.print(out)
