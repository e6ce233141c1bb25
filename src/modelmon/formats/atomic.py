"""Atomic file writes: readers see the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from modelmon.errors import ConfigError

__all__ = ["atomic_file", "output_directory"]


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file that replaces it only once complete.

    The temporary file sits in the same directory (same filesystem, so the rename is atomic),
    is flushed to disk before the rename, and is removed if the writing fails.
    """
    target = Path(path)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL never reuses a file someone else created; mode 0o666 lets the umask decide, as
    # for any new file (tempfile.mkstemp would force 0o600).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some platforms and filesystems cannot sync a directory,
    # and the file itself is already safe by then.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def output_directory(directory: str | os.PathLike[str]) -> Path:
    """``directory``, created if needed, where a command writes its files; a ConfigError if it
    is a file."""
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"The output {str(out)!r} exists and is not a directory.")
    out.mkdir(parents=True, exist_ok=True)
    return out
