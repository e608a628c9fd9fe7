"""The connector contract: what IT writes to bring a new source in.

A connector declares the document kinds it produces, a pydantic ``Config`` that rejects
unknown keys (secrets are read from the environment, never from config), and ``fetch(since)``
yielding ``Record`` (a canonical document with its source id and the cursor after it) or
``Skipped`` (a bad record, described). Ingest stores records effectively once.

A source of millions of bank transactions may also offer ``fetch_bulk``, which may yield
``Batch`` (many validated transactions as rows, ``ledger.bank_rows``) in place of one
``Record`` each; ingest reads ``fetch_bulk``, and ``expand`` turns its items back into the
records ``fetch`` gives.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from ledger.bank_rows import BankBatch
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """Bank transactions of one file as rows; each is the record ``bank:account_no:txn_id``."""

    rows: BankBatch
    cursor: str | None = None
    file: str | None = None


def expand(items: Iterable[Record | Skipped | Batch]) -> Iterator[Record | Skipped]:
    """``fetch_bulk``'s items as ``fetch`` gives them: each batch as its records, in order."""
    for item in items:
        if isinstance(item, Batch):
            for txn in item.rows.transactions():
                yield Record(document=txn, source_id=f"bank:{txn.number}", cursor=item.cursor, file=item.file)
        else:
            yield item


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

    def fetch_bulk(self, since: str | None = None) -> Iterator[Record | Skipped | Batch]:
        """``fetch``, where the connector may hand over bank transactions in ``Batch``es."""
        return self.fetch(since)
