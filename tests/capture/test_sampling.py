"""Sampling: deterministic per inference id (reproducible anywhere), or random."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.capture.sampling import Sampler, check_rate, keeps_id
from modelmon.errors import ConfigError


def test_the_rule_is_the_documented_sha256_prefix() -> None:
    # A label pipeline can reproduce this in SQL or Spark: sha2(id, 256), first 16 hex digits.
    prefix = int(hashlib.sha256(b"order-17").hexdigest()[:16], 16)
    rate = prefix / 2**64
    assert keeps_id("order-17", rate + 1e-9)
    assert not keeps_id("order-17", rate - 1e-9)


@given(st.text(), st.floats(0, 1))
def test_deterministic_sampling_is_stable_and_monotone_in_the_rate(
    inference_id: str, rate: float
) -> None:
    sampler = Sampler(rate)
    first = sampler.keep(inference_id)
    assert sampler.keep(inference_id) == first
    if first:
        assert Sampler(min(1.0, rate + 0.1)).keep(inference_id)


def test_the_share_kept_is_close_to_the_rate() -> None:
    kept = sum(keeps_id(f"req-{i}", 0.2) for i in range(20_000))
    assert 0.19 < kept / 20_000 < 0.21


def test_random_sampling_is_reproducible_with_a_seeded_rng() -> None:
    first = Sampler(0.5, deterministic=False, rng=random.Random(7))
    second = Sampler(0.5, deterministic=False, rng=random.Random(7))
    decisions = [first.keep("same") for _ in range(100)]
    assert decisions == [second.keep("same") for _ in range(100)]
    assert 20 < sum(decisions) < 80


@pytest.mark.parametrize("rate", [-0.1, 1.01, "0.5", True, float("nan")])
def test_rates_outside_zero_one_are_refused(rate: object) -> None:
    with pytest.raises(ConfigError, match=r"'sampling' parameter of Capture must be a float"):
        check_rate(rate, "Capture")
