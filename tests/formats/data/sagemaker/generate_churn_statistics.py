"""Regenerate churn_statistics.json: a churn baseline in the shape SageMaker writes.

The AWS notebook (sagemaker.md [NB]) shows only the head of each feature: 2333 rows, min, max,
sum and the first items of sketch level 0. This script builds columns that match those exactly
(sum, min, max, the level-0 prefix) with a plausible spread, then computes the statistics the way
Deequ does: population std_dev, a KLL sketch fed row by row (QuantileNonSample with k = 2048,
c = 0.64) and 10 equal-width buckets counted from the sketch's ranks.

Run from the repository root:
``.venv/bin/python tests/formats/data/sagemaker/generate_churn_statistics.py``
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modelmon.formats.sagemaker import (
    FeatureStatistics,
    KllBucket,
    KllSketch,
    NumericalStatistics,
    Statistics,
    write_statistics,
)

ROWS = 2333
SKETCH_K = 2048
SKETCH_C = 0.64
BUCKETS = 10


@dataclass(frozen=True)
class Column:
    """One feature: the notebook's min, max, sum and level-0 prefix, and how to draw the rest.

    Values are drawn from a normal(center, spread), then ``zero_share`` of them set to 0.
    """

    name: str
    fractional: bool
    minimum: float
    maximum: float
    total: float
    center: float
    spread: float
    prefix: tuple[float, ...]
    zero_share: float = 0.0

    @property
    def scale(self) -> int:
        return 10 if self.fractional else 1  # Fractional columns have one decimal


COLUMNS = (
    Column("Churn", False, 0, 1, 325, 0.14, 0.35, (0, 0, 0, 0, 0, 0, 0, 0, 1)),
    Column("Account Length", False, 1, 243, 236279, 101.3, 39.6, (119, 100, 111, 181, 95, 104, 70)),
    Column("VMail Message", False, 0, 51, 19164, 29.65, 7.6, (19, 0, 0, 40, 36, 0, 0, 24), 0.723),
    Column(
        "Day Mins",
        True,
        0,
        350.8,
        420468.4,
        180.2,
        54.0,
        (178.1, 160.3, 197.1, 105.2, 283.1, 113.6),
    ),
    Column("Day Calls", False, 0, 165, 233905, 100.3, 20.2, (110, 138, 117, 61, 112, 87, 122)),
    Column(
        "Eve Mins",
        True,
        31.2,
        361.8,
        466716.9,
        200.1,
        50.0,
        (212.8, 221.3, 227.8, 341.3, 286.2, 158.6),
    ),
    Column("Eve Calls", False, 12, 170, 232306, 99.6, 19.7, (100, 92, 128, 79, 86, 98, 112)),
    Column(
        "Night Mins",
        True,
        23.2,
        395.0,
        469839.6,
        201.4,
        50.6,
        (226.3, 150.4, 214.0, 165.7, 261.7, 187.7),
    ),
    Column("Night Calls", False, 42, 175, 233830, 100.2, 19.3, (123, 120, 101, 97, 129, 87, 112)),
    Column(
        "Intl Mins",
        True,
        0,
        18.4,
        23920.4,
        10.25,
        2.78,
        (10.0, 11.2, 9.3, 6.3, 11.3, 10.5, 0.0, 9.7),
        0.005,
    ),
)


class KllSimulation:
    """Deequ's QuantileNonSample, fed one item at a time (no random offset, as Deequ ships)."""

    def __init__(self) -> None:
        self.levels: list[list[float]] = [[]]
        self.compactions: list[int] = [0]
        self.offsets: list[int] = [0]

    def capacity(self, height: int) -> int:
        return 2 * (math.ceil(SKETCH_K * SKETCH_C**height / 2) + 1)

    def update(self, item: float) -> None:
        self.levels[0].append(item)
        if sum(map(len, self.levels)) > sum(map(self.capacity, range(len(self.levels)))):
            self.condense()

    def condense(self) -> None:
        for height, level in enumerate(self.levels):
            if len(level) >= self.capacity(height):
                if height + 1 >= len(self.levels):
                    self.levels.append([])
                    self.compactions.append(0)
                    self.offsets.append(0)
                self.levels[height + 1].extend(self.compact(height))
                return

    def compact(self, height: int) -> list[float]:
        level = self.levels[height]
        even = len(level) - len(level) % 2
        if self.compactions[height] % 2 == 1:
            self.offsets[height] = 1 - self.offsets[height]
        ordered = sorted(level[:even])
        self.levels[height] = level[even:]  # an odd item out stays behind
        self.compactions[height] += 1
        return ordered[self.offsets[height] : even : 2]

    def rank(self, value: float, *, inclusive: bool) -> int:
        return sum(
            2**height
            for height, level in enumerate(self.levels)
            for item in level
            if (item <= value if inclusive else item < value)
        )


def make_column(column: Column, rng: np.random.Generator) -> np.ndarray:
    """Integer units (value * scale) with the notebook's sum, min, max and level-0 prefix."""
    scale = column.scale
    low, high = round(column.minimum * scale), round(column.maximum * scale)
    target = round(column.total * scale)
    # Level 0 of the final sketch starts at row 2051: the odd item out of the one compaction.
    start = 2 * (math.ceil(SKETCH_K / 2) + 1)
    prefix = np.rint(np.array(column.prefix) * scale).astype(np.int64)
    fixed = set(range(start, start + len(prefix)))
    free = np.array([i for i in range(ROWS) if i not in fixed])
    if high - low == 1:  # a 0/1 label: place exactly the notebook's number of ones
        units = np.full(ROWS, low, dtype=np.int64)
        units[start : start + len(prefix)] = prefix
        ones = rng.choice(free, target - int(units.sum()) - low * ROWS, replace=False)
        units[ones] = high
        return units
    units = np.rint(rng.normal(column.center, column.spread, ROWS) * scale).astype(np.int64)
    units = np.clip(units, low + 1, high - 1)
    units[rng.random(ROWS) < column.zero_share] = 0
    units[start : start + len(prefix)] = prefix
    units[free[0]], units[free[1]] = low, high
    adjust_sum(units, target, free[2:], low, high, keep_zeros=column.zero_share > 0, rng=rng)
    return units


def adjust_sum(
    units: np.ndarray,
    target: int,
    free: np.ndarray,
    low: int,
    high: int,
    *,
    keep_zeros: bool,
    rng: np.random.Generator,
) -> None:
    """Nudge values at ``free`` by one unit until the column sums to ``target``.

    Values stay strictly inside (low, high), so min and max stay where they were put, and
    zeros stay zeros when ``keep_zeros``.
    """
    while (gap := target - int(units.sum())) != 0:
        step = 1 if gap > 0 else -1
        moved = units[free] + step
        ok = (moved > low) & (moved < high)
        if keep_zeros:
            ok &= units[free] != 0
        candidates = free[ok]
        chosen = rng.choice(candidates, min(abs(gap), len(candidates)), replace=False)
        units[chosen] += step


def feature(column: Column, units: np.ndarray) -> FeatureStatistics:
    values = units / column.scale
    sketch = KllSimulation()
    for value in values:
        sketch.update(float(value))
    low, high = float(values.min()), float(values.max())
    buckets = []
    for i in range(BUCKETS):
        lower = low + (high - low) * i / float(BUCKETS)
        upper = low + (high - low) * (i + 1) / float(BUCKETS)
        last = i == BUCKETS - 1
        count = sketch.rank(upper, inclusive=last) - sketch.rank(lower, inclusive=False)
        buckets.append(KllBucket(lower, upper, float(count)))
    total = int(units.sum()) / column.scale
    return FeatureStatistics(
        name=column.name,
        inferred_type="Fractional" if column.fractional else "Integral",
        numerical=NumericalStatistics(
            num_present=ROWS,
            num_missing=0,
            mean=total / ROWS,
            sum=total,
            std_dev=float(np.std(values)),
            min=low,
            max=high,
            buckets=tuple(buckets),
            sketch=KllSketch(data=tuple(tuple(level) for level in sketch.levels)),
        ),
    )


def main() -> None:
    rng = np.random.default_rng(20220418)  # the notebook's run date
    features = tuple(feature(c, make_column(c, rng)) for c in COLUMNS)
    out = Path(__file__).with_name("churn_statistics.json")
    write_statistics(out, Statistics(item_count=ROWS, features=features))


if __name__ == "__main__":
    main()
