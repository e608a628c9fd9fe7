"""Reading untrusted PDF and OFD files in a child process that cannot take the run down.

Before parsing, a file is refused when it is larger than ``max_bytes`` or does not start
with its format's magic bytes (``%PDF-``, or ``PK\\x03\\x04`` for OFD's zip). Parsing runs
in a child process (forked from a fork server that preloaded the parsers) with an
address-space limit (RLIMIT_AS), a CPU limit (RLIMIT_CPU) and a wall-clock limit after which
the parent kills it. Every failure comes back as a reason
string, never an exception:

    >>> read_isolated(Path("x.pdf"), "pdf", Limits(max_bytes=10))
    'file is 2048 bytes, over the 10-byte limit'
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.einvoice.readers import RawDocument, read_document

Kind = Literal["pdf", "ofd"]
MAGIC: dict[str, bytes] = {"pdf": b"%PDF-", "ofd": b"PK\x03\x04"}
Worker = Callable[[str, str, "Limits"], RawDocument]


class Limits(BaseModel):
    """What one untrusted file may cost. Defaults suit real invoices (1-3 pages, < 1 MB)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_pages: int = Field(default=50, gt=0)
    memory_bytes: int = Field(default=1024**3, gt=0)
    cpu_seconds: int = Field(default=30, gt=0)
    wall_seconds: float = Field(default=60, gt=0)
    max_zip_members: int = Field(default=1000, gt=0)
    max_zip_bytes: int = Field(default=100 * 1024 * 1024, gt=0)


def refusal(path: Path, kind: Kind, limits: Limits) -> str | None:
    """Why ``path`` is not even opened by a parser, or None when it may be."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(len(MAGIC[kind]))
    except OSError as error:
        return f"cannot read the file ({error.strerror or error})"
    if size > limits.max_bytes:
        return f"file is {size} bytes, over the {limits.max_bytes}-byte limit"
    if head != MAGIC[kind]:
        return f"not a {kind.upper()} file: it starts with {head!r}, expected {MAGIC[kind]!r}"
    return None


def _lower(limit: int, wanted: int) -> None:
    _soft, hard = resource.getrlimit(limit)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(limit, (value, hard))


def _child(connection: Connection, worker: Worker, path: str, kind: str, limits: Limits) -> None:
    _lower(resource.RLIMIT_AS, limits.memory_bytes)
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds)
    try:
        connection.send(("ok", worker(path, kind, limits)))
    # The isolation boundary: whatever a hostile file makes the parser raise (syntax errors,
    # KeyError, MemoryError, RecursionError...) means "unparseable", and this process ends.
    except BaseException as error:
        connection.send(("error", f"{type(error).__name__}: {error}"[:500]))
    finally:
        connection.close()


@cache
def _context() -> multiprocessing.context.BaseContext:
    """A fork server that has imported the parsers once: each file still gets a fresh child
    with its own limits, but the child starts in milliseconds instead of re-importing pdfplumber.
    Where there is no fork server (not POSIX), a spawned child per file."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["connectors.einvoice.readers"])
    return context


def read_isolated(path: Path, kind: Kind, limits: Limits,
                  worker: Worker = read_document) -> RawDocument | str:
    """The file's text (and embedded invoice data), or why it could not be read."""
    if reason := refusal(path, kind, limits):
        return reason
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, worker, str(path), kind, limits),
                              daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.wall_seconds):
            return f"parsing took longer than {limits.wall_seconds:g} s and was stopped"
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError):
            process.join(5)
            return (f"the parser died (exit code {process.exitcode}; memory limit "
                    f"{limits.memory_bytes} bytes, CPU limit {limits.cpu_seconds} s)")
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    return payload if status == "ok" else f"cannot parse it ({payload})"
