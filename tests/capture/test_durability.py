"""Durability with real processes: SIGTERM and interpreter exit flush everything, SIGKILL loses at
most the last flush interval, and several processes writing at once never clobber each other.

Each child logs records numbered 1, 2, 3... and prints each number once it is logged (its
heartbeat), so the parent knows how many were logged when it stopped the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modelmon.capture import read_captures

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

FLUSH_INTERVAL = 0.2
CHILD = f"""
import signal, sys, time
from modelmon.capture import Capture

data_dir, count, name, own_handler = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if own_handler == "yes":  # a server with its own graceful shutdown, as uvicorn has
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
capture = Capture("churn", "v1", data_dir=data_dir, flush_interval={FLUSH_INTERVAL})
i = 0
while count == 0 or i < count:
    i += 1
    capture.log({{"i": i, "writer": name}}, i % 2, inference_id=f"{{name}}-{{i}}")
    print(i, flush=True)
    if count == 0:
        time.sleep(0.0002)  # a steady load rather than a burst
if name == "close":
    capture.close()
    print("files", capture.stats.files_written, flush=True)
# otherwise: no close(); the interpreter's exit must flush
"""


class Child:
    """A child process logging records, its heartbeat read as it comes with arrival times."""

    def __init__(
        self, data_dir: Path, count: int = 0, name: str = "a", own_handler: bool = False
    ) -> None:
        env = {**os.environ, "PYTHONWARNINGS": "error"}
        handler = "yes" if own_handler else "no"
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), str(count), name, handler],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.stderr = ""
        self.beats: list[tuple[float, int]] = []  # (monotonic time, records logged)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())
            if line.strip().isdigit():
                self.beats.append((time.monotonic(), int(line)))

    def wait_for(self, logged: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.beats or self.beats[-1][1] < logged:
            assert self.process.poll() is None, "the child ended early"
            assert time.monotonic() < deadline, "the child did not log in time"
            time.sleep(0.01)

    def finish(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()
        return code

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join()
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()

    @property
    def logged(self) -> int:
        return self.beats[-1][1] if self.beats else 0


Spawn = Callable[..., Child]


@pytest.fixture
def spawn() -> Iterator[Callable[..., Child]]:
    """Starts children; kills any still running and closes their pipes after the test."""
    children: list[Child] = []

    def start(data_dir: Path, count: int = 0, name: str = "a", own_handler: bool = False) -> Child:
        children.append(Child(data_dir, count, name, own_handler))
        return children[-1]

    yield start
    for child in children:
        child.cleanup()


def on_disk(data_dir: Path) -> list[str]:
    table = read_captures(data_dir, "churn", with_labels=False)
    return table.column("inference_id").to_pylist()


@pytest.mark.parametrize("own_handler", [False, True], ids=["default-sigterm", "app-handler"])
def test_sigterm_flushes_every_record_logged(
    tmp_path: Path, spawn: Spawn, own_handler: bool
) -> None:
    child = spawn(tmp_path, own_handler=own_handler)
    child.wait_for(3000)
    child.process.send_signal(signal.SIGTERM)
    code = child.finish()
    # The process ends the way it would without modelmon: killed by the signal, or by its own
    # handler's exit (then atexit writes what is queued).
    assert code == (0 if own_handler else -signal.SIGTERM)
    ids = on_disk(tmp_path)
    # Every record whose heartbeat was printed is on disk; at most the one being logged when the
    # signal came is there without its heartbeat.
    assert len(ids) == len(set(ids))
    assert child.logged <= len(ids) <= child.logged + 1
    assert set(ids) >= {f"a-{i}" for i in range(1, child.logged + 1)}


def test_sigkill_loses_at_most_the_last_flush_interval(tmp_path: Path, spawn: Spawn) -> None:
    child = spawn(tmp_path)
    child.wait_for(3000)
    killed_at = time.monotonic()
    child.process.kill()
    assert child.finish() == -signal.SIGKILL
    ids = on_disk(tmp_path)  # also proves every file on disk is whole and readable
    lost = child.logged - len(ids)
    # What was logged before the last interval (plus time for the write in flight) is on disk.
    cutoff = killed_at - FLUSH_INTERVAL - 0.5
    safe = max((n for t, n in child.beats if t <= cutoff), default=0)
    assert set(ids) >= {f"a-{i}" for i in range(1, safe + 1)}
    assert 0 <= lost <= child.logged - safe
    print(f"SIGKILL after {child.logged} records: {lost} lost, {len(ids)} on disk")


def test_interpreter_exit_flushes_without_close(tmp_path: Path, spawn: Spawn) -> None:
    child = spawn(tmp_path, count=2000, name="exit")
    assert child.finish() == 0, child.stderr
    assert len(on_disk(tmp_path)) == 2000


def test_concurrent_processes_never_overwrite_each_other(tmp_path: Path, spawn: Spawn) -> None:
    children = [spawn(tmp_path, count=1000, name=name) for name in ("w1", "w2", "close")]
    codes = [child.finish() for child in children]
    assert codes == [0, 0, 0], [child.stderr for child in children]
    ids = on_disk(tmp_path)
    expected = {f"{name}-{i}" for name in ("w1", "w2", "close") for i in range(1, 1001)}
    assert len(ids) == len(expected)
    assert set(ids) == expected
    files = list(tmp_path.rglob("*.parquet"))
    assert len({p.name for p in files}) == len(files)
    assert all(pq.read_metadata(p).num_rows >= 0 for p in files)
    assert not [p for p in tmp_path.rglob(".*.tmp")]
    # The writer that closed explicitly reports as many files as it left on disk.
    reported = int(children[2].lines[-1].split()[1])
    own = [p for p in files if str(pq.read_table(p)["inference_id"][0]).startswith("close-")]
    assert reported == len(own)
