"""``yecai connectors new NAME``: a working connector, a sample and its one-line contract test.

The generated connector reads a simple bank CSV (id, date, amount, counterparty, memo); IT
replaces the parsing with the real source's and regenerates the golden file with
``YECAI_REGENERATE_GOLDEN=1``. Everything it writes passes the contract suite as generated.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from connectors.registry import BUILTIN
from connectors.testkit import write_golden

CONNECTOR = '''"""{title} connector (made by `yecai connectors new {name}`).

Reads a bank CSV export with the columns id, date, amount, counterparty, memo: one row per
transaction, ``id`` increasing, ``amount`` signed (positive is money in). The cursor is the
last id read, so ``fetch(since=cursor)`` yields only rows added after it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from connectors.contract import Connector, ConnectorConfig, Record, Skipped
from connectors.dropfolder.csvfile import FileError, decode, parse_date, parse_decimal
from connectors.errors import FatalError
from ledger.documents import BankTransaction, DocumentKind
from ledger.errors import BadInput, FieldError
from ledger.money import Money


class {cls}(Connector):
    name = "{name}"
    kinds = frozenset({{DocumentKind.BANK_TXN}})

    class Config(ConnectorConfig):
        path: str
        account_no: str
        currency: str = "CNY"

    def fetch(self, since: str | None = None) -> Iterator[Record | Skipped]:
        path = self.base_path / self.config.path
        try:
            text, _encoding = decode(path.read_bytes(), path.name)
        except (OSError, FileError) as error:
            raise FatalError(f"{name}: cannot read {{path}}: {{error}}") from None
        for row_no, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
            if since is not None and row["id"] <= since:
                continue
            try:
                day: date = parse_date("date", row["date"])
                txn = BankTransaction(account_no=self.config.account_no, txn_id=row["id"], booking_date=day,
                                      value_date=day, amount=Money(parse_decimal("amount", row["amount"]),
                                                                   self.config.currency),
                                      counterparty=row["counterparty"], remittance=row["memo"])
            except FieldError as error:
                yield Skipped(problem=BadInput.from_field_error(path.name, row_no, error))
                continue
            yield Record(document=txn, source_id=f"bank:{{txn.number}}", cursor=row["id"], file=path.name)
'''

TEST = '''"""The shared contract suite against the {name} connector and its sample."""

from pathlib import Path

from connectors.{name}.connector import {cls}
from connectors.testkit import connector_tests

HERE = Path(__file__).parent

OPTIONS = {{"path": str(HERE / "sample.csv"), "account_no": "6222000000000001"}}

Test{cls}Contract = connector_tests({cls}, OPTIONS, golden=HERE / "sample.golden.jsonl")
'''

SAMPLE = """id,date,amount,counterparty,memo
000001,2026-11-02,12800.00,青岛海尔智家股份有限公司,货款 44001234
000002,2026-11-03,-3495.99,东莞市立讯精密工业有限公司,付26316900000000000110货款
000003,2026-11-05,-28.00,中国工商银行,11月账户管理费
000004,2026-11-31,5.00,Northwind Traders GmbH,row with an impossible date
"""

NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class ScaffoldError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Scaffolded:
    connector: Path
    test: Path
    sample: Path
    golden: Path
    import_path: str


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Connector"


def scaffold(name: str, root: Path) -> Scaffolded:
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(f"connector name {name!r}: expected lower-case letters, digits and _ "
                            f"(2–41 characters, starting with a letter), e.g. acme_bank")
    package = root / "connectors" / name
    tests = root / "tests" / "connectors" / name
    if name in BUILTIN or package.exists() or tests.exists():
        raise ScaffoldError(f"connector {name!r} exists already ({package}); choose another name")
    cls = class_name(name)
    package.mkdir(parents=True)
    tests.mkdir(parents=True)
    (package / "__init__.py").write_text(f'"""The {name} connector."""\n', encoding="utf-8")
    connector = package / "connector.py"
    connector.write_text(CONNECTOR.format(name=name, cls=cls, title=name.replace("_", " ").title()),
                         encoding="utf-8")
    (tests / "__init__.py").write_text("", encoding="utf-8")
    sample = tests / "sample.csv"
    sample.write_text(SAMPLE, encoding="utf-8")
    test = tests / f"test_{name}.py"
    test.write_text(TEST.format(name=name, cls=cls), encoding="utf-8")
    golden = tests / "sample.golden.jsonl"
    write_golden(golden, list(_load(connector, cls).from_options(
        {"path": str(sample), "account_no": "6222000000000001"}).fetch()))
    return Scaffolded(connector, test, sample, golden, f"connectors.{name}.connector:{cls}")


def _load(path: Path, cls: str) -> type:
    """Import the generated module from its file, whatever the current import path says."""
    spec = importlib.util.spec_from_file_location(f"_yecai_scaffold_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return getattr(module, cls)
