"""Example data sets generated on the spot (nothing is downloaded)."""

from __future__ import annotations

from modelmon.examples.credit import CREDIT_DRIFTS, generate_credit

__all__ = ["CREDIT_DRIFTS", "generate_credit"]
