"""A real HTTP receiver on 127.0.0.1 for tests of webhooks and Slack-style channels.

with WebhookReceiver() as hook:
    send("webhook", {"url": hook.url}, payload)
    assert hook.received == [payload]

Shipped with the package (as ``modelmon.capture.testing`` is) so every test uses one receiver.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["WebhookReceiver"]


class WebhookReceiver:
    """Keeps every POSTed JSON body in ``received`` (and its headers in ``headers``) and
    answers ``status``: set it to 500 to make deliveries fail, back to 200 to recover."""

    def __init__(self, path: str = "/hook") -> None:
        self.received: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                ok = receiver.status < 300
                if ok:
                    receiver.received.append(body)
                    receiver.headers.append(dict(self.headers))
                self.send_response(receiver.status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if ok else b"broken")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
