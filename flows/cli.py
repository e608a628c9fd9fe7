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
                  no_args_is_help=True, rich_markup_mode="markdown")
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True, rich_markup_mode="markdown")
config_app = typer.Typer(help="Company configuration files.", no_args_is_help=True, rich_markup_mode="markdown")
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


AsOfOption = Annotated[str | None, typer.Option("--as-of", help="'Today' for ageing rules, YYYY-MM-DD; "
                                                "default: the latest document date.")]
WaitOption = Annotated[float | None, typer.Option("--wait", help="Seconds to wait when another run of the company "
                                                  "holds the run lock; default: schedule.lock_wait_seconds.")]


def _date(value: str | None, option: str) -> str | None:
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        raise _fail(f"{option} {value!r}: expected a date YYYY-MM-DD") from None


def _run_flow(what: str, call, config_path: Path, db: str | None):
    """Run a flow in this process on Prefect (PREFECT_API_URL, else a temporary local API),
    showing each stage as it starts."""
    import os

    from flows import pipeline
    from ledger.storage.lock import RunLocked

    try:
        config = load_company(config_path)
        load_chart(config)
        if db:
            os.environ["DATABASE_URL"] = database_url(db)  # read by every task; never a flow parameter
        database_url()
    except (ConfigError, DatabaseUrlError) as error:
        raise _fail(str(error)) from None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                  transient=True) as progress:
        stage = progress.add_task(f"{what}: starting Prefect (a temporary local API takes some seconds)")
        listener = lambda text: progress.update(stage, description=f"{what}: {text}")  # noqa: E731
        pipeline.listeners.append(listener)
        try:
            return call(config)
        except RunLocked as error:
            raise _fail(str(error)) from None
        finally:
            pipeline.listeners.remove(listener)


@app.command()
def sync(config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None, as_of: AsOfOption = None,
         wait: WaitOption = None,
         dask: Annotated[str | None, typer.Option("--dask", help="Spread the tasks with Dask: 'local:N' for N "
                                                  "local worker processes, or a scheduler address "
                                                  "tcp://host:8786.")] = None) -> None:
    """The nightly sync, once, as a Prefect flow: ingest every connector (retried when it fails
    with a retryable error), match, store links and exceptions, draft vouchers, publish the run
    summary as artifacts and notify (YECAI_NOTIFY_FINANCE, YECAI_NOTIFY_IT).

    Uses PREFECT_API_URL when set (watch the run in that server's UI), else a temporary
    local Prefect API, which takes some seconds to start. A re-run updates instead of
    duplicating; one run per company at a time.
    """
    from flows.nightly import dask_runner, for_company

    day = _date(as_of, "--as-of")
    summary = _run_flow("sync", lambda config: for_company(config, dask_runner(dask) if dask else None)(
        str(config_path), day, wait), config_path, db)
    _print_summary(summary)


@app.command()
def replay(start: Annotated[str, typer.Option("--from", help="First day of the window, YYYY-MM-DD.")],
           end: Annotated[str, typer.Option("--to", help="Last day of the window, YYYY-MM-DD.")],
           config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None, as_of: AsOfOption = None,
           wait: WaitOption = None) -> None:
    """Re-ingest a date window from every connector (read from the start, cursors untouched,
    records outside the window left alone) and match everything again, as a Prefect flow.
    Records already stored are counted, changed ones raise SOURCE_CHANGED."""
    from flows.nightly import for_company, replay_flow

    start, end, day = _date(start, "--from"), _date(end, "--to"), _date(as_of, "--as-of")
    if start > end:
        raise _fail(f"--from {start} is after --to {end}")
    summary = _run_flow("replay", lambda config: replay_flow.with_options(
        task_runner=for_company(config).task_runner)(str(config_path), start, end, day, wait), config_path, db)
    _print_summary(summary)


@app.command()
def backtest(rules: Annotated[Path, typer.Option("--rules", help="The candidate matching rules (a copy of "
                                                 "config/matching.toml with another version).")],
             start: Annotated[str | None, typer.Option("--from", help="First day of the data, YYYY-MM-DD.")] = None,
             end: Annotated[str | None, typer.Option("--to", help="Last day of the data, YYYY-MM-DD.")] = None,
             out: Annotated[Path | None, typer.Option("--out", help="Write the full report here (JSON).")] = None,
             config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Apply another matching rule version to stored past data and report which decisions would
    change, as a Prefect flow. Reads only: nothing in the database changes."""
    import json

    from flows.nightly import backtest_flow
    from matching.rules import load_rules

    try:
        load_rules(rules)
    except ConfigError as error:
        raise _fail(str(error)) from None
    start, end = _date(start, "--from"), _date(end, "--to")
    report = _run_flow("backtest", lambda config: backtest_flow(str(config_path), str(rules), start, end),
                          config_path, db)
    table = Table(title=f"backtest: rules {report['rules']['now']} → {report['rules']['candidate']} on "
                        f"{report['documents']} documents and {report['bank_transactions']} bank transactions")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("links compared", str(report["links_compared"]))
    for change, count in report["decisions_changed"].items():
        table.add_row(f"decision {change}", str(count))
    table.add_row("exceptions that would appear / go away",
                  f"{sum(e['change'] == 'would appear' for e in report['exception_changes'])} / "
                  f"{sum(e['change'] == 'would go away' for e in report['exception_changes'])}")
    table.add_row("bank transactions newly / no longer settled",
                  f"{len(report['newly_settled'])} / {len(report['no_longer_settled'])}")
    rate = report["auto_match_rate"]
    table.add_row("auto-match rate now → would be", f"{rate['now']:.1%} → {rate['would_be']:.1%}")
    console.print(table)
    for change in report["link_changes"][:30]:
        console.print(f"{change['from_type']} {change['from_no']} → {change['to_type']} {change['to_no']}: "
                      f"{change['now']} → {change['would_be']}", highlight=False)
    if out:
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"wrote {out}")
    console.print("nothing was changed in the database")


@app.command()
def serve(config_path: ConfigOption = DEFAULT_CONFIG, db: DbOption = None) -> None:
    """Serve the nightly sync as a Prefect deployment on the company's schedule (schedule.cron
    and schedule.timezone, e.g. 0 2 * * * Asia/Shanghai), one run at a time, until Ctrl-C.

    Uses the Prefect server at PREFECT_API_URL; when it is unset and nothing answers at
    http://127.0.0.1:4200, starts `prefect server start` as a child (UI at that address).
    """
    import os

    from flows.serve import serve as serve_deployment

    try:
        config = load_company(config_path)
        load_chart(config)
        if db:
            os.environ["DATABASE_URL"] = database_url(db)
    except (ConfigError, DatabaseUrlError) as error:
        raise _fail(str(error)) from None
    try:
        serve_deployment(config, config_path, say=lambda text: err.print(text, highlight=False))
    except RuntimeError as error:
        raise _fail(str(error)) from None


@app.command()
def deploy(pool: Annotated[str, typer.Option("--pool", help="A Prefect work pool, e.g. made with `prefect "
                                             "work-pool create yecai --type process`.")],
           config_path: ConfigOption = DEFAULT_CONFIG) -> None:
    """Register the nightly sync with a Prefect work pool on the company's schedule, for when
    one machine is not enough: start `prefect worker start --pool NAME` on each machine (with
    DATABASE_URL pointing at PostgreSQL and the connectors' secrets in its environment).
    Needs PREFECT_API_URL (a `prefect server start`, ideally on PostgreSQL)."""
    import os

    from flows.serve import answers, deploy_to_pool

    try:
        config = load_company(config_path)
        load_chart(config)
    except ConfigError as error:
        raise _fail(str(error)) from None
    api_url = os.environ.get("PREFECT_API_URL")
    if not api_url or not answers(api_url):
        raise _fail("deploying needs a running Prefect server: set PREFECT_API_URL (e.g. "
                    "http://127.0.0.1:4200/api after `prefect server start`)")
    deployment_id = deploy_to_pool(config, config_path, pool)
    console.print(f"deployed {config.company.id}-nightly ({deployment_id}) to work pool {pool}: cron "
                  f"{config.schedule.cron!r} in {config.schedule.timezone}; start workers with "
                  f"`prefect worker start --pool {pool}`")


def _print_summary(summary: dict) -> None:
    table = Table(title=f"{summary['run']} of {summary['company']} as of {summary['as_of']}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for source in summary["sources"]:
        table.add_row(f"{source['source']}: read / inserted / already stored / changed / rejected",
                      f"{source['read']} / {source['inserted']} / {source['unchanged']} / {source['changed']} / "
                      f"{source['rejected']}")
    for name, error in summary["failed_sources"].items():
        table.add_row(f"{name}: FAILED", error[:80])
    for kind, count in summary["stored"].items():
        table.add_row(f"{kind} in the database", str(count))
    for decision, count in summary["links"].items():
        table.add_row(f"links ({decision})", str(count))
    for code, count in summary["exceptions"].items():
        new = summary["new_exceptions_by_code"].get(code, 0)
        table.add_row(code, f"{count} ({new} new)" if new else str(count))
    table.add_row("vouchers drafted", str(summary["vouchers_drafted"]))
    table.add_row("auto-match rate", f"{summary['auto_match_rate']:.1%}")
    console.print(table)
    if summary["vouchers_drafted"]:
        console.print(f"{summary['vouchers_drafted']} new voucher draft(s) wait for review "
                      f"(yecai vouchers list --state draft)")


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
    console.print("wrote " + ", ".join(str(out / name) for name in
                                       ("links.csv", "exceptions.csv", "vouchers.csv", "summary.json")))


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
