"""The nightly run as plain steps. flows/nightly.py wraps each step in a Prefect task; ``run``
calls the same steps in order without Prefect (the crash tests and the benchmark use it).

    prepare → ingest_source (each connector) → load → partition → match_block (each block)
            → persist (links, exceptions, voucher drafts) → summarise → notify

Every step opens its own engine from the database URL (``db`` or ``$DATABASE_URL``), so the
steps can run in threads, processes or on Dask workers; the URL, which may carry a password,
is never a flow parameter. The checkpoints of ledger/faults.py sit inside these steps.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from flows.ingest import run_source
from flows.match_step import MatchInputs, load_inputs, persist
from flows.notify import FINANCE, IT, redact, secret_values, send
from flows.partition import match_block, merge, partition
from ledger.exceptions import ExceptionItem
from ledger.faults import checkpoint
from ledger.posting.book import save_drafts
from ledger.posting.fx import load_rates
from ledger.posting.templates import load_templates
from ledger.settings import CompanyConfig, load_chart, load_company
from ledger.storage import migrate
from ledger.storage.engine import database_url, make_engine
from ledger.storage.lock import run_lock
from ledger.storage.read import counts_by_kind
from ledger.storage.store import sync_company
from matching.engine import MatchOutput
from matching.rules import DEFAULT_RULES, load_rules

HIGH = ("high", "critical")
#: Called with a short description of each stage as it starts (the CLI's progress display).
listeners: list[Callable[[str], None]] = []


def report(stage: str) -> None:
    for listener in list(listeners):
        listener(stage)


@contextmanager
def engine_for(db: str | None):
    engine = make_engine(db)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def locked(engine, config: CompanyConfig, purpose: str, wait: float):
    """Migrate (the lock table may be new), then hold the company's run lock."""
    migrate.upgrade(engine)
    with run_lock(engine, config.company.id, purpose, wait=wait):
        yield


def secrets_for(config: CompanyConfig, db: str | None = None) -> list[str]:
    return secret_values([instance.model_dump() for instance in config.connectors.values()], database_url(db))


def prepare(config_path: str, db: str | None = None) -> list[str]:
    """Migrate the schema, write the company and its chart; the names of its connectors."""
    report("preparing the database")
    config = load_company(config_path)
    with engine_for(db) as engine:
        migrate.upgrade(engine)
        sync_company(engine, config, load_chart(config))
    return list(config.connectors)


def _item(item: ExceptionItem) -> dict:
    return {"code": item.code.value, "severity": item.severity.value, "message": item.message}


def ingest_source(config_path: str, db: str | None, name: str, window: tuple[str, str] | None = None) -> dict:
    """Fetch and store one connector (one transaction); what it read and wrote. With
    ``window`` (ISO dates) a replay: everything is fetched, only that window stored."""
    report(f"{'re-ingesting' if window else 'ingesting'} {name}")
    started = time.perf_counter()
    config = load_company(config_path)
    with engine_for(db) as engine:
        run = run_source(engine, config, name, tuple(map(date.fromisoformat, window)) if window else None)
    result = run.result
    extra = {"outside_window": run.outside} if window else {}
    return {"source": name, "read": run.read, **extra, "inserted": sum(result.inserted.values()),
            "unchanged": sum(result.unchanged.values()), "changed": len(result.changed),
            "rejected": len(run.problems), "new_exceptions": [_item(i) for i in result.exceptions.new_items],
            "seconds": round(time.perf_counter() - started, 3)}


def load(config_path: str, db: str | None = None, as_of: str | None = None) -> MatchInputs:
    report("loading what is stored")
    config = load_company(config_path)
    with engine_for(db) as engine:
        return load_inputs(engine, config.company.id, load_rules(DEFAULT_RULES),
                           date.fromisoformat(as_of) if as_of else None)


def rules_and_tolerances(config_path: str, rules_path: str | None = None):
    return load_rules(Path(rules_path) if rules_path else DEFAULT_RULES), load_company(config_path).tolerances


def match_all(inputs: MatchInputs, config_path: str, rules_path: str | None = None,
              mapper: Callable | None = None) -> MatchOutput:
    """Match block by block; ``mapper(blocks, rules, tolerances)`` may spread the blocks."""
    report("matching")
    rules, tolerances = rules_and_tolerances(config_path, rules_path)
    blocks = partition(inputs)
    if mapper is None:
        return merge([match_block(block, rules, tolerances) for block in blocks], inputs.resolver)
    return merge(mapper(blocks, rules, tolerances), inputs.resolver)


def persist_run(config_path: str, db: str | None, inputs: MatchInputs, output: MatchOutput) -> dict:
    """Store links and exceptions, draft the vouchers of new business events; what changed."""
    report("storing links and exceptions, drafting vouchers")
    config = load_company(config_path)
    chart = load_chart(config)
    started = time.perf_counter()
    with engine_for(db) as engine:
        run = persist(engine, config.company.id, inputs, output, chart=chart, templates=load_templates(chart),
                      rates=load_rates(engine, config.company.id, config.company.base_currency))
        drafted = save_drafts(engine, config.company.id, run.vouchers)
        checkpoint("vouchers_drafted")
        stored = counts_by_kind(engine, config.company.id)
    decisions = Counter(link.decision.value for link in output.links)
    return {"as_of": run.as_of.isoformat(), "links": dict(sorted(decisions.items())),
            "auto_match_rate": run.auto_match_rate, "bank_transactions": len(inputs.transactions),
            "exceptions": dict(sorted(Counter(i.code.value for i in output.exceptions).items())),
            "new_exceptions": [_item(i) for i in run.raised.new_items], "vouchers_drafted": len(drafted),
            "stored": stored, "seconds": {**run.seconds, "persist": round(time.perf_counter() - started, 3)}}


def summarise(config_path: str, sources: Sequence[dict], failed: dict[str, str], matched: dict,
              seconds: dict[str, float], window: Sequence[str] | None = None) -> dict:
    config = load_company(config_path)
    new = [item for source in sources for item in source["new_exceptions"]] + matched["new_exceptions"]
    summary = {"company": config.company.id, "company_name": config.company.name,
               "run": f"replay of {window[0]} to {window[1]}" if window else "sync", **matched,
               "sources": [{k: v for k, v in s.items() if k != "new_exceptions"} for s in sources],
               "failed_sources": dict(failed),
               "new_exceptions_by_code": dict(sorted(Counter(item["code"] for item in new).items())),
               "new_high_severity": [item for item in new if item["severity"] in HIGH],
               "seconds": {**{f"ingest {s['source']}": s["seconds"] for s in sources}, **matched["seconds"],
                           **seconds}}
    del summary["new_exceptions"]
    return summary


def markdown(summary: dict) -> str:
    lines = [f"# yecai {summary['run']} of {summary['company']} as of {summary['as_of']}", "",
             f"Auto-match rate **{summary['auto_match_rate']:.1%}** of {summary['bank_transactions']} bank "
             f"transactions; links {summary['links']}; vouchers drafted {summary['vouchers_drafted']}.", "",
             "| source | read | inserted | already stored | changed | rejected | seconds |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {s['source']} | {s['read']} | {s['inserted']} | {s['unchanged']} | {s['changed']} | "
              f"{s['rejected']} | {s['seconds']} |" for s in summary["sources"]]
    lines += [f"| {name} | FAILED: {error} | | | | | |" for name, error in summary["failed_sources"].items()]
    lines += ["", "| new exceptions | count |", "|---|---|"]
    lines += [f"| {code} | {count} |" for code, count in summary["new_exceptions_by_code"].items()] or ["| none | 0 |"]
    if summary["new_high_severity"]:
        lines += ["", "New high-severity exceptions:", ""]
        lines += [f"- {item['code']} ({item['severity']}): {item['message']}" for item in
                  summary["new_high_severity"][:50]]
        if len(summary["new_high_severity"]) > 50:
            lines.append(f"- … and {len(summary['new_high_severity']) - 50} more (see the review queue)")
    return "\n".join(lines)


def notify(config_path: str, summary: dict, db: str | None = None) -> dict[str, bool]:
    """The summary (with new high-severity exceptions) to finance; failed connectors to IT."""
    report("notifying")
    config = load_company(config_path)
    secrets = secrets_for(config, db)
    company = config.company.id
    sent = {"finance": send(FINANCE, f"yecai {company}: {summary['run']} as of {summary['as_of']}", markdown(summary),
                            secrets)}
    if summary["failed_sources"]:
        sent["it"] = send(IT, f"yecai {company}: {len(summary['failed_sources'])} connector(s) failed",
                          "\n".join(f"{name}: {error}" for name, error in summary["failed_sources"].items()),
                          secrets)
    checkpoint("notified")
    return sent


def failure(error: BaseException, secrets: Sequence[str]) -> str:
    return redact(f"{type(error).__name__}: {error}", secrets)[:500]


def run(config_path: str, db: str | None = None, as_of: str | None = None, wait: float = 0.0,
        rules_path: str | None = None, window: tuple[str, str] | None = None) -> dict:
    """The whole nightly run without Prefect, holding the company's run lock; with ``window``
    (ISO dates) a replay of that window (flows/replay.py)."""
    started = time.perf_counter()
    config = load_company(config_path)
    secrets = secrets_for(config, db)
    with engine_for(db) as engine, locked(engine, config, "replay" if window else "sync", wait):
        names = prepare(config_path, db)
        sources, failed = [], {}
        for name in names:
            try:
                sources.append(ingest_source(config_path, db, name, window))
            except Exception as error:  # one failing source never stops the others
                failed[name] = failure(error, secrets)
        loading = time.perf_counter()
        inputs = load(config_path, db, as_of)
        matching = time.perf_counter()
        output = match_all(inputs, config_path, rules_path)
        seconds = {"load": round(matching - loading, 3), "match": round(time.perf_counter() - matching, 3)}
        matched = persist_run(config_path, db, inputs, output)
        summary = summarise(config_path, sources, failed, matched,
                            {**seconds, "total": round(time.perf_counter() - started, 3)}, window)
        summary["notified"] = notify(config_path, summary, db)
    return summary
