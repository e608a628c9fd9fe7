"""The ``yecai`` command line. Each command does real work; later features add their own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.errors import FatalError, RetryableError
from flows.cli_connectors import app as connectors_app
from flows.cli_review import ui, users_app
from flows.cli_vouchers import fx_app, ledger_app, vouchers_app
from ledger.settings import ConfigError, load_chart, load_company, load_environment
from ledger.storage.engine import DatabaseUrlError, database_url, make_engine

DEFAULT_CONFIG = Path("config/example/company.toml")

app = typer.Typer(help="yecai (业财): business-finance integration and reconciliation.\n\n"
                  "Reads orders, deliveries, invoices and bank statements from connectors into a "
                  "database (SQLite by default, PostgreSQL with DATABASE_URL).",
                  no_args_is_help=True, rich_markup_mode="rich")
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
config_app = typer.Typer(help="Company configuration files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(connectors_app, name="connectors")
app.add_typer(vouchers_app, name="vouchers")
app.add_typer(fx_app, name="fx")
app.add_typer(ledger_app, name="ledger")
app.add_typer(users_app, name="users")
app.command("ui")(ui)

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL; default $DATABASE_URL, "
                                              "else sqlite:///yecai.db in the working directory.")]
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Company TOML file.")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


@app.callback()
def _main() -> None:
    load_environment()


def _engine(db: str | None):
    try:
        return make_engine(db)
    except DatabaseUrlError as error:
        raise _fail(str(error)) from None


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the schema to the newest revision."""
    from ledger.storage import migrate

    engine = _engine(db)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    console.print(f"database {engine.url.render_as_string(hide_password=True)}: "
                  f"revision {before or '(empty)'} → {after}")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Show the schema revision of the database and the newest one available."""
    from ledger.storage import migrate

    engine = _engine(db)
    console.print(f"current {migrate.current_revision(engine) or '(empty)'}, "
                  f"newest {migrate.head_revision()}")


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="Company TOML file.")] = DEFAULT_CONFIG) -> None:
    """Validate a company file and its chart of accounts; print what they define."""
    try:
        config = load_company(path)
        chart = load_chart(config)
    except ConfigError as error:
        raise _fail(str(error)) from None
    console.print(f"{path}: company {config.company.id} ({config.company.name}), "
                  f"base currency {config.company.base_currency}, {len(chart.accounts)} accounts, "
                  f"connectors: {', '.join(config.connectors) or 'none'}")


def _ingest(config_path: Path, db: str | None):
    """Every connector of the company into the database; prints this run and the stored counts."""
    from flows.ingest import run_source
    from ledger.storage import migrate
    from ledger.storage.read import counts_by_kind
    from ledger.storage.store import sync_company

    try:
        config = load_company(config_path)
        chart = load_chart(config)
        engine = _engine(db)
    except ConfigError as error:
        raise _fail(str(error)) from None
    migrate.upgrade(engine)
    sync_company(engine, config, chart)
    runs, failed = [], []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} sources"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(config.connectors))
        for name in config.connectors:
            progress.update(task, description=f"ingesting {name}")
            try:
                runs.append(run_source(engine, config, name))
            except (FatalError, ConfigError) as error:  # this source stored nothing; the others go on
                failed.append(f"source {name}: {error}")
            except RetryableError as error:
                failed.append(f"source {name}: {error} (nothing stored; try again later)")
            progress.advance(task)
    _print_runs(runs)
    counts = counts_by_kind(engine, config.company.id)
    table = Table(title=f"{config.company.name} — stored in {database_url(db)}")
    table.add_column("kind")
    table.add_column("records in database", justify="right")
    for kind, count in counts.items():
        table.add_row(kind, str(count))
    console.print(table)
    if failed:
        for message in failed[:-1]:
            err.print(f"[bold red]error:[/] {message}", highlight=False)
        raise _fail(failed[-1])
    return config, chart, engine


@app.command()
def ingest(config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Read every connector of the company into the database and print what was stored.

    Records already stored are counted, not duplicated; a record whose content changed since
    it was stored is reported and the stored one is kept. Bad records are listed with file,
    row and field and never stop the others.
    """
    _ingest(config_path, db)


@app.command()
def sync(config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None,
         as_of: Annotated[str | None, typer.Option("--as-of", help="'Today' for ageing rules, YYYY-MM-DD; "
                                                   "default: the latest document date.")] = None) -> None:
    """The main job, once: ingest every connector, then match, post and raise exceptions.

    Links are stored with their evidence and exceptions are fingerprinted, so a re-run
    updates instead of duplicating.
    """
    from datetime import date

    from flows.match_step import match_company
    from ledger.posting.book import save_drafts
    from ledger.posting.fx import load_rates
    from ledger.posting.templates import load_templates
    from matching.rules import load_rules

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise _fail(f"--as-of {as_of!r}: expected a date YYYY-MM-DD") from None
    config, chart, engine = _ingest(config_path, db)
    try:
        templates, rules = load_templates(chart), load_rules()
    except ConfigError as error:
        raise _fail(str(error)) from None
    with err.status("matching, posting, raising exceptions …"):
        run = match_company(engine, config.company.id, chart=chart, templates=templates, rules=rules,
                            tolerances=config.tolerances, as_of=day,
                            rates=load_rates(engine, config.company.id, config.company.base_currency))
        drafted = save_drafts(engine, config.company.id, run.vouchers)
    _print_match(run.output, len(run.vouchers), run.auto_match_rate, f"matched as of {run.as_of}")
    console.print(f"{len(drafted)} new voucher draft(s) wait for review (yecai vouchers list --state draft)")


@app.command()
def nightly(config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None,
            as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD; default: latest document date.")]
            = None) -> None:
    """Run the nightly sync once as a Prefect flow (tasks per connector with retries, a run
    summary artifact, notifications). Uses PREFECT_API_URL when set, else a temporary local
    Prefect API, which takes some seconds to start."""
    from flows.nightly import nightly_sync

    with err.status("running the nightly flow …"):
        summary = nightly_sync(str(config_path), db, as_of)
    table = Table(title=f"nightly sync of {summary['company']} as of {summary['as_of']}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for source in summary["sources"]:
        table.add_row(f"{source['source']}: read / inserted / rejected",
                      f"{source['read']} / {source['inserted']} / {source['rejected']}")
    for name in summary["failed_sources"]:
        table.add_row(f"{name}: FAILED", summary["failed_sources"][name][:60])
    for kind, count in summary["stored"].items():
        table.add_row(f"{kind} in the database", str(count))
    for decision, count in sorted(summary["links"].items()):
        table.add_row(f"links ({decision})", str(count))
    for code, count in summary["exceptions"].items():
        table.add_row(code, str(count))
    table.add_row("vouchers drafted", str(summary["vouchers_drafted"]))
    table.add_row("auto-match rate", f"{summary['auto_match_rate']:.1%}")
    console.print(table)


def _print_match(output, vouchers: int, auto_match_rate: float, title: str) -> None:
    from collections import Counter

    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for decision, count in sorted(Counter(link.decision.value for link in output.links).items()):
        table.add_row(f"links ({decision})", str(count))
    for code, count in sorted(Counter(item.code.value for item in output.exceptions).items()):
        table.add_row(code, str(count))
    table.add_row("vouchers", str(vouchers))
    table.add_row("auto-match rate", f"{auto_match_rate:.1%}")
    console.print(table)


@app.command()
def reconcile(folder: Annotated[Path, typer.Argument(help="A drop folder in the interchange format "
                                                     "(spec/interchange-v1.md section 1).")],
              out: Annotated[Path, typer.Option("--out", "-o", help="Where links.csv, exceptions.csv and "
                                                "summary.json are written.")],
              as_of: Annotated[str | None, typer.Option("--as-of", help="'Today' for ageing rules, YYYY-MM-DD; "
                                                        "default: the latest document date.")] = None,
              db: Annotated[str | None, typer.Option("--db", help="Database URL; default: a fresh SQLite "
                                                     "file that is deleted afterwards.")] = None) -> None:
    """Reconcile one drop folder end to end: ingest, match, and write the spec's output files.

    Running it twice on the same input writes the same bytes (timings in summary.json aside).
    """
    from datetime import date

    from flows.reconcile import reconcile as run_reconcile

    if not folder.is_dir():
        raise _fail(f"{folder}: not a folder (expected a drop folder with sales_orders.csv, bank/ …)")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise _fail(f"--as-of {as_of!r}: expected a date YYYY-MM-DD") from None
    with err.status(f"reconciling {folder} …"):
        try:
            result = run_reconcile(folder, out, as_of=day, db=db)
        except (DatabaseUrlError, ConfigError) as error:
            raise _fail(str(error)) from None
    summary = result.summary
    table = Table(title=f"{folder} reconciled as of {summary['as_of']}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for kind, count in summary["documents"].items():
        table.add_row(kind, str(count))
    for decision, count in summary["links"].items():
        table.add_row(f"links ({decision})", str(count))
    for code, count in summary["exceptions"].items():
        table.add_row(code, str(count))
    table.add_row("auto-match rate", f"{summary['auto_match_rate']:.1%}")
    console.print(table)
    bad = {name: f for name, f in summary["files"].items() if f["status"] == "error" or f.get("rejected")}
    for name, report in bad.items():
        console.print(f"[red]{name}[/]: {report.get('error') or str(report['rejected']) + ' records rejected'}",
                      highlight=False)
    console.print(f"wrote {out / 'links.csv'}, {out / 'exceptions.csv'}, {out / 'summary.json'}")


def _print_runs(runs) -> None:
    table = Table(title="this run")
    for column in ("source", "read", "inserted", "already stored", "changed (kept original)",
                   "rejected"):
        table.add_column(column, justify="right" if column != "source" else "left")
    for run in runs:
        result = run.result
        table.add_row(run.name, str(run.read), str(sum(result.inserted.values())),
                      str(sum(result.unchanged.values())), str(len(result.changed)),
                      str(len(run.problems)))
    console.print(table)
    for run in runs:
        for kind, number in run.result.changed[:20]:
            console.print(f"[yellow]changed[/] {run.name}: {kind} {number} differs from the stored "
                          f"record; the stored one is kept")
        for problem in run.problems[:50]:
            console.print(f"[red]rejected[/] {run.name}: {problem}", highlight=False, soft_wrap=True)
        if len(run.problems) > 50:
            console.print(f"… and {len(run.problems) - 50} more rejected records")


if __name__ == "__main__":
    app()
