"""``yecai serve``: the nightly sync as a Prefect deployment on the company's cron and time zone.

Schedules need a real Prefect server (the temporary one that ``yecai sync`` starts cannot
schedule). When ``PREFECT_API_URL`` is set, that server is used; else, when nothing answers
at http://127.0.0.1:4200/api, ``prefect server start`` is started as a child process (its
UI at http://127.0.0.1:4200) and stopped with ``serve``. ``limit=1``: after downtime a
backlog of missed runs starts one at a time, not dozens at once (and the run lock keeps a
second run of the company from overlapping anyway).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ledger.settings import CompanyConfig

DEFAULT_API = "http://127.0.0.1:4200/api"


ROOT = Path(__file__).resolve().parent.parent


def _schedule(config: CompanyConfig):
    from prefect.schedules import Cron

    return Cron(config.schedule.cron, timezone=config.schedule.timezone)


def deploy_to_pool(config: CompanyConfig, config_path: Path, pool: str, source: Path = ROOT):
    """Register the nightly deployment with a work pool (e.g. ``--type process``); its
    workers load the flow from ``source`` (this checkout, or the same path on their machine)
    and read DATABASE_URL, the connectors' secrets and YECAI_NOTIFY_* from their environment."""
    from flows.nightly import nightly_sync

    flow = nightly_sync.from_source(source=str(source), entrypoint="flows/nightly.py:nightly_sync")
    return flow.deploy(name=f"{config.company.id}-nightly", work_pool_name=pool, schedules=[_schedule(config)],
                       parameters={"config_path": str(config_path.resolve())}, concurrency_limit=1,
                       description=f"nightly sync of {config.company.name}", tags=["yecai", config.company.id],
                       build=False, push=False, print_next_steps=False)


def deployment(config: CompanyConfig, config_path: Path):
    """The company's nightly deployment (a RunnerDeployment): its cron, its time zone, one at a time."""
    from flows.nightly import for_company

    return for_company(config).to_deployment(
        name=f"{config.company.id}-nightly", schedules=[_schedule(config)],
        parameters={"config_path": str(config_path.resolve())}, concurrency_limit=1,
        description=f"nightly sync of {config.company.name}", tags=["yecai", config.company.id])


def answers(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(api_url: str = DEFAULT_API, wait: float = 120.0,
                 say: Callable[[str], None] = print) -> subprocess.Popen:
    """``prefect server start`` as a child; returns once its API answers."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    prefect = Path(sys.executable).with_name("prefect")
    say(f"no Prefect API answers at {api_url}: starting `prefect server start` (UI at "
        f"{api_url.removesuffix('/api')}) …")
    child = subprocess.Popen([str(prefect), "server", "start"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.STDOUT)
    deadline = time.monotonic() + wait
    while not answers(api_url):
        if child.poll() is not None:
            raise RuntimeError(f"`prefect server start` exited with status {child.returncode}; run it by hand "
                               f"to see why (is port 4200 taken?)")
        if time.monotonic() > deadline:
            child.terminate()
            raise RuntimeError(f"the Prefect server did not answer at {api_url} within {wait:.0f} s")
        time.sleep(1)
    return child


def serve(config: CompanyConfig, config_path: Path, say: Callable[[str], None] = print) -> None:
    """Serve the deployment until interrupted, starting a Prefect server first when none answers."""
    api_url = os.environ.get("PREFECT_API_URL") or DEFAULT_API
    child = None
    if not answers(api_url):
        if os.environ.get("PREFECT_API_URL"):
            raise RuntimeError(f"PREFECT_API_URL={api_url} does not answer: start that server, or unset "
                               f"PREFECT_API_URL to let yecai start a local one")
        child = start_server(api_url, say=say)
    try:
        from prefect import serve as prefect_serve
        from prefect.settings import PREFECT_API_URL, temporary_settings

        say(f"serving {config.company.id}-nightly: cron {config.schedule.cron!r} in {config.schedule.timezone}; "
            f"runs in the UI at {api_url.removesuffix('/api')}/runs (Ctrl-C stops and pauses the schedule)")
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            prefect_serve(deployment(config, config_path), limit=1)
    finally:
        if child is not None:
            child.terminate()
            child.wait(30)
