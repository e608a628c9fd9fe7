"""``yecai reconcile``: spec/interchange-v1.md section 2, end to end on one drop folder.

Ingest into an embedded database (a fresh SQLite file unless a URL is given), match, and
write links.csv, exceptions.csv and summary.json. Outputs are sorted and carry no run
timestamps (except ``seconds`` in summary.json), so a re-run writes the same bytes.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from connectors.contract import Batch, Record, Skipped
from connectors.dropfolder.connector import DropFolderConnector
from flows.match_step import match_company
from ledger.documents import DocumentKind
from ledger.exceptions import ExceptionItem, unparseable
from ledger.money import Money
from ledger.posting.templates import load_templates
from ledger.posting.vouchers import CSV_COLUMNS, csv_rows
from ledger.settings import ChartOfAccounts, CompanyConfig, CompanySection, Tolerances, load_model
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.read import counts_by_kind
from ledger.storage.store import store
from ledger.storage.tables import Company
from matching.engine import MatchOutput
from matching.model import Decision
from matching.rules import MatchingRules, load_rules

COMPANY_ID = "reconcile"
#: The 企业会计准则 chart the spec's posting rules use.
DEFAULT_CHART = Path(__file__).resolve().parent.parent / "config" / "example" / "chart_of_accounts.toml"
KIND_ORDER = {kind.value: i for i, kind in enumerate(DocumentKind)}
LINK_COLUMNS = ("from_type", "from_no", "to_type", "to_no", "decision", "score", "amount")
EXCEPTION_COLUMNS = ("exception_id", "code", "severity", "doc_type", "doc_no", "amount", "message")


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    summary: dict
    out: Path


def _money(amount: Money | None) -> str:
    return "" if amount is None else format(amount.amount, "f")


def write_links(path: Path, output: MatchOutput) -> None:
    rows = sorted(output.links, key=lambda k: (KIND_ORDER[k.from_type], k.from_no, KIND_ORDER[k.to_type], k.to_no))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LINK_COLUMNS)
        for link in rows:
            writer.writerow([link.from_type, link.from_no, link.to_type, link.to_no, link.decision.value,
                             f"{link.score:.4f}", _money(link.amount)])


def write_exceptions(path: Path, items: list[ExceptionItem]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EXCEPTION_COLUMNS)
        for item in sorted(items, key=lambda i: (i.code.value, i.fingerprint)):
            for document in sorted(item.documents, key=lambda d: (d.doc_type, d.doc_no)):
                writer.writerow([f"EX-{item.fingerprint[:12]}", item.code.value, item.severity.value,
                                 document.doc_type, document.doc_no, _money(document.amount), item.message])


def reconcile(folder: Path, out: Path, as_of: date | None = None, db: str | None = None,
              tolerances: Tolerances | None = None, rules: MatchingRules | None = None) -> ReconcileResult:
    started = time.perf_counter()
    tolerances, rules = tolerances or Tolerances(), rules or load_rules()
    chart = load_model(DEFAULT_CHART, ChartOfAccounts)
    templates = load_templates(chart)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yecai-reconcile-") as scratch:
        engine = make_engine(db or f"sqlite:///{Path(scratch) / 'reconcile.db'}")
        migrate.upgrade(engine)
        _company(engine)
        connector = DropFolderConnector(DropFolderConnector.Config(path=str(folder.resolve())))
        problems = []

        def documents():
            for item in connector.fetch_bulk():
                if isinstance(item, Batch):
                    yield item.rows
                elif isinstance(item, Record):
                    yield item.document
                elif isinstance(item, Skipped):
                    problems.append(item.problem)

        store(engine, COMPANY_ID, "dropfolder", documents(), problems=problems)
        ingested = time.perf_counter()
        counts = counts_by_kind(engine, COMPANY_ID)
        extra = [unparseable(problem, "dropfolder") for problem in problems]
        run = match_company(engine, COMPANY_ID, chart=chart, templates=templates, rules=rules, tolerances=tolerances,
                            as_of=as_of, extra_exceptions=extra)
        engine.dispose()
    output, vouchers, as_of = run.output, run.vouchers, run.as_of
    exceptions = output.exceptions + extra
    write_links(out / "links.csv", output)
    write_exceptions(out / "exceptions.csv", exceptions)
    with (out / "vouchers.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(vouchers))
    decisions = Counter(link.decision.value for link in output.links)
    summary = {
        "files": {name: {"kind": report.kind, "records": report.records, "status": report.status,
                         **({"error": report.error} if report.error else {}),
                         **({"rejected": report.rejected} if report.rejected else {})}
                  for name, report in sorted(connector.report.files.items())},
        "unknown_files": sorted(connector.report.unknown),
        "as_of": as_of.isoformat(),
        "documents": {kind: n for kind, n in counts.items() if n and kind != "counterparty"},
        "counterparties": counts["counterparty"],
        "links": {d.value: decisions.get(d.value, 0) for d in Decision},
        "exceptions": dict(sorted(Counter(item.code.value for item in exceptions).items())),
        "vouchers": len(vouchers),
        "auto_match_rate": run.auto_match_rate,
        "rules_version": rules.version,
        "templates_version": templates.version,
        "seconds": {"ingest": round(ingested - started, 3),
                    "match": round(run.seconds["load"] + run.seconds["match"], 3),
                    "post": run.seconds["post"], "total": round(time.perf_counter() - started, 3)},
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return ReconcileResult(summary=summary, out=out)


def _company(engine) -> None:
    config = CompanyConfig(company=CompanySection(id=COMPANY_ID, name="yecai reconcile"))
    with engine.begin() as connection:
        table = Company.__table__
        if not connection.execute(table.select().where(table.c.id == COMPANY_ID)).first():
            connection.execute(table.insert().values(id=COMPANY_ID, name=config.company.name,
                                                     base_currency=config.company.base_currency))
