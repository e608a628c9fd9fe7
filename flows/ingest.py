"""Run configured connectors and store what they yield (plain functions; flows stay thin)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from pydantic import ValidationError
from sqlalchemy import Engine

from connectors.contract import Batch, Connector, Record, Skipped
from connectors.errors import FatalError
from connectors.registry import resolve
from ledger.bank_rows import BankBatch
from ledger.errors import BadInput
from ledger.faults import checkpoint
from ledger.settings import CompanyConfig, ConfigError
from ledger.storage.store import StoreResult, read_cursor, store


@dataclass(slots=True)
class SourceRun:
    name: str
    read: int = 0
    outside: int = 0  # records a replay left alone: dated outside its window
    problems: list[BadInput] = field(default_factory=list)
    result: StoreResult | None = None


def build_connector(config: CompanyConfig, name: str) -> Connector:
    instance = config.connectors[name]
    cls = resolve(instance.type)
    options = instance.model_dump(exclude={"type"})
    try:
        return cls.from_options(options, base_path=config.resolve("."))
    except ValidationError as error:
        details = "; ".join(f"key 'connectors.{name}.{'.'.join(map(str, e['loc']))}': "
                            f"{e['msg']} (found {e.get('input')!r})" for e in error.errors())
        raise ConfigError(f"{config.source_path}: {details}") from None


def _within(item: Record | Batch, window: tuple[date, date], run: SourceRun) -> Record | Batch | None:
    """What of ``item`` is dated in the window (counterparties have no date and always are)."""
    if isinstance(item, Batch):
        first, last = window[0].isoformat(), window[1].isoformat()
        rows = [row for row in item.rows.rows if first <= row[2] <= last]  # booking dates, ISO text
        run.outside += len(item.rows) - len(rows)
        return replace(item, rows=BankBatch(rows)) if rows else None
    dated = getattr(item.document, "date", None)
    if dated is not None and not window[0] <= dated <= window[1]:
        run.outside += 1
        return None
    return item


def run_source(engine: Engine, config: CompanyConfig, name: str,
               window: tuple[date, date] | None = None) -> SourceRun:
    """Fetch one source and store it in one transaction, streaming: nothing is held in full.

    With ``window`` (a replay) the source is read from its beginning, only records dated in
    the window (and counterparties) are stored, and the cursor is left where it was.
    """
    connector = build_connector(config, name)
    run = SourceRun(name=name)
    since = None if window else read_cursor(engine, config.company.id, name)
    position = [since]

    def documents():
        for item in connector.fetch_bulk(since):
            if isinstance(item, Record | Batch):
                run.read += len(item.rows) if isinstance(item, Batch) else 1
                if window and (item := _within(item, window, run)) is None:
                    continue
                if item.cursor is not None:
                    position[0] = item.cursor
                yield item.rows if isinstance(item, Batch) else item.document
            elif isinstance(item, Skipped):
                run.problems.append(item.problem)
            else:  # a connector bug, not bad data
                raise FatalError(f"connector {name!r} yielded {type(item).__name__}, expected Record, Batch or Skipped")
        checkpoint("fetched")

    run.result = store(engine, config.company.id, name, documents(), problems=run.problems,
                       cursor=None if window else (lambda: position[0]))
    return run
