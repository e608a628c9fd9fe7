"""The connector contract: what IT writes to bring a new source in.

A connector declares the document kinds it produces, a pydantic ``Config`` that rejects
unknown keys (secrets are read from the environment, never from config), and ``fetch(since)``
yielding ``Record`` (a canonical document with its source id and the cursor after it) or
``Skipped`` (a bad record, described). Ingest stores records effectively once.

    class MyBank(Connector):
        name = "mybank"
        kinds = frozenset({DocumentKind.BANK_TXN})

        class Config(ConnectorConfig):
            path: str

        def fetch(self, since):
            for row_no, row in enumerate(read(self.config.path), start=2):
                yield Record(document=to_txn(row), source_id=row["id"], cursor=row["id"])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from ledger.counterparties import Counterparty
from ledger.documents import AnyDocument, DocumentKind
from ledger.errors import BadInput


class ConnectorConfig(BaseModel):
    """Base of every connector's configuration: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    document: AnyDocument | Counterparty
    source_id: str
    cursor: str | None = None
    file: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    problem: BadInput


class Connector(ABC):
    name: ClassVar[str]
    kinds: ClassVar[frozenset[DocumentKind]]
    #: True when the connector also yields counterparties (master data) besides documents.
    master_data: ClassVar[bool] = False
    Config: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, config: ConnectorConfig, *, base_path: Path | None = None) -> None:
        if not isinstance(config, self.Config):
            raise TypeError(f"{type(self).__name__} takes {self.Config.__name__}, "
                            f"got {type(config).__name__}")
        self.config = config
        self.base_path = base_path or Path.cwd()

    @classmethod
    def from_options(cls, options: dict, *, base_path: Path | None = None) -> Connector:
        return cls(cls.Config.model_validate(options), base_path=base_path)

    @abstractmethod
    def fetch(self, since: str | None = None) -> Iterator[Record | Skipped]:
        """Yield records newer than ``since`` (a cursor this connector produced earlier)."""
