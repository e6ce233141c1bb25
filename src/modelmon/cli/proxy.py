"""``modelmon proxy``: a capturing reverse proxy in front of any HTTP model server."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from modelmon.capture.layout import check_name
from modelmon.capture.writer import CaptureStats
from modelmon.errors import ConfigError, ModelmonError

if TYPE_CHECKING:  # aiohttp is imported only when the command runs
    from modelmon.capture.proxy import ShadowMirror

__all__ = ["register"]

_OWNER = "modelmon proxy"


def register(commands: Any) -> None:
    proxy = commands.add_parser(
        "proxy",
        help="capture every inference on its way to an HTTP model server",
        description=(
            "Run an HTTP reverse proxy in front of a model server. Clients call the proxy instead "
            "of the server and get the server's answers unchanged; every request and response "
            "(or a sampled share) is captured under --data-dir. The proxy answers 502 when the "
            "server cannot be reached and 504 when it does not answer within --timeout. SIGINT "
            "or SIGTERM stop it gracefully: requests in flight finish, captures are flushed."
        ),
    )
    proxy.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the model server, e.g. http://127.0.0.1:9000",
    )
    proxy.add_argument("--model", required=True, help="model name the captures are filed under")
    proxy.add_argument("--version", default="v1", help="model version (default: %(default)s)")
    proxy.add_argument(
        "--listen",
        default="127.0.0.1:8081",
        metavar="HOST:PORT",
        help="address to listen on; port 0 picks a free one (default: %(default)s)",
    )
    proxy.add_argument("--data-dir", required=True, metavar="DIR", help="capture store directory")
    proxy.add_argument(
        "--sampling-percentage",
        type=float,
        default=100.0,
        metavar="PCT",
        help="share of inferences captured, 0 to 100, chosen by inference id (default: 100)",
    )
    proxy.add_argument(
        "--id-header",
        default="X-Inference-Id",
        metavar="NAME",
        help="header carrying the inference id, kept if the client sends it, else added to the "
        "request and the response (default: %(default)s)",
    )
    proxy.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="longest wait to connect to the upstream or for its next data (default: 30)",
    )
    shadow = proxy.add_argument_group(
        "shadow mode",
        "mirror a share of the captured requests to a challenger once the primary has answered; "
        "its answers are captured as --shadow-version with the primary's inference ids, and "
        "never reach the client",
    )
    shadow.add_argument("--shadow-upstream", metavar="URL", help="the challenger model server")
    shadow.add_argument(
        "--shadow-version", metavar="V", help="version the challenger's answers are filed under"
    )
    shadow.add_argument(
        "--shadow-fraction",
        type=float,
        default=0.1,
        metavar="X",
        help="share of requests mirrored, 0 to 1, chosen by inference id (default: %(default)s)",
    )
    shadow.add_argument(
        "--shadow-timeout",
        type=float,
        metavar="SECONDS",
        help="longest wait for the challenger's whole answer (default: --timeout)",
    )
    proxy.set_defaults(handler=_proxy)


def _proxy(args: argparse.Namespace) -> int:
    try:
        from modelmon.capture import proxy as capture_proxy
    except ImportError as error:
        raise ModelmonError(
            f"modelmon proxy needs the aiohttp package ({error}); install it with "
            "'pip install aiohttp'."
        ) from error

    upstream = capture_proxy.check_upstream(args.upstream, "--upstream", _OWNER)
    host, port = capture_proxy.check_listen(args.listen, "--listen", _OWNER)
    timeout = capture_proxy.check_timeout(args.timeout, "--timeout", _OWNER)
    id_header = capture_proxy.check_header_name(args.id_header, "--id-header", _OWNER)
    model = check_name(args.model, "--model", _OWNER)
    version = check_name(args.version, "--version", _OWNER)
    percentage = args.sampling_percentage
    if not 0.0 <= percentage <= 100.0:
        raise ConfigError(
            f"The '--sampling-percentage' parameter of {_OWNER} must be a number from 0 to 100. "
            f"Got {percentage!r} instead."
        )
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    # The writer only finds out at its first flush, in the background; say so now instead.
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise ConfigError(
            f"The '--data-dir' parameter of {_OWNER} must be a writable directory. "
            f"Got {args.data_dir!r}, which is not writable."
        )

    shadow = _shadow(args, capture_proxy, version, timeout)
    capture = capture_proxy.CaptureProcess(data_dir, sampling=percentage / 100.0)
    proxy = capture_proxy.CaptureProxy(
        str(upstream),
        model=model,
        version=version,
        writer=capture,
        id_header=id_header,
        timeout=timeout,
        shadow=shadow,
    )

    def ready(address: str) -> None:
        mirrored = (
            ""
            if shadow is None
            else f"; mirroring {100 * shadow.fraction:g}% to {shadow.upstream} as {shadow.version}"
        )
        print(
            f"modelmon proxy: listening on {address}, forwarding to {upstream} "
            f"(model {model}, version {version}; capturing {percentage:g}% into {data_dir}"
            f"{mirrored})",
            flush=True,
        )

    async def run() -> CaptureStats:
        await capture.start()
        try:
            await capture_proxy.serve_until_signalled(proxy, host, port, on_ready=ready)
        finally:
            # Requests have drained: everything captured is in the pipe; flush it to disk.
            stats = await capture.close()
        return stats

    with asyncio.Runner(loop_factory=capture_proxy.new_event_loop) as runner:
        stats = runner.run(run())
    print(
        f"modelmon proxy: stopped; {stats.written} inferences captured, {stats.dropped} dropped, "
        f"{stats.failed} lost to write errors, {proxy.capture_errors} capture errors",
        flush=True,
    )
    if shadow is not None:
        counts = shadow.stats
        print(
            f"modelmon proxy: shadow {shadow.version}: {counts.mirrored} requests mirrored, "
            f"{counts.failed} failed at the challenger, {counts.busy} skipped while it was busy, "
            f"{counts.streamed} skipped as streamed",
            flush=True,
        )
    return 0


def _shadow(
    args: argparse.Namespace, capture_proxy: ModuleType, version: str, timeout: float
) -> ShadowMirror | None:
    """The ShadowMirror the shadow flags ask for, or None."""
    if args.shadow_upstream is None:
        if args.shadow_version is not None:
            raise ConfigError(
                f"The '--shadow-version' parameter of {_OWNER} needs --shadow-upstream, the "
                "challenger to mirror requests to."
            )
        return None
    upstream = capture_proxy.check_upstream(args.shadow_upstream, "--shadow-upstream", _OWNER)
    if args.shadow_version is None:
        raise ConfigError(
            f"The '--shadow-upstream' parameter of {_OWNER} needs --shadow-version, the version "
            "the challenger's answers are captured as."
        )
    shadow_version = check_name(args.shadow_version, "--shadow-version", _OWNER)
    if shadow_version == version:
        raise ConfigError(
            f"The '--shadow-version' parameter of {_OWNER} must differ from --version, or the "
            f"two versions' captures would mix. Got {shadow_version!r} for both instead."
        )
    fraction = args.shadow_fraction
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(
            f"The '--shadow-fraction' parameter of {_OWNER} must be a number from 0 to 1. "
            f"Got {fraction!r} instead."
        )
    shadow_timeout = (
        timeout
        if args.shadow_timeout is None
        else capture_proxy.check_timeout(args.shadow_timeout, "--shadow-timeout", _OWNER)
    )
    mirror: ShadowMirror = capture_proxy.ShadowMirror(
        str(upstream), version=shadow_version, fraction=fraction, timeout=shadow_timeout
    )
    return mirror
