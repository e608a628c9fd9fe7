"""Run configured connectors and store what they yield (plain functions; flows stay thin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError
from sqlalchemy import Engine

from connectors.contract import Connector, Record, Skipped
from connectors.errors import FatalError
from connectors.registry import resolve
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
        for item in connector.fetch(since):
            if isinstance(item, Record):
                run.read += 1
                dated = getattr(item.document, "date", None)
                if window and dated is not None and not window[0] <= dated <= window[1]:
                    run.outside += 1
                    continue
                if item.cursor is not None:
                    position[0] = item.cursor
                yield item.document
            elif isinstance(item, Skipped):
                run.problems.append(item.problem)
            else:  # a connector bug, not bad data
                raise FatalError(f"connector {name!r} yielded {type(item).__name__}, expected Record or Skipped")
        checkpoint("fetched")

    run.result = store(engine, config.company.id, name, documents(), problems=run.problems,
                       cursor=None if window else (lambda: position[0]))
    return run
