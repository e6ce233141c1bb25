"""Flush every live capture writer when the process ends, and start afresh in a forked child.

Installed once, when the first writer is tracked:

* ``atexit``: a normal interpreter exit (end of script, ``sys.exit``) closes every writer.
* SIGTERM, if nothing handles it yet (its handler is the default, and we are on the main thread,
  where Python allows setting one): close every writer, then terminate as the default action
  would. A program with its own SIGTERM handler (uvicorn, gunicorn, the proxy), installed before
  or after, is left alone: it drains its requests in flight, still capturing them, and exits
  normally, through ``atexit``.
* ``os.register_at_fork``: a forked child (a pre-fork server's worker) gets fresh locks, an empty
  queue and no thread; its writer starts a thread of its own on its first event. Records still
  queued in the parent stay the parent's to write.

SIGKILL cannot be caught: what was queued since the last flush is lost (at most one flush
interval, one second by default).
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import weakref
from types import FrameType
from typing import Protocol

__all__ = ["Closable", "track", "untrack"]


class Closable(Protocol):
    def close(self) -> None: ...
    def _after_fork_in_child(self) -> None: ...


_writers: weakref.WeakSet[Closable] = weakref.WeakSet()
_lock = threading.Lock()
_hooks_installed = False
_sigterm_installed = False


def track(writer: Closable) -> None:
    """Close ``writer`` at exit and on SIGTERM, reset it after a fork."""
    global _hooks_installed
    with _lock:
        _writers.add(writer)
        if not _hooks_installed:
            atexit.register(_close_all)
            os.register_at_fork(after_in_child=_after_fork)
            _hooks_installed = True
        _install_sigterm()


def untrack(writer: Closable) -> None:
    with _lock:
        _writers.discard(writer)


def _close_all() -> None:
    for writer in list(_writers):
        writer.close()


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # the parent's may have been held by another thread at fork time
    for writer in list(_writers):
        writer._after_fork_in_child()


def _install_sigterm() -> None:
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return  # handled (or ignored) on purpose by the program: its exit reaches atexit
    signal.signal(signal.SIGTERM, _on_sigterm)
    _sigterm_installed = True


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _close_all()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)  # end the way SIGTERM ends a process, as if we were not here
