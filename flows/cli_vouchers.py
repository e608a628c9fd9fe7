"""``yecai vouchers``, ``yecai ledger`` and ``yecai fx``: review, post, reverse, export and
preview vouchers; close periods and verify the chain; keep exchange rates.

The agent prepares vouchers (``yecai sync`` drafts them); people review and post them, and
nobody reviews or posts what they prepared. Roles and logins come with the review UI; here
``--by`` names the person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from ledger.posting.audit import verify_audit
from ledger.posting.book import BookError, booked, post, reverse, reverse_settlement, review, set_period, verify_chain
from ledger.posting.exports import FORMATS, ExportError, write_export
from ledger.posting.fx import Rate, RateFileError, read_rates_csv, save_rates
from ledger.posting.preview import compare
from ledger.posting.stored import load_vouchers
from ledger.posting.tables import VoucherRow
from ledger.posting.vouchers import MissingTemplate, UnbalancedVoucher
from ledger.settings import ConfigError, load_company
from ledger.storage.engine import DatabaseUrlError, make_engine

vouchers_app = typer.Typer(help="Vouchers (记账凭证): list, review (审核), post (记账), reverse (红字冲销).",
                           no_args_is_help=True, rich_markup_mode="markdown")
ledger_app = typer.Typer(help="The ledger: periods and the tamper-evident hash chain.", no_args_is_help=True,
                         rich_markup_mode="markdown")
fx_app = typer.Typer(help="Exchange rates (汇率) into the base currency, each with its date and source.",
                     no_args_is_help=True, rich_markup_mode="markdown")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Company TOML file.")]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default $DATABASE_URL or yecai.db).")]
ByOption = Annotated[str, typer.Option("--by", help="Who acts (recorded on the voucher).")]
DEFAULT_CONFIG = Path("config/example/company.toml")


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
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
    """Reopen a closed period: --by must be a user with the finance_admin role (yecai users); the reason is audited."""
    company, engine = _open(config_path, db)
    _act(set_period, engine, company, period, "open", by=by, reason=reason)
    console.print(f"period {period} reopened")


@vouchers_app.command("unmatch")
def unmatch(txn: Annotated[str, typer.Argument(help="The bank transaction, account_no:txn_id as in links.csv.")],
            by: ByOption, reason: Annotated[str, typer.Option(help="Why the settlement is undone.")],
            config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Undo the vouchers of an unmatched settlement (bank transaction TXN).

    A posted voucher gets a red-letter reversal draft, an unposted one is discarded; the next
    sync books the transaction as it now stands."""
    company, engine = _open(config_path, db)
    undone = _act(reverse_settlement, engine, company, txn, by=by, reason=reason)
    if not undone:
        console.print(f"no standing voucher books {txn}")
    for item in undone:
        extra = f" by reversal draft {item.reversal_id}" if item.reversal_id else ""
        console.print(f"{item.event_key}: voucher {item.voucher_id} {item.action}{extra}")


def _pairs(option: str, text: str) -> dict[str, str]:
    """``记=PRE001,收=PRE002`` → {"记": "PRE001", "收": "PRE002"}."""
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise _fail(f"{option} {item!r}: expected NAME=CODE pairs separated by commas")
        pairs[key.strip()] = value.strip()
    return pairs


@vouchers_app.command("export")
def export(out: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
           format_: Annotated[str, typer.Option(
               "--format", "-f", help=f"One of {', '.join(FORMATS)}: the spec's vouchers.csv, JSON (amounts as "
                                      "strings), or an Excel import file for Kingdee K/3 Cloud or Yonyou U8 "
                                      "(docs/voucher-exports.md).")] = "csv",
           state: Annotated[str, typer.Option(help="draft, reviewed, posted, or all")] = "posted",
           period: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
           account_book: Annotated[str, typer.Option(help="Kingdee: the account book (账簿) code.")] = "",
           org: Annotated[str, typer.Option(help="Kingdee: the accounting organisation (核算组织) code.")] = "",
           word_codes: Annotated[str, typer.Option(help="Kingdee: 凭证字 codes, e.g. 记=PRE001,收=PRE002 "
                                                        "(default: the word itself).")] = "",
           currency_codes: Annotated[str, typer.Option(help="Kingdee: 币别 codes beyond CNY=PRE001,USD=PRE007, "
                                                            "e.g. EUR=PRE003.")] = "",
           config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Write vouchers (posted ones by default) for another system to import."""
    if format_ not in FORMATS:
        raise _fail(f"--format {format_!r}: expected one of {', '.join(FORMATS)}")
    company, engine = _open(config_path, db)
    vouchers = load_vouchers(engine, company, state=None if state == "all" else state, period=period)
    options = {}
    if format_ == "kingdee":
        options = {"account_book": account_book, "org": org, "word_codes": _pairs("--word-codes", word_codes),
                   "currency_codes": _pairs("--currency-codes", currency_codes)}
    try:
        write_export(format_, out, vouchers, **options)
    except ExportError as error:
        raise _fail(str(error)) from None
    console.print(f"wrote {len(vouchers)} voucher(s), {sum(len(v.voucher.lines) for v in vouchers)} line(s) to {out}")


@vouchers_app.command("preview")
def preview(templates_path: Annotated[Path, typer.Option("--templates", "-t", help="The changed templates file.")],
            as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: the latest document date)")] = None,
            show: Annotated[int, typer.Option(help="How many changed events to show in full.")] = 20,
            config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Dry run of a template change: added, removed and changed voucher lines. Writes nothing.

    Rebuilds the vouchers from the stored documents with the given templates and compares them
    with the vouchers the book holds now, event by event."""
    from datetime import date

    from flows.match_step import match_company
    from ledger.posting.fx import load_rates
    from ledger.posting.templates import load_templates
    from ledger.settings import load_chart
    from matching.rules import load_rules

    try:
        config = load_company(config_path)
        chart = load_chart(config)
        templates = load_templates(chart, templates_path)
        engine = make_engine(db)
        day = date.fromisoformat(as_of) if as_of else None
    except (ConfigError, DatabaseUrlError) as error:
        raise _fail(str(error)) from None
    except ValueError:
        raise _fail(f"--as-of {as_of!r}: expected a date YYYY-MM-DD") from None
    company = config.company.id
    with err.status("matching the stored documents (nothing is written) …"):
        try:
            run = match_company(engine, company, chart=chart, templates=templates, rules=load_rules(),
                                tolerances=config.tolerances, as_of=day, store=False,
                                rates=load_rates(engine, company, config.company.base_currency))
        except (MissingTemplate, UnbalancedVoucher) as error:
            raise _fail(f"{templates_path}: {error}") from None
        with engine.connect() as connection:
            standing = {b.voucher_id for b in booked(connection, company).values() if b.standing}
        current = [v for v in load_vouchers(engine, company, include_reversals=False) if v.id in standing]
    result = compare(current, run.vouchers, templates.version)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items())) or "no changes"
    console.print(f"templates {templates_path} (version {templates.version}): {result.unchanged} voucher(s) "
                  f"unchanged; events {counts}. Nothing was written.")
    for change in result.changes[:show]:
        console.print(f"[bold]{change.event_key}[/] {change.status}"
                      + (f" (current voucher {change.voucher_no})" if change.voucher_no else ""), highlight=False)
        for line in change.added:
            console.print(f"  [green]+ {line}[/]", highlight=False)
        for line in change.removed:
            console.print(f"  [red]- {line}[/]", highlight=False)
        for old, new in change.changed:
            console.print(f"  [yellow]~ {old}  →  {new}[/]", highlight=False)
    if len(result.changes) > show:
        console.print(f"… and {len(result.changes) - show} more (--show N)")


@fx_app.command("add")
def fx_add(currency: str, rate_date: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
           rate: Annotated[str, typer.Argument(help="Base-currency units for one unit of CURRENCY, e.g. 7.1234")],
           source: Annotated[str, typer.Option(help="Where the rate comes from, e.g. 中国人民银行 中间价.")],
           by: ByOption, config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Add (or replace) one rate."""
    from datetime import date
    from decimal import Decimal, InvalidOperation

    company, engine = _open(config_path, db)
    try:
        entry = Rate(currency=currency.upper(), rate_date=date.fromisoformat(rate_date), rate=Decimal(rate),
                     source=source)
    except (ValueError, InvalidOperation) as error:
        raise _fail(f"rate {currency} {rate_date} {rate}: {error}") from None
    save_rates(engine, company, [entry], by=by)
    console.print(f"{entry.currency} on {entry.rate_date}: {entry.rate} ({entry.source})")


@fx_app.command("import")
def fx_import(path: Annotated[Path, typer.Argument(help="CSV with columns currency, rate_date, rate, source.")],
              by: ByOption, config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Import rates from a CSV file; bad rows are reported (file, row, field) and the rest imported."""
    company, engine = _open(config_path, db)
    try:
        rates, problems = read_rates_csv(path)
    except (OSError, RateFileError) as error:
        raise _fail(str(error)) from None
    for problem in problems:
        err.print(f"[yellow]skipped:[/] {problem}", highlight=False)
    console.print(f"imported {save_rates(engine, company, rates, by=by)} rate(s)"
                  + (f", {len(problems)} row(s) skipped" if problems else ""))
    if problems:
        raise typer.Exit(code=1)
