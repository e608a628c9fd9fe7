"""Reading untrusted PDF and OFD files in child processes that cannot take the run down.

Before parsing, a file is refused when it is larger than ``max_bytes`` or does not start
with its format's magic bytes (``%PDF-``, or ``PK\\x03\\x04`` for OFD's zip). Parsing runs
in a child process (forked from a fork server that preloaded the parsers and the CJK CMaps)
with an address-space limit (RLIMIT_AS), a CPU limit (RLIMIT_CPU) and a wall-clock limit
after which the parent kills it.

``SandboxPool`` keeps such children alive to read many files each, one at a time, with the
same limits for every file: the address space stays capped at ``memory_bytes``, before each
file the CPU limit is moved to the CPU used so far plus ``cpu_seconds``, and the parent
waits ``wall_seconds`` for each answer. A child that fails in any way (over a limit, killed,
crashed, or its parser raised) is never used again: the next file gets a fresh one, so one
hostile file cannot leave state behind for the next. Children are also replaced after
``files_per_child`` files. ``read_isolated`` is the one-file form. Every failure comes back
as a reason string, never an exception:

    >>> read_isolated(Path("x.pdf"), "pdf", Limits(max_bytes=10))
    'file is 2048 bytes, over the 10-byte limit'
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import resource
import threading
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


def _limit(limit: int, wanted: int) -> None:
    """Set the soft limit to ``wanted``, never above the hard limit."""
    _soft, hard = resource.getrlimit(limit)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(limit, (value, hard))


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _serve(connection: Connection, worker: Worker, limits: Limits) -> None:
    """A child's loop: read a (path, kind) request, answer ``("ok", document, cpu)`` or
    ``("error", reason, cpu)`` (the CPU seconds the file took); after an error, or when the
    parent closes the pipe, exit."""
    _limit(resource.RLIMIT_AS, limits.memory_bytes)
    reported = 0.0  # CPU already reported; the first file's share includes the child's start
    while True:
        try:
            path, kind = connection.recv()
        except (EOFError, OSError):
            return
        _limit(resource.RLIMIT_CPU, math.ceil(_cpu_used()) + limits.cpu_seconds)
        try:
            document = worker(path, kind, limits)
            spent, reported = _cpu_used() - reported, _cpu_used()
            connection.send(("ok", document, spent))
        # The isolation boundary: whatever a hostile file makes the parser raise (syntax errors,
        # KeyError, MemoryError, RecursionError...) means "unparseable", and this process ends.
        except BaseException as error:
            connection.send(("error", f"{type(error).__name__}: {error}"[:500],
                             _cpu_used() - reported))
            connection.close()
            return


@cache
def _context() -> multiprocessing.context.BaseContext:
    """A fork server that has imported the parsers (and the CJK CMaps) once: a fresh child
    starts in milliseconds instead of re-importing pdfplumber. Where there is no fork server
    (not POSIX), spawned children."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["connectors.einvoice.preload"])
    return context


class _Child:
    """One sandboxed child process and the parent's end of its pipe."""

    def __init__(self, worker: Worker, limits: Limits) -> None:
        context = _context()
        self.connection, theirs = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(theirs, worker, limits), daemon=True)
        self.process.start()
        theirs.close()
        self.files = 0

    def read(self, path: Path, kind: Kind,
             limits: Limits) -> tuple[bool, RawDocument | str, float]:
        """(whether the child may read another file, the document or why not, the CPU
        seconds it reported for the file)."""
        self.files += 1
        self.connection.send((str(path), kind))
        if not self.connection.poll(limits.wall_seconds):
            return False, f"parsing took longer than {limits.wall_seconds:g} s and was stopped", 0.0
        try:
            status, payload, cpu = self.connection.recv()
        # EOF: it died; anything else: it died writing its answer (a half-written pickle)
        except Exception:
            self.process.join(5)
            return False, (f"the parser died (exit code {self.process.exitcode}; memory limit "
                           f"{limits.memory_bytes} bytes, CPU limit {limits.cpu_seconds} s)"), 0.0
        if status == "ok":
            return True, payload, cpu
        return False, f"cannot parse it ({payload})", cpu

    def close(self) -> None:
        self.connection.close()
        if self.process.is_alive():
            self.process.join(0.5)  # it exits once it sees the pipe closed
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


class SandboxPool:
    """Sandboxed children reused across files (see the module doc); safe to share between
    threads, each ``read`` taking an idle child or starting one. Use it as a context manager,
    or ``close()`` it, to end the children."""

    def __init__(self, limits: Limits, worker: Worker = read_document, *,
                 files_per_child: int = 200) -> None:
        self.limits, self.worker, self.files_per_child = limits, worker, files_per_child
        self._idle: queue.SimpleQueue[_Child] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._children: set[_Child] = set()
        #: CPU seconds the children spent on files, as they reported them (a killed child's
        #: file is not counted): the cost that the parent's own CPU time does not show.
        self.cpu_seconds = 0.0

    def read(self, path: Path, kind: Kind) -> RawDocument | str:
        """The file's text (and embedded invoice data), or why it could not be read."""
        if reason := refusal(path, kind, self.limits):
            return reason
        child = self._take()
        try:
            reusable, result, cpu = child.read(path, kind, self.limits)
        except (BrokenPipeError, ConnectionResetError):  # it died between two files: not this file's doing
            self._drop(child)
            child = self._take(fresh=True)
            try:
                reusable, result, cpu = child.read(path, kind, self.limits)
            except (BrokenPipeError, ConnectionResetError):
                reusable, result, cpu = False, "the parser process could not be started", 0.0
        with self._lock:
            self.cpu_seconds += cpu
        if reusable and child.files < self.files_per_child:
            self._idle.put(child)
        else:
            self._drop(child)
        return result

    def _take(self, *, fresh: bool = False) -> _Child:
        if not fresh:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
        child = _Child(self.worker, self.limits)
        with self._lock:
            self._children.add(child)
        return child

    def _drop(self, child: _Child) -> None:
        with self._lock:
            self._children.discard(child)
        child.close()

    def close(self) -> None:
        with self._lock:
            children, self._children = list(self._children), set()
        for child in children:
            child.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def read_isolated(path: Path, kind: Kind, limits: Limits,
                  worker: Worker = read_document) -> RawDocument | str:
    """The file's text (and embedded invoice data), or why it could not be read, in a
    child of its own."""
    with SandboxPool(limits, worker) as pool:
        return pool.read(path, kind)
