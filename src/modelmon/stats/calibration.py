"""Probability calibration: an isotonic map from scores to probabilities, and a test of it.

* :func:`fit_isotonic` fits a non-decreasing map from scores to the rate of positive outcomes
  (scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``: linear between knots, flat
  beyond the ends), which CBPE needs so that a score of 0.8 means "right 80% of the time".
* :func:`hosmer_lemeshow` tests whether probabilities still match outcomes (calibration drift):
  rows are cut into groups of equal size by probability, and observed positives are compared
  with expected ones; with probabilities fitted elsewhere the statistic is chi-squared with as
  many degrees of freedom as groups (Hosmer & Lemeshow's external-validation form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["Calibration", "CalibrationTest", "fit_isotonic", "hosmer_lemeshow"]

Floats: TypeAlias = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Calibration:
    """A non-decreasing piecewise-linear map: knots ``x`` (ascending) to values ``y``."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def apply(self, scores: Floats) -> Floats:
        """The calibrated probability of each score (clipped to the end knots' values)."""
        out: Floats = np.interp(scores, np.asarray(self.x), np.asarray(self.y))
        return out

    @property
    def score_range(self) -> tuple[float, float]:
        """The scores seen when fitting; beyond them the map is flat (extrapolation)."""
        return self.x[0], self.x[-1]


def fit_isotonic(scores: Floats, outcomes: npt.NDArray[np.bool_] | Floats) -> Calibration:
    """The isotonic (non-decreasing) least-squares fit of ``outcomes`` on ``scores``."""
    from scipy.optimize import isotonic_regression  # costs a scipy import; only fitting needs it

    if scores.size == 0:
        raise ValueError("cannot fit a calibration to no scores")
    values = np.asarray(outcomes, dtype=np.float64)
    # Tied scores become one point: their mean outcome, weighted by how many there are.
    unique, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=values, minlength=unique.size)
    fitted = isotonic_regression(sums / counts, weights=counts.astype(np.float64)).x
    # Inner knots inside a flat run change nothing: keep only a run's two ends.
    keep = np.ones(unique.size, dtype=bool)
    keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
    return Calibration(tuple(float(v) for v in unique[keep]), tuple(float(v) for v in fitted[keep]))


@dataclass(frozen=True)
class CalibrationTest:
    """Hosmer-Lemeshow: ``statistic`` (chi-squared, ``groups`` degrees of freedom), ``p_value``,
    and the observed and expected positive counts per group (lowest probabilities first)."""

    statistic: float
    p_value: float
    groups: int
    observed: tuple[float, ...]
    expected: tuple[float, ...]


def hosmer_lemeshow(
    probabilities: Floats, outcomes: npt.NDArray[np.bool_], groups: int = 10
) -> CalibrationTest:
    """Do ``probabilities`` match ``outcomes``? See the module docstring."""
    from scipy.stats import chi2

    order = np.argsort(probabilities, kind="stable")
    parts = [part for part in np.array_split(order, min(groups, order.size)) if part.size]
    observed, expected, statistic, used = [], [], 0.0, 0
    for part in parts:
        o = float(np.count_nonzero(outcomes[part]))
        e = float(probabilities[part].sum())
        variance = e * (1.0 - e / part.size)
        observed.append(o)
        expected.append(e)
        if variance > 0:
            statistic += (o - e) ** 2 / variance
            used += 1
        elif o != e:
            # Certain probabilities (0 or 1) contradicted by an outcome: as uncalibrated as it gets.
            statistic = math.inf
    p_value = float(chi2.sf(statistic, used)) if used else (0.0 if math.isinf(statistic) else 1.0)
    return CalibrationTest(statistic, p_value, used, tuple(observed), tuple(expected))
