"""Which inferences to capture: a share of them, chosen per inference id or at random.

Deterministic sampling keeps an inference when the first 8 bytes of SHA-256(id as UTF-8), read as
a big-endian unsigned integer, are below ``rate * 2**64``. The rule is stable across processes,
machines and languages (Spark's ``sha2``, SQL's ``SHA256``), so a label pipeline can sample its
labels exactly as the capture did and a request and its label are kept or dropped together.
"""

from __future__ import annotations

import hashlib
import random

from modelmon.errors import ConfigError

__all__ = ["Sampler", "check_rate", "keeps_id"]

_SCALE = 1 << 64


def check_rate(rate: object, owner: str, parameter: str = "sampling") -> float:
    """``rate`` as a float in [0, 1], or a ConfigError in the usual format."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be a float in the range [0, 1] "
            f"(the share of inferences captured). Got {rate!r} instead."
        )
    return float(rate)


def keeps_id(inference_id: str, rate: float) -> bool:
    """Whether deterministic sampling at ``rate`` keeps ``inference_id`` (see the module doc)."""
    digest = hashlib.sha256(inference_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") < rate * _SCALE


class Sampler:
    """Decides per inference whether to capture it; ``rng`` makes random sampling reproducible."""

    def __init__(
        self, rate: float, *, deterministic: bool = True, rng: random.Random | None = None
    ) -> None:
        self.rate = rate
        self.deterministic = deterministic
        self._random = (rng or random.Random()).random

    def keep(self, inference_id: str) -> bool:
        if self.rate >= 1.0:
            return True
        if self.rate <= 0.0:
            return False
        if self.deterministic:
            return keeps_id(inference_id, self.rate)
        return self._random() < self.rate
