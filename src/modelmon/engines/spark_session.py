"""Starting a Spark session for the spark engine: the optional import, the master, the defaults.

pyspark is an optional extra (``pip install 'modelmon[spark]'``); it is imported here, inside
functions, only when the spark engine is chosen.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from modelmon.errors import ConfigError

__all__ = [
    "DEFAULT_MASTER",
    "check_master",
    "quiet_pandas_warning",
    "require_pyspark",
    "start_session",
]

DEFAULT_MASTER = "local[*]"
_CONNECT_TIMEOUT = 5.0  # seconds to wait for a standalone master's port before giving up
_MIN_PYSPARK = (4, 0)


def require_pyspark() -> ModuleType:
    """The pyspark module, or a ConfigError that says how to install it."""
    try:
        import pyspark
    except ImportError as error:
        raise ConfigError(
            "The spark engine needs PySpark, which is not installed: run "
            "pip install 'modelmon[spark]' (PySpark >= 4.0 and Java 17 or newer), "
            "or use --engine local."
        ) from error
    version = tuple(int(part) for part in pyspark.__version__.split(".")[:2] if part.isdigit())
    if version < _MIN_PYSPARK:
        raise ConfigError(
            f"The spark engine needs PySpark >= 4.0; found {pyspark.__version__}. "
            "Run pip install -U 'modelmon[spark]'."
        )
    return pyspark


def check_master(master: str) -> None:
    """Refuse a master URL Spark would not accept, and a standalone master that is not there.

    Spark itself retries an unreachable ``spark://`` master for about a minute before it gives up
    with a log line; a TCP connect answers in at most a few seconds with a clear message.
    """
    if not isinstance(master, str) or not master.strip():
        raise ConfigError(f"The Spark master must be a non-empty string. Got {master!r} instead.")
    local = re.fullmatch(r"local(\[(\d+|\*)(,\d+)?\])?", master) is not None
    if not local and not master.startswith(("spark://", "yarn", "k8s://", "mesos://")):
        raise ConfigError(
            f"Spark master {master!r} is not a master URL: expected local, local[N], local[*], "
            "spark://HOST:PORT, yarn or k8s://URL."
        )
    if not master.startswith("spark://"):
        return
    for host, port in _standalone_addresses(master):
        try:
            with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT):
                return  # one live master of a high-availability list is enough
        except OSError as error:
            reason = error.strerror or type(error).__name__
            problem = f"{host}:{port} ({reason})"
    raise ConfigError(
        f"Cannot reach the Spark master {master!r}: {problem}. Check that the master is "
        "running and that this machine can reach its port (7077 by default), or use "
        "--spark-master local[*] to run Spark on this machine."
    )


def _standalone_addresses(master: str) -> list[tuple[str, int]]:
    """The host:port pairs of ``spark://h1:p1,h2:p2`` (a standalone master, possibly with HA)."""
    addresses = []
    for item in master[len("spark://") :].split(","):
        parts = urlsplit(f"spark://{item}")
        try:
            port = parts.port or 7077
        except ValueError:
            port = -1
        if not parts.hostname or port < 1:
            raise ConfigError(
                f"Spark master {master!r} is not a valid spark://HOST:PORT address (at {item!r})."
            )
        addresses.append((parts.hostname, port))
    return addresses


def start_session(master: str, conf: Mapping[str, str] | None = None) -> Any:
    """Get or create the Spark session for ``master`` with settings that suit profiling.

    On a local master the driver binds to 127.0.0.1 and the web UI is off: a VM's hostname
    often resolves to an address Spark then advertises, and a UI port is not wanted from a CLI.
    """
    require_pyspark()
    check_master(master)
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    settings = {
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # A profile is a few KiB per column; more partitions only add tasks to merge.
        "spark.sql.shuffle.partitions": "16",
    }
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings |= {
            "spark.ui.enabled": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
        }
    settings |= dict(conf or {})
    builder = SparkSession.builder.master(master).appName("modelmon")
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with quiet_pandas_warning():
            session = builder.getOrCreate()
    except (PySparkException, OSError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(
            f"Spark did not start with master {master!r}: {first}. Is Java 17 or newer "
            "installed (java -version, or set JAVA_HOME)?"
        ) from error
    # Failures reach the user as modelmon errors with Spark's reason; the JVM's own stack traces
    # on stderr would bury them.
    session.sparkContext.setLogLevel("FATAL")
    return session


@contextmanager
def quiet_pandas_warning() -> Iterator[None]:
    """Silence PySpark's warning about pandas 3: the engine hands Spark Arrow batches, not pandas
    frames, so the pandas features the warning is about are not used."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield
