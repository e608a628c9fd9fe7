"""One run at a time per company: a lease row in ``run_lock``, on SQLite and PostgreSQL alike.

    with run_lock(engine, "acme", purpose="sync", wait=0):   # RunLocked at once if held
        ...

The row names its holder (a random token), host and pid and expires ``lease`` seconds after
its last renewal; a thread renews it while the holder works. A second start waits up to
``wait`` seconds and then raises ``RunLocked`` saying who holds the lock since when. A holder
that died is taken over without waiting for the lease: at once when it ran on this host and
its pid is gone (SIGKILL, OOM, power cut of a container), else when its lease has expired.
Taking over is a compare-and-set on the old token, so of two waiters only one wins.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from ledger.storage.tables import RunLock

DEFAULT_LEASE = 300.0


class RunLocked(RuntimeError):
    """Another run of the same company holds the lock; the message says which and since when."""


@dataclass(frozen=True, slots=True)
class Holder:
    token: str
    purpose: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _alive(host: str, pid: int) -> bool:
    """False only when the holder ran on this host and its process is gone."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def current_holder(engine: Engine, company_id: str) -> Holder | None:
    table = RunLock.__table__
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.company_id == company_id)).first()
    if row is None:
        return None
    return Holder(row.holder, row.purpose, row.host, row.pid, _aware(row.acquired_at), _aware(row.expires_at))


def try_acquire(engine: Engine, company_id: str, purpose: str, lease: float = DEFAULT_LEASE) -> str | None:
    """The new holder token, or None when a live holder has the lock."""
    table = RunLock.__table__
    token, now = uuid.uuid4().hex, datetime.now(UTC)
    values = {"holder": token, "purpose": purpose, "host": socket.gethostname(), "pid": os.getpid(),
              "acquired_at": now, "expires_at": now + timedelta(seconds=lease)}
    try:
        with engine.begin() as connection:
            connection.execute(table.insert().values(company_id=company_id, **values))
        return token
    except IntegrityError:
        pass
    held = current_holder(engine, company_id)
    if held is None:  # released in between: try once more
        return try_acquire(engine, company_id, purpose, lease)
    if held.expires_at > now and _alive(held.host, held.pid):
        return None
    with engine.begin() as connection:  # compare-and-set on the dead holder's token
        taken = connection.execute(update(table).where(
            (table.c.company_id == company_id) & (table.c.holder == held.token)).values(**values)).rowcount
    return token if taken == 1 else None


def renew(engine: Engine, company_id: str, token: str, lease: float = DEFAULT_LEASE) -> bool:
    table = RunLock.__table__
    with engine.begin() as connection:
        return connection.execute(update(table).where(
            (table.c.company_id == company_id) & (table.c.holder == token)).values(
            expires_at=datetime.now(UTC) + timedelta(seconds=lease))).rowcount == 1


def release(engine: Engine, company_id: str, token: str) -> None:
    table = RunLock.__table__
    with engine.begin() as connection:
        connection.execute(delete(table).where((table.c.company_id == company_id) & (table.c.holder == token)))


def describe(company_id: str, held: Holder | None) -> str:
    if held is None:
        return f"another run of company {company_id!r} holds the run lock"
    return (f"company {company_id!r} is already being processed by a {held.purpose} run "
            f"(pid {held.pid} on {held.host}, since {held.acquired_at:%Y-%m-%d %H:%M:%S} UTC, lease until "
            f"{held.expires_at:%H:%M:%S} UTC); wait for it to finish, or start with a longer --wait")


@contextmanager
def run_lock(engine: Engine, company_id: str, purpose: str, wait: float = 0.0, lease: float = DEFAULT_LEASE,
             poll: float = 1.0) -> Iterator[str]:
    """Hold the company's run lock for the block, renewing it; RunLocked after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while (token := try_acquire(engine, company_id, purpose, lease)) is None:
        if time.monotonic() >= deadline:
            raise RunLocked(describe(company_id, current_holder(engine, company_id)))
        time.sleep(min(poll, max(0.05, deadline - time.monotonic())))
    stop = threading.Event()

    def keep_renewing() -> None:
        while not stop.wait(lease / 3):
            renew(engine, company_id, token, lease)

    renewer = threading.Thread(target=keep_renewing, name=f"run-lock-{company_id}", daemon=True)
    renewer.start()
    try:
        yield token
    finally:
        stop.set()
        renewer.join()
        release(engine, company_id, token)
