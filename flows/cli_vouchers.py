"""``yecai vouchers`` and ``yecai ledger``: review, post, reverse, close periods, verify the chain.

The agent prepares vouchers (``yecai sync`` drafts them); people review and post them, and
nobody reviews or posts what they prepared. Roles and logins come with the review UI; here
``--by`` names the person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from ledger.posting.audit import verify_audit
from ledger.posting.book import BookError, post, reverse, review, set_period, verify_chain
from ledger.posting.tables import VoucherRow
from ledger.settings import ConfigError, load_company
from ledger.storage.engine import DatabaseUrlError, make_engine

vouchers_app = typer.Typer(help="Vouchers (记账凭证): list, review (审核), post (记账), reverse (红字冲销).",
                           no_args_is_help=True)
ledger_app = typer.Typer(help="The ledger: periods and the tamper-evident hash chain.", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Company TOML file.")]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default $DATABASE_URL or yecai.db).")]
ByOption = Annotated[str, typer.Option("--by", help="Who acts (recorded on the voucher).")]
DEFAULT_CONFIG = Path("config/example/company.toml")


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def _open(config_path: Path, db: str | None):
    try:
        return load_company(config_path).company.id, make_engine(db)
    except (ConfigError, DatabaseUrlError) as error:
        raise _fail(str(error)) from None


@vouchers_app.command("list")
def list_vouchers(state: Annotated[str | None, typer.Option(help="draft, reviewed or posted")] = None,
                  period: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
                  limit: int = 50, config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Vouchers with their state and number."""
    company, engine = _open(config_path, db)
    table = VoucherRow.__table__
    query = select(table).where(table.c.company_id == company).order_by(table.c.voucher_date, table.c.id)
    if state:
        query = query.where(table.c.state == state)
    if period:
        query = query.where(table.c.period == period)
    out = Table(title="vouchers")
    for column in ("id", "date", "word", "state", "number", "event", "prepared", "reviewed", "posted"):
        out.add_column(column)
    with engine.connect() as connection:
        for row in connection.execute(query.limit(limit)):
            out.add_row(str(row.id), row.voucher_date.isoformat(), row.word, row.state, row.voucher_no or "",
                        row.event_key, row.prepared_by, row.reviewed_by or "", row.posted_by or "")
    console.print(out)


def _act(action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except BookError as error:
        raise _fail(str(error)) from None


@vouchers_app.command("review")
def review_vouchers(ids: list[int], by: ByOption, config_path: ConfigOption = DEFAULT_CONFIG,
                    db: DbOption = None) -> None:
    """Review (审核) draft vouchers."""
    company, engine = _open(config_path, db)
    _act(review, engine, company, ids, by=by)
    console.print(f"reviewed {len(ids)} voucher(s)")


@vouchers_app.command("post")
def post_vouchers(ids: list[int], by: ByOption, config_path: ConfigOption = DEFAULT_CONFIG,
                  db: DbOption = None) -> None:
    """Post (记账) reviewed vouchers: numbers are assigned now, gapless per period and word."""
    company, engine = _open(config_path, db)
    numbers = _act(post, engine, company, ids, by=by)
    console.print(f"posted {', '.join(numbers)}")


@vouchers_app.command("reverse")
def reverse_voucher(voucher_id: int, by: ByOption, reason: Annotated[str, typer.Option(help="Why.")],
                    config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Draft a red-letter reversal (红字冲销) of a posted voucher; review and post it like any other."""
    company, engine = _open(config_path, db)
    new_id = _act(reverse, engine, company, voucher_id, by=by, reason=reason)
    console.print(f"reversal drafted as voucher {new_id}")


@ledger_app.command("verify")
def verify(config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Recompute the hash chains over posted vouchers and over audit events; name the first broken link."""
    company, engine = _open(config_path, db)
    broken = verify_chain(engine, company)
    if broken is not None:
        raise _fail(f"hash chain broken at voucher {broken.voucher_no} (position {broken.chain_seq}): "
                    f"{broken.reason}")
    broken_audit = verify_audit(engine, company)
    if broken_audit is not None:
        raise _fail(f"audit chain broken at event {broken_audit.seq}: {broken_audit.reason}")
    console.print("hash chain intact (vouchers and audit events)")


@ledger_app.command("close")
def close_period(period: str, by: ByOption, config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Close a period (YYYY-MM): every voucher in it must be posted; a closed period refuses postings."""
    company, engine = _open(config_path, db)
    _act(set_period, engine, company, period, "closed", by=by)
    console.print(f"period {period} closed")


@ledger_app.command("reopen")
def reopen_period(period: str, by: ByOption, reason: Annotated[str, typer.Option(help="Why.")],
                  config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Reopen a closed period, with a reason that is recorded."""
    company, engine = _open(config_path, db)
    _act(set_period, engine, company, period, "open", by=by, reason=reason)
    console.print(f"period {period} reopened")
