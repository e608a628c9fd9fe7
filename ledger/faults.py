"""Named checkpoints through a run, and a way to crash at one of them on purpose.

Every stage of the nightly run calls ``checkpoint(name)`` where its effects are (or are not
yet) durable. In production it does nothing but compare a string. A test sets
``YECAI_CRASH_AT=<name>`` (or ``<name>:<n>`` for the n-th time the checkpoint is reached) and
the process kills itself with SIGKILL there, so no ``finally``, no rollback handler and no
atexit hook runs: what is in the database is what a power cut would leave.

    fetched            the connector's records are read (nothing of this source committed yet)
    staged             records and bank rows written inside the source's transaction
    cursor_advanced    the source's cursor written, same transaction, not committed
    committed          the source's transaction committed
    matched            matching done in memory, nothing of it written
    links_saved        links written inside the matching transaction, not committed
    exceptions_raised  links and exception items committed together
    vouchers_drafted   voucher drafts committed
    vouchers_numbered  numbers assigned inside the posting transaction, not committed
    posted             the posting transaction committed
    notified           the notifications sent
"""

from __future__ import annotations

import os
import signal
from collections import Counter

CHECKPOINTS = ("fetched", "staged", "cursor_advanced", "committed", "matched", "links_saved",
               "exceptions_raised", "vouchers_drafted", "vouchers_numbered", "posted", "notified")
CRASH_VARIABLE = "YECAI_CRASH_AT"
_reached: Counter = Counter()


def checkpoint(name: str) -> None:
    """Mark ``name`` as reached; SIGKILL this process when YECAI_CRASH_AT asks for it."""
    target = os.environ.get(CRASH_VARIABLE)
    if not target:
        return
    if name not in CHECKPOINTS:
        raise ValueError(f"unknown checkpoint {name!r} (known: {', '.join(CHECKPOINTS)})")
    wanted, _, nth = target.partition(":")
    if wanted != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
