"""The nightly sync as a Prefect flow: thin tasks around the plain functions of ``flows``.

    ingest (one task per connector; retried with backoff and jitter on RetryableError only)
      → match, post drafts, raise exceptions → run summary artifact → notifications

A connector that fails does not stop the others or the matching of what is stored; it is
named in the summary and IT is notified. Apprise URLs come from the environment
(YECAI_NOTIFY_FINANCE, YECAI_NOTIFY_IT) and are never logged.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date

# Offline machines: Prefect's telemetry only logs failures (and locks its SQLite) — keep it off
# unless the operator set these explicitly.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.tasks import exponential_backoff

from connectors.errors import RetryableError
from flows.ingest import run_source
from flows.match_step import match_company
from ledger.posting.book import save_drafts
from ledger.posting.fx import load_rates
from ledger.posting.templates import load_templates
from ledger.settings import load_chart, load_company
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.read import counts_by_kind
from ledger.storage.store import sync_company
from matching.rules import load_rules


def _retry_only_retryable(_task, _task_run, state) -> bool:
    """Retry network-ish failures; a fatal error (bad credentials, missing folder) fails at once."""
    return isinstance(state.result(raise_on_failure=False), RetryableError)


@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=5), retry_jitter_factor=0.5,
      retry_condition_fn=_retry_only_retryable, tags=["yecai-ingest"])
def ingest_source(config_path: str, db: str | None, name: str) -> dict:
    config = load_company(config_path)
    run = run_source(make_engine(db), config, name)
    return {"source": name, "read": run.read, "inserted": sum(run.result.inserted.values()),
            "unchanged": sum(run.result.unchanged.values()), "changed": len(run.result.changed),
            "rejected": len(run.problems)}


@task
def match_and_post(config_path: str, db: str | None, as_of: str | None) -> dict:
    config = load_company(config_path)
    chart = load_chart(config)
    engine = make_engine(db)
    run = match_company(engine, config.company.id, chart=chart, templates=load_templates(chart),
                        rules=load_rules(), tolerances=config.tolerances,
                        as_of=date.fromisoformat(as_of) if as_of else None,
                        rates=load_rates(engine, config.company.id, config.company.base_currency))
    drafted = save_drafts(engine, config.company.id, run.vouchers)
    decisions = Counter(link.decision.value for link in run.output.links)
    return {"as_of": run.as_of.isoformat(), "links": dict(decisions), "auto_match_rate": run.auto_match_rate,
            "exceptions": dict(sorted(Counter(i.code.value for i in run.output.exceptions).items())),
            "high_severity": sum(i.severity.value in ("high", "critical") for i in run.output.exceptions),
            "vouchers_drafted": len(drafted), "seconds": run.seconds}


def notify(variable: str, title: str, body: str) -> bool:
    """Send through apprise to the URLs in ``variable`` (comma separated); False when none are set."""
    urls = [url.strip() for url in os.environ.get(variable, "").split(",") if url.strip()]
    if not urls:
        return False
    import apprise

    sender = apprise.Apprise()
    for url in urls:
        sender.add(url)
    return bool(sender.notify(title=title, body=body))


@flow(name="yecai-nightly-sync", log_prints=True)
def nightly_sync(config_path: str = "config/example/company.toml", db: str | None = None,
                 as_of: str | None = None) -> dict:
    config = load_company(config_path)
    engine = make_engine(db)
    migrate.upgrade(engine)
    sync_company(engine, config, load_chart(config))
    futures = {name: ingest_source.submit(config_path, db, name) for name in config.connectors}
    sources, failed = [], {}
    for name, future in futures.items():
        state = future.wait() or future.state
        if state.is_completed():
            sources.append(future.result())
        else:
            failed[name] = str(state.result(raise_on_failure=False))[:300]
    summary = match_and_post(config_path, db, as_of)
    summary.update(company=config.company.id, sources=sources, failed_sources=failed,
                   stored=counts_by_kind(engine, config.company.id))
    create_table_artifact(key="yecai-ingest", table=sources or [{"source": "-", "read": 0}],
                          description="records per source in this run")
    create_markdown_artifact(key="yecai-run-summary", markdown=_markdown(summary),
                             description="nightly sync summary")
    notify("YECAI_NOTIFY_FINANCE", f"yecai {config.company.id}: nightly sync", _markdown(summary))
    if failed:
        notify("YECAI_NOTIFY_IT", f"yecai {config.company.id}: connector failure",
               "\n".join(f"{name}: {error}" for name, error in failed.items()))
    return summary


def _markdown(summary: dict) -> str:
    lines = [f"# Nightly sync of {summary['company']} as of {summary['as_of']}", "",
             f"auto-match rate **{summary['auto_match_rate']:.1%}**, links {summary['links']}, "
             f"vouchers drafted {summary['vouchers_drafted']}", "", "| exception | count |", "|---|---|"]
    lines += [f"| {code} | {count} |" for code, count in summary["exceptions"].items()]
    if summary["failed_sources"]:
        lines += ["", "Failed sources: " + ", ".join(summary["failed_sources"])]
    return "\n".join(lines)
