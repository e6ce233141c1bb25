"""Example data sets generated on the spot (nothing is downloaded)."""

from __future__ import annotations

from modelmon.examples.credit import CREDIT_DRIFTS, FEATURES, generate_credit, score_credit

__all__ = ["CREDIT_DRIFTS", "FEATURES", "generate_credit", "score_credit"]
