"""One run at a time per company: a second start waits or is refused with a clear message; a
holder that was killed or whose lease ran out is taken over (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from ledger.storage.lock import RunLocked, current_holder, release, run_lock, try_acquire
from ledger.storage.tables import RunLock


def test_a_second_start_is_refused_with_who_holds_it_and_the_lock_is_released(migrated) -> None:
    with run_lock(migrated, "acme", "sync"):
        with (pytest.raises(RunLocked, match=r"already being processed by a sync run \(pid \d+ on .+, since"),
              run_lock(migrated, "acme", "replay")):
            pass
        with run_lock(migrated, "other", "sync"):  # per company
            pass
    assert current_holder(migrated, "acme") is None
    with run_lock(migrated, "acme", "replay"):
        assert current_holder(migrated, "acme").purpose == "replay"


def test_a_second_start_waits_for_the_first_to_finish(migrated) -> None:
    order = []
    held = threading.Event()

    def first() -> None:
        with run_lock(migrated, "acme", "sync"):
            held.set()
            time.sleep(1.0)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(10)
    with run_lock(migrated, "acme", "sync", wait=30, poll=0.1):
        order.append("second started")
    thread.join()
    assert order == ["first done", "second started"]


def test_a_killed_holder_is_taken_over_at_once(migrated) -> None:
    migrated.dispose()
    pid = os.fork()
    if pid == 0:
        try:
            try_acquire(migrated, "acme", "sync")
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    assert current_holder(migrated, "acme").pid == pid
    with run_lock(migrated, "acme", "sync"):  # no wait: the holder's pid is gone on this host
        assert current_holder(migrated, "acme").pid == os.getpid()


def test_an_expired_lease_of_another_host_is_taken_over_and_only_once(migrated) -> None:
    token = try_acquire(migrated, "acme", "sync", lease=60)
    table = RunLock.__table__
    with migrated.begin() as connection:
        connection.execute(update(table).values(host="elsewhere", pid=1))
    assert try_acquire(migrated, "acme", "sync") is None  # alive elsewhere until the lease ends
    with migrated.begin() as connection:
        connection.execute(update(table).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    winners = [try_acquire(migrated, "acme", "sync"), try_acquire(migrated, "acme", "sync")]
    assert winners[0] is not None and winners[1] is None
    release(migrated, "acme", token)  # the old holder's release does not free the new holder's lock
    assert current_holder(migrated, "acme").token == winners[0]


def test_the_lease_is_renewed_while_the_holder_works(migrated) -> None:
    with run_lock(migrated, "acme", "sync", lease=0.6):
        first = current_holder(migrated, "acme").expires_at
        time.sleep(0.5)
        assert current_holder(migrated, "acme").expires_at > first
        assert try_acquire(migrated, "acme", "sync") is None
