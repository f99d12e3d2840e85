"""Decisions that the noise allows: whether a simulated figure meets a target, given the
spread of its replications (simulated days).

A mean over days *meets* a floor when its whole 95 % confidence interval (Student's t,
as ``metrics.mean_ci``) lies at or above the floor: the target then holds with 97.5 %
confidence, one-sided. It *misses* when the whole interval lies below, and is *not sure*
otherwise, also when fewer than two days have a value. A cap is judged the same way with
the sides swapped. A share of days (those on which a target held) is judged by its
Wilson score interval at 95 %, which stays honest at shares of 0 and 1 where the t
interval collapses. Every function works over axis 0 (replications), element-wise.
"""

from __future__ import annotations

from enum import IntEnum
from statistics import NormalDist

import numpy as np

from callsim.analytics.metrics import mean_ci

_Z975 = NormalDist().inv_cdf(0.975)
_TOL = 1e-12  # a figure equal to its target meets it


class Verdict(IntEnum):
    """Ordered: the verdict of several figures together is their minimum."""

    MISSES = -1
    NOT_SURE = 0
    MEETS = 1

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


def _verdict(sure_in: np.ndarray, sure_out: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(sure_in), int(Verdict.NOT_SURE), dtype=np.int8)
    out[sure_in] = Verdict.MEETS
    out[sure_out] = Verdict.MISSES
    return out


def verdict_at_least(samples: np.ndarray, floor: float) -> np.ndarray:
    """Whether the mean over replications is surely at or above ``floor``."""
    mean, half = mean_ci(np.asarray(samples, dtype=float))
    with np.errstate(invalid="ignore"):
        return _verdict(mean - half >= floor - _TOL, mean + half < floor - _TOL)


def verdict_at_most(samples: np.ndarray, cap: float) -> np.ndarray:
    """Whether the mean over replications is surely at or below ``cap``."""
    mean, half = mean_ci(np.asarray(samples, dtype=float))
    with np.errstate(invalid="ignore"):
        return _verdict(mean + half <= cap + _TOL, mean - half > cap + _TOL)


def share_ci(held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The share of replications on which ``held`` (bool), and its 95 % Wilson score
    interval (low, high)."""
    held = np.asarray(held, dtype=bool)
    n = held.shape[0]
    share = held.mean(axis=0)
    z2 = _Z975**2
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z975 * np.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return share, centre - half, centre + half


def verdict_share(held: np.ndarray, goal: float) -> np.ndarray:
    """Whether the share of replications on which ``held`` is surely at least ``goal``."""
    _, low, high = share_ci(held)
    return _verdict(low >= goal - _TOL, high < goal - _TOL)


def share_needed(goal: float, n: int) -> float:
    """The least share of ``n`` replications that is surely at least ``goal`` (the low
    end of its Wilson interval at or above it); 1.0 (every day) also when not even that
    is sure."""
    k = np.arange(n + 1)
    _, low, _ = share_ci(np.arange(n)[:, None] < k[None, :])  # column k: held on k days
    sure = np.nonzero(low >= goal - _TOL)[0]
    return float(sure[0] / n) if len(sure) else 1.0
