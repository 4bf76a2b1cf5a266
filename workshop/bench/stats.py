"""Numbers of a benchmark run: percentiles, summaries and the claims we check.

Pure functions only (no I/O, no clock), so the logic is tested on known inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks.

    The same method as numpy's default and `statistics.quantiles(...,
    method="inclusive")`: rank = p/100 * (n - 1) in the sorted values.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, not {p}")
    ordered = sorted(values)
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass(frozen=True)
class Summary:
    """Latencies (seconds) of one run of requests and how long the run took."""

    label: str
    count: int
    errors: int
    p50: float
    p95: float
    p99: float
    throughput: float  # completed requests per second of wall time
    note: str = ""

    @classmethod
    def of(
        cls,
        label: str,
        latencies: Sequence[float],
        elapsed: float,
        errors: int = 0,
        note: str = "",
    ) -> Summary:
        if not latencies:
            raise ValueError(f"{label}: no request completed")
        return cls(
            label=label,
            count=len(latencies),
            errors=errors,
            p50=percentile(latencies, 50),
            p95=percentile(latencies, 95),
            p99=percentile(latencies, 99),
            throughput=len(latencies) / elapsed if elapsed > 0 else math.inf,
            note=note,
        )


def ratio(value: float, reference: float) -> float:
    """value / reference; infinite when the reference is zero (and value is not)."""
    if reference == 0:
        return math.inf if value else 1.0
    return value / reference


@dataclass(frozen=True)
class Claim:
    """One sentence the workshop teaches, with the measured number that tests it.

    `holds` is `measured <op> limit`, where op is "<=" or ">=".
    """

    text: str
    measured: float
    op: str
    limit: float
    unit: str = "x"

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ValueError(f"unknown comparison {self.op!r}")

    @property
    def holds(self) -> bool:
        if self.op == "<=":
            return self.measured <= self.limit
        return self.measured >= self.limit


def at_most(text: str, measured: float, limit: float, unit: str = "x") -> Claim:
    return Claim(text, measured, "<=", limit, unit)


def at_least(text: str, measured: float, limit: float, unit: str = "x") -> Claim:
    return Claim(text, measured, ">=", limit, unit)
