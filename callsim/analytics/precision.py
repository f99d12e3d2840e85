"""A stopping rule for replications (``--precision``): simulated days are added, in
batches, until every headline figure's 95 % CI half-width is within the bound asked, or a
cap is hit.

**Headline figures** (``HEADLINE``): the day's service level, abandonment rate, ASA and
occupancy of all (inbound) queues together, each a mean over replications with its
Student-t CI (``metrics.mean_ci``). Per-queue and per-interval figures are not held to the
bound (they get what the days give; their CIs are reported as always).

**The bound.** Relative (``5%``): a figure's half-width at most that share of its mean,
but never asked below an absolute floor (``FLOOR``: 0.0001 of a share, a hundredth of a
percentage point; 0.01 s of ASA), so a figure at or near 0 (no abandonment) stops; the
floors bind only below 0.2 % (shares) or 0.2 s (ASA) at 5 %.
Absolute (``0.01``): a half-width at most that, for the shares (service level,
abandonment, occupancy: fractions 0..1); ASA, in seconds, is then not covered. A paired
difference (a sweep's) is held to the bound of the figure it is a difference of, taken of
the baseline's mean: a difference is known as precisely as the figure itself. A figure
given controls (``--control-variates``) is judged on its control-variate CI
(``metrics.controlled``).

**The rule** (``StoppingRule``). A first batch of ``min_replications`` (10, or ``-n``: the
least days a run to a precision makes), then looks
after each batch; the rule never stops at the first look (at least ``MIN_BATCHES`` 2
batches), so a lucky narrow CI of few days does not end the run (stopping as soon as a
CI is narrow enough favours days whose spread happened to be small, and under-covers).
After a look, the next total is the days the widest figure needs if its spread holds
(n x (half-width / allowed)², plus 10 %), at least ``min_replications`` more and at most
four times as many, up to ``max_replications`` (the cap, which is then said). The batch
sizes depend on the figures only, never on the workers: replication r always draws from
the seed's r-th streams, so a seed and a bound give the same result on any executor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from callsim.analytics.metrics import Controlled, controlled
from callsim.errors import InputError

HEADLINE = ("service_level", "abandon_rate", "asa_s", "occupancy")
SHARES = ("service_level", "abandon_rate", "occupancy")  # fractions 0..1
FLOOR = {"service_level": 0.0001, "abandon_rate": 0.0001, "occupancy": 0.0001, "asa_s": 0.01}
MIN_REPLICATIONS = 10
MIN_BATCHES = 2
GROWTH = 4  # a batch at most brings the total to this many times the days so far
CAP = 1000  # the default cap on replications
MOST = 10_000  # the largest cap allowed


@dataclass(frozen=True, slots=True)
class Precision:
    """A bound on 95 % CI half-widths: ``relative`` a share of the mean (``bound`` 0.05
    for ``5%``), else absolute in the shares' unit."""

    bound: float
    relative: bool
    text: str

    def covers(self, kind: str) -> bool:
        """Whether figures of ``kind`` (a ``HEADLINE`` name) are held to the bound."""
        return kind in HEADLINE and (self.relative or kind in SHARES)

    def allowed(self, kind: str, level: float) -> float:
        """The largest half-width allowed to a figure of ``kind`` whose mean is ``level``."""
        if not self.relative:
            return self.bound
        return max(self.bound * abs(level), FLOOR[kind])

    def record(self) -> dict[str, Any]:
        return {
            "precision": self.text,
            "bound": self.bound,
            "relative": self.relative,
            "floor": FLOOR if self.relative else None,
        }


_NUMBER = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*$")


def parse_precision(text: str) -> Precision:
    """``5%`` (relative: a share of each figure's mean, above 0 and below 100 %) or
    ``0.01`` (absolute: a half-width of the shares, above 0 and below 1)."""
    found = _NUMBER.match(text)
    expected = "expected a share of the mean like 5% or an absolute half-width like 0.01"
    if not found:
        raise InputError(f"{text!r} is not a bound ({expected})", field="precision")
    value = float(found.group(1))
    if found.group(2):
        if not 0 < value < 100:
            raise InputError(f"{text!r} is not above 0 % and below 100 %", field="precision")
        return Precision(value / 100, True, text.strip())
    if not 0 < value < 1:
        raise InputError(
            f"{text!r} is not above 0 and below 1 (an absolute half-width of a share; {expected})",
            field="precision",
        )
    return Precision(value, False, text.strip())


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure to hold to the bound: its per-replication ``samples``, its ``kind`` (a
    ``HEADLINE`` name: its floor) and the ``level`` a relative bound is taken of (None:
    its own mean)."""

    name: str
    samples: np.ndarray
    kind: str
    level: float | None = None
    controls: np.ndarray | None = None  # [replication, control]: its CI is ``controlled``


@dataclass(frozen=True, slots=True)
class Look:
    """The figures after ``replications`` days: the widest against its bound."""

    replications: int
    widest: str  # the figure furthest from its bound (by half-width / allowed)
    ci95: float
    allowed: float
    ratio: float  # widest half-width / its allowed half-width: done at 1 or below

    @property
    def within(self) -> bool:
        return self.ratio <= 1.0


def pair_means(x: np.ndarray) -> np.ndarray:
    """The means of consecutive rows (replications 2k and 2k + 1: an antithetic pair),
    the pair's figure when one of them has none (NaN)."""
    x = np.asarray(x, dtype=float)
    pairs = x[: len(x) // 2 * 2].reshape(len(x) // 2, 2, *x.shape[1:])
    have = (~np.isnan(pairs)).sum(axis=1)
    return np.where(have > 0, np.nansum(pairs, axis=1) / np.maximum(have, 1), np.nan)


def estimate(samples: np.ndarray, controls: np.ndarray | None, pairs: bool) -> Controlled:
    """A figure's mean and 95 % CI from its per-replication ``samples``: with ``pairs``
    (antithetic), of the pairs' means, each pair one independent observation; with
    ``controls`` ([replication, control]), corrected by them (``metrics.controlled``, on
    the pairs' means of both where paired). ``variance_ratio``: the plain mean's
    estimated variance (the replications taken as independent) over this estimate's."""
    y = np.asarray(samples, dtype=float)
    c = np.zeros((len(y), 0)) if controls is None else np.asarray(controls, dtype=float)
    if not pairs:
        return controlled(y, c)
    est = controlled(pair_means(y), pair_means(c))
    singles, means = y[~np.isnan(y)], pair_means(y)
    means = means[~np.isnan(means)]
    if len(singles) < 2 or len(means) < 2 or not np.var(means, ddof=1) > 0:
        return est
    gain = (np.var(singles, ddof=1) / len(singles)) / (np.var(means, ddof=1) / len(means))
    return replace(est, variance_ratio=est.variance_ratio * float(gain))


def look(
    figures: Iterable[Figure], precision: Precision, replications: int, pairs: bool = False
) -> Look:
    """The figures' CIs against the bound (``pairs``: of antithetic pairs' means,
    ``estimate``). A figure without a value on two days (an ASA with no answered call)
    cannot be judged and does not hold the run up; one whose CI is undefined for another
    reason counts as infinitely wide."""
    worst = Look(replications, "", 0.0, math.inf, 0.0)
    for f in figures:
        if not precision.covers(f.kind):
            continue
        values = np.asarray(f.samples, dtype=float)
        if np.count_nonzero(~np.isnan(values)) < 2:
            continue
        est = estimate(values, f.controls, pairs)
        mean, half = est.mean, est.ci95
        level = mean if f.level is None else f.level
        allowed = precision.allowed(f.kind, level)
        ratio = math.inf if math.isnan(half) else half / allowed
        if ratio > worst.ratio or not worst.widest:
            worst = Look(replications, f.name, half, allowed, ratio)
    return worst


@dataclass(frozen=True, slots=True)
class StoppingRule:
    precision: Precision
    min_replications: int = MIN_REPLICATIONS
    max_replications: int = CAP
    pairs: bool = False  # antithetic: days in pairs, every total even

    def __post_init__(self) -> None:
        if self.max_replications > MOST:
            raise InputError(
                f"{self.max_replications:,} is above {MOST:,}", field="max_replications"
            )
        if self.min_replications < 2:
            raise InputError(
                f"{self.min_replications} is below 2 (the first batch of days: a CI needs two)",
                field="replications",
            )
        if self.cap < self.first:
            raise InputError(
                f"{self.max_replications:,} is below the first batch of "
                f"{self.min_replications:,} days",
                field="max_replications",
            )

    @property
    def first(self) -> int:
        return self.min_replications + self.min_replications % 2 * self.pairs

    @property
    def cap(self) -> int:
        return self.max_replications - self.max_replications % 2 * self.pairs

    def next_total(self, seen: Look, batches: int) -> int | None:
        """The days to have after the next batch, or None: stop (within the bound after at
        least ``MIN_BATCHES`` batches, or at the cap)."""
        n = seen.replications
        if (seen.within and batches >= MIN_BATCHES) or n >= self.cap:
            return None
        need = n * min(seen.ratio, 1e6) ** 2 * 1.1
        total = min(max(math.ceil(need), n + self.min_replications), GROWTH * n)
        return min(total + total % 2 * self.pairs, self.cap)

    def record(self, looks: list[Look], figures: list[str]) -> dict[str, Any]:
        """What a result says of the rule (``figures``: those held to the bound) and how
        it ended."""
        last = looks[-1]
        return {
            **self.precision.record(),
            "figures": figures,
            "min_replications": self.min_replications,
            "max_replications": self.max_replications,
            "min_batches": MIN_BATCHES,
            **({"antithetic": "pairs of days, the pair the unit of the CIs"} if self.pairs else {}),
            "batches": [x.replications for x in looks],
            "replications": last.replications,
            "within_bound": last.within,
            "cap_hit": not last.within,
            "widest": {"figure": last.widest, "ci95": last.ci95, "allowed": last.allowed},
        }
