"""``yecai ui`` (the review web UI on 127.0.0.1) and ``yecai users`` (accounts and roles)."""

from __future__ import annotations

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
from review.auth import AuthError, add_user, list_users, set_disabled, set_roles
from review.roles import ROLES, RoleError
from review.settings import DEFAULT_REVIEW_CONFIG, load_review_settings

users_app = typer.Typer(help="Review UI accounts: add, disable, enable, roles, list. Roles: " + ", ".join(ROLES)
                        + ".", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
DEFAULT_CONFIG = Path("config/example/company.toml")
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Company TOML file.")]
ReviewOption = Annotated[Path, typer.Option("--review-config", help="Review settings (SLAs, autonomy, sessions).")]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default $DATABASE_URL or yecai.db).")]


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


@users_app.command("add")
def users_add(username: str, roles: Annotated[str, typer.Option("--roles", help="Comma separated.")],
              display_name: Annotated[str, typer.Option(help="Shown in the UI.")] = "",
              password_env: Annotated[str, typer.Option(help="Read the password from this environment variable "
                                                        "instead of asking.")] = "",
              db: DbOption = None) -> None:
    """Add a user; the password is asked for (twice) unless --password-env names a variable."""
    password = os.environ.get(password_env, "") if password_env else typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    try:
        user = add_user(_engine(db), username, password, roles.split(","), display_name)
    except (AuthError, RoleError) as error:
        raise _fail(str(error)) from None
    console.print(f"user {user.username} added with roles {', '.join(user.roles)}")


@users_app.command("disable")
def users_disable(username: str, db: DbOption = None) -> None:
    """Disable a user and end their sessions."""
    try:
        set_disabled(_engine(db), username, True)
    except AuthError as error:
        raise _fail(str(error)) from None
    console.print(f"user {username} disabled")


@users_app.command("enable")
def users_enable(username: str, db: DbOption = None) -> None:
    try:
        set_disabled(_engine(db), username, False)
    except AuthError as error:
        raise _fail(str(error)) from None
    console.print(f"user {username} enabled")


@users_app.command("roles")
def users_roles(username: str, roles: Annotated[str, typer.Argument(help="Comma separated, replacing the old.")],
                db: DbOption = None) -> None:
    """Set a user's roles."""
    try:
        set_roles(_engine(db), username, roles.split(","))
    except (AuthError, RoleError) as error:
        raise _fail(str(error)) from None
    console.print(f"user {username} now has roles {roles}")


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    out = Table(title="users")
    for column in ("user", "name", "roles", "disabled"):
        out.add_column(column)
    for user, disabled in list_users(_engine(db)):
        out.add_row(user.username, user.display_name, ", ".join(user.roles), "yes" if disabled else "")
    console.print(out)
