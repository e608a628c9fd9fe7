"""``yecai connectors``: list, check (dry run) and scaffold connectors."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from connectors.contract import Batch, Record, Skipped, expand
from connectors.errors import FatalError, RetryableError
from connectors.registry import BUILTIN, available
from connectors.scaffold import ScaffoldError, scaffold
from flows.ingest import build_connector
from ledger.counterparties import Counterparty
from ledger.settings import ConfigError, load_company

app = typer.Typer(help="Connectors: list them, dry-run one, scaffold a new one.", no_args_is_help=True,
                  rich_markup_mode="markdown")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
DEFAULT_CONFIG = Path("config/example/company.toml")


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


@app.command("list")
def list_connectors(config_path: Annotated[Path, typer.Option("--config", "-c")] = DEFAULT_CONFIG) -> None:
    """Connector types this installation knows (built-in and entry points), and the company's instances."""
    table = Table(title="connector types")
    table.add_column("type")
    table.add_column("from")
    table.add_column("class")
    for name, path in sorted(available().items()):
        table.add_row(name, "built-in" if name in BUILTIN else "entry point (yecai.connectors)", path)
    console.print(table)
    if config_path.is_file():
        try:
            config = load_company(config_path)
        except ConfigError as error:
            raise _fail(str(error)) from None
        instances = Table(title=f"instances in {config_path}")
        instances.add_column("name")
        instances.add_column("type")
        for name, instance in config.connectors.items():
            instances.add_row(name, instance.type)
        console.print(instances)


@app.command("check")
def check(name: Annotated[str, typer.Argument(help="A connector instance named in the company file.")],
          config_path: Annotated[Path, typer.Option("--config", "-c")] = DEFAULT_CONFIG,
          show: Annotated[int, typer.Option(help="How many records to show.")] = 5) -> None:
    """Validate an instance's configuration and dry-run its fetch: counts and the first records.

    Nothing is written to the database.
    """
    try:
        config = load_company(config_path)
        if name not in config.connectors:
            raise ConfigError(f"{config_path}: no connector instance {name!r} (found: "
                              f"{', '.join(config.connectors) or 'none'})")
        connector = build_connector(config, name)
        kinds, records, problems = _dry_run(connector, show)
    except (ConfigError, FatalError, RetryableError) as error:
        raise _fail(str(error)) from None
    console.print(f"{name} ({config.connectors[name].type}): configuration valid; dry run read "
                  f"{kinds.total()} records, {len(problems)} problems; nothing was written")
    table = Table(title="records by kind")
    table.add_column("kind")
    table.add_column("records", justify="right")
    for kind, count in sorted(kinds.items()):
        table.add_row(kind, str(count))
    console.print(table)
    for record in records[:show]:
        document = record.document
        summary = getattr(document, "number", getattr(document, "counterparty_id", ""))
        console.print(f"  {record.source_id}  ({record.file})  {summary}", highlight=False)
    for problem in problems[:show]:
        console.print(f"  [red]problem[/] {problem}", highlight=False)


def _dry_run(connector, show: int) -> tuple[Counter, list[Record], list]:
    """Counts by kind, the first ``show`` records and every problem of a fetch, holding no more:
    a statement of a million rows is counted batch by batch, not expanded."""
    kinds: Counter = Counter()
    records: list[Record] = []
    problems = []
    for item in connector.fetch_bulk(None):
        if isinstance(item, Skipped):
            problems.append(item.problem)
            continue
        if isinstance(item, Batch):
            kinds["bank_txn"] += len(item.rows)
            if len(records) < show:
                records += islice(expand([item]), show - len(records))
            continue
        kinds["counterparty" if isinstance(item.document, Counterparty) else item.document.kind.value] += 1
        if len(records) < show:
            records.append(item)
    return kinds, records, problems


@app.command("new")
def new(name: Annotated[str, typer.Argument(help="Lower-case name, e.g. acme_bank.")],
        root: Annotated[Path, typer.Option(help="Project root to write into.")] = Path(".")) -> None:
    """Scaffold a connector, a sample and its one-line contract test (which passes as generated)."""
    try:
        made = scaffold(name, root)
    except ScaffoldError as error:
        raise _fail(str(error)) from None
    console.print(f"created {made.connector}\ncreated {made.sample}\ncreated {made.test}\n"
                  f"created {made.golden}\n\nrun its contract suite:  .venv/bin/pytest {made.test}\n"
                  f"use it in a company file:\n  [connectors.{name}]\n  type = \"{made.import_path}\"\n"
                  f"  path = \"...\"\n  account_no = \"...\"\n"
                  f"or ship it as a package with an entry point in group yecai.connectors.", highlight=False)
