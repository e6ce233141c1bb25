"""A capture sink for tests of code that captures (the middleware, the proxy, a user's app).

Shipped with the package, as httpx ships its mock transport, so every test uses one fake.
"""

from __future__ import annotations

from modelmon.capture.records import InferenceEvent

__all__ = ["RecordingSink"]


class RecordingSink:
    """Keeps every submitted event in ``events``; ``keep`` is the sampling answer, and
    ``fail`` makes ``submit`` raise as a broken disk would."""

    def __init__(self, *, keep: bool = True, fail: bool = False) -> None:
        self.keep = keep
        self.fail = fail
        self.events: list[InferenceEvent] = []

    def should_sample(self, inference_id: str) -> bool:
        return self.keep

    def submit(self, event: InferenceEvent) -> bool:
        if self.fail:
            raise OSError("disk on fire")
        self.events.append(event)
        return True
