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


def deployment(config: CompanyConfig, config_path: Path):
    """The company's nightly deployment (a RunnerDeployment): its cron, its time zone, one at a time."""
    from prefect.schedules import Cron

    from flows.nightly import for_company

    return for_company(config).to_deployment(
        name=f"{config.company.id}-nightly", schedules=[Cron(config.schedule.cron, timezone=config.schedule.timezone)],
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
