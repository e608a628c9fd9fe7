"""A cursor for file-based connectors: a digest of the files' names and contents.

``fetch(since=digest)`` over unchanged files yields nothing; any change re-reads them all, and
effectively-once storage keeps only what is new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def files_digest(paths: Iterable[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
