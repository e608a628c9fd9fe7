"""The nightly sync as a Prefect flow: thin tasks around the steps of flows/pipeline.py.

    lock → prepare → ingest (one task per connector; retried with backoff and jitter on
    RetryableError only, at most ``schedule.concurrency`` at once) → load → match (one task
    per block: o2c, p2p; a DaskTaskRunner spreads them) → persist (links, exceptions, voucher
    drafts) → summary artifacts → notifications

A connector that fails does not stop the others or the matching of what is stored; it is
named in the summary and IT is notified. The database URL is read from $DATABASE_URL by each
task, never passed as a parameter (it may hold a password, and Prefect stores parameters).
"""

from __future__ import annotations

import os
import time

# Offline machines: Prefect's telemetry only logs failures (and locks its SQLite) — keep it off
# unless the operator set these explicitly.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The temporary local API can take long to start on a busy small machine (the default is 20 s).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from connectors.errors import RetryableError
from flows import pipeline
from flows.partition import match_block, merge, partition
from ledger.settings import CompanyConfig, load_company


def _retry_only_retryable(_task, _task_run, state) -> bool:
    """Retry network-ish failures; a fatal error (bad credentials, missing folder) fails at once."""
    return isinstance(state.result(raise_on_failure=False), RetryableError)


# NO_CACHE everywhere: the inputs are whole companies, and hashing them for a cache key would
# cost more than the work (and nothing here may be skipped on a rerun anyway). Whole
# companies travel in an Opaque box (below).
@task(name="ingest", retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=10), retry_jitter_factor=0.5,
      retry_condition_fn=_retry_only_retryable, tags=["yecai-ingest"], cache_policy=NO_CACHE)
def ingest_task(config_path: str, name: str, window: tuple[str, str] | None = None) -> dict:
    return pipeline.ingest_source(config_path, None, name, window)


@task(name="prepare", cache_policy=NO_CACHE)
def prepare_task(config_path: str) -> list[str]:
    return pipeline.prepare(config_path)


@task(name="load", cache_policy=NO_CACHE)
def load_task(config_path: str, as_of: str | None) -> Opaque:
    return Opaque(pipeline.load(config_path, None, as_of))


class Opaque:
    """A value handed to a task as it is. Prefect walks dataclasses, lists and dicts among a
    task's arguments looking for futures; for a company's 100,000 documents that walk costs
    seconds, so they travel inside this (picklable, for Dask) box instead."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value


@task(name="match-block", cache_policy=NO_CACHE)
def match_block_task(block: Opaque, rules, tolerances):
    return Opaque(match_block(block.value, rules, tolerances))


@task(name="persist", cache_policy=NO_CACHE)
def persist_task(config_path: str, inputs: Opaque, output: Opaque) -> dict:
    return pipeline.persist_run(config_path, None, inputs.value, output.value)


@task(name="notify", cache_policy=NO_CACHE)
def notify_task(config_path: str, summary: dict) -> dict:
    return pipeline.notify(config_path, summary)


def artifact_key(company_id: str, what: str) -> str:
    return f"yecai-{company_id.replace('_', '-')}-{what}"


def publish(summary: dict, run: str = "sync") -> None:
    """The run summary as Prefect artifacts: counts per source, exceptions, timings, a digest."""
    company = f"{summary['company']}-{run}"
    create_table_artifact(key=artifact_key(company, "sources"), description="records per connector in this run",
                          table=summary["sources"] + [{"source": name, "failed": error}
                                                      for name, error in summary["failed_sources"].items()]
                          or [{"source": "(none)", "read": 0}])
    create_table_artifact(key=artifact_key(company, "exceptions"), description="exceptions by code: all open "
                          "ones this run found, and those raised for the first time",
                          table=[{"code": code, "found": count, "new": summary["new_exceptions_by_code"].get(code, 0)}
                                 for code, count in sorted({**summary["new_exceptions_by_code"],
                                                            **summary["exceptions"]}.items())]
                          or [{"code": "(none)", "found": 0, "new": 0}])
    create_table_artifact(key=artifact_key(company, "timings"), description="seconds per stage",
                          table=[{"stage": stage, "seconds": seconds} for stage, seconds in summary["seconds"].items()])
    create_markdown_artifact(key=artifact_key(company, "summary"), markdown=pipeline.markdown(summary),
                             description=f"auto-match rate {summary['auto_match_rate']:.1%}")


def _run(config_path: str, as_of: str | None, lock_wait_seconds: float | None,
         window: tuple[str, str] | None = None) -> dict:
    started = time.perf_counter()
    config = load_company(config_path)
    secrets = pipeline.secrets_for(config)
    wait = float(config.schedule.lock_wait_seconds if lock_wait_seconds is None else lock_wait_seconds)
    with pipeline.engine_for(None) as engine, pipeline.locked(engine, config, "replay" if window else "sync", wait):
        names = prepare_task(config_path)
        schedule = config.schedule
        ingest = ingest_task.with_options(retries=schedule.retries, retry_delay_seconds=exponential_backoff(
            backoff_factor=float(schedule.retry_delay_seconds)))
        sources, failed = [], {}
        for first in range(0, len(names), schedule.concurrency):  # at most `concurrency` connectors at once
            futures = {name: ingest.submit(config_path, name, window)
                       for name in names[first:first + schedule.concurrency]}
            for name, future in futures.items():
                future.wait()
                if future.state.is_completed():
                    sources.append(future.result())
                else:
                    failed[name] = pipeline.failure(future.state.result(raise_on_failure=False), secrets)
        loading = time.perf_counter()
        inputs = load_task(config_path, as_of).value
        matching = time.perf_counter()
        output = match_blocks(inputs, config_path)
        seconds = {"load": round(matching - loading, 3), "match": round(time.perf_counter() - matching, 3)}
        matched = persist_task(config_path, Opaque(inputs), Opaque(output))
        summary = pipeline.summarise(config_path, sources, failed, matched,
                                     {**seconds, "total": round(time.perf_counter() - started, 3)}, window)
        publish(summary, "replay" if window else "sync")
        summary["notified"] = notify_task(config_path, summary)
    return summary



def map_blocks(blocks, rules, tolerances) -> list:
    """One task per block on the flow's task runner."""
    futures = [match_block_task.submit(Opaque(block), rules, tolerances) for block in blocks]
    return [future.result().value for future in futures]


def match_blocks(inputs, config_path: str, rules_path: str | None = None):
    rules, tolerances = pipeline.rules_and_tolerances(config_path, rules_path)
    return merge(map_blocks(partition(inputs), rules, tolerances), inputs.resolver)


@flow(name="yecai-sync", log_prints=True)
def nightly_sync(config_path: str = "config/example/company.toml", as_of: str | None = None,
                 lock_wait_seconds: float | None = None) -> dict:
    """Ingest every connector of the company, match, store links and exceptions, draft
    vouchers, publish the summary and notify. One run per company at a time."""
    return _run(config_path, as_of, lock_wait_seconds)


@flow(name="yecai-replay", log_prints=True)
def replay_flow(config_path: str, start: str, end: str, as_of: str | None = None,
                lock_wait_seconds: float | None = None) -> dict:
    """Re-ingest the records dated from ``start`` to ``end`` (ISO dates) from every connector,
    cursors untouched, then match everything again (flows/replay.py)."""
    return _run(config_path, as_of, lock_wait_seconds, (start, end))


@flow(name="yecai-backtest", log_prints=True)
def backtest_flow(config_path: str, rules_path: str, start: str | None = None, end: str | None = None,
                  as_of: str | None = None) -> dict:
    """Which decisions the rules in ``rules_path`` would change on the stored data of the
    window; reads only (flows/replay.py)."""
    from flows.replay import backtest

    report = backtest(config_path, rules_path, None, start, end, as_of, mapper=map_blocks)
    company = load_company(config_path).company.id
    create_table_artifact(key=artifact_key(company, "backtest"),
                          description=f"rules {report['rules']['now']} → {report['rules']['candidate']}: "
                                      f"decisions that would change",
                          table=report["link_changes"][:1000] or [{"change": "(none)"}])
    return report


def for_company(config: CompanyConfig, task_runner=None) -> Flow:
    """The flow with the company's concurrency limit (or ``task_runner``, e.g. a DaskTaskRunner)."""
    return nightly_sync.with_options(task_runner=task_runner or ThreadPoolTaskRunner(
        max_workers=config.schedule.concurrency))


def dask_runner(spec: str):
    """``local:N`` (a LocalCluster of N worker processes) or the address of a running scheduler."""
    from prefect_dask import DaskTaskRunner

    if spec.startswith("local:"):
        return DaskTaskRunner(cluster_kwargs={"n_workers": int(spec.removeprefix("local:")),
                                              "threads_per_worker": 1, "processes": True})
    return DaskTaskRunner(address=spec)
