"""Random draws for the simulator: distributions, arrival times and named random streams."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from callsim.analytics.erlang import cut_normal
from callsim.core.ivr import Exit, Menu
from callsim.scenario.model import (
    Constant,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Uniform,
)

Dist = Exponential | Lognormal | Gamma | Constant | Uniform | Empirical
STREAMS = (
    "arrivals", "talk", "patience", "wrap_up", "retrial", "answer", "tie_break", "policy",
    "volume", "follow_up", "balk", "callback", "outbound", "caller",  # new streams go last
)  # fmt: skip


class Streams:
    """One seed fanned out into independent named streams per replication: the same seed
    and replication number give the same draws however many workers run. Each name has
    two independent children, one for numpy's generator and one for ``random.Random``
    (the core's tie-breaks and per-call policy draws)."""

    def __init__(self, seed: int, replication: int, antithetic: bool = False) -> None:
        # antithetic: replications 2k and 2k + 1 are a pair drawing from one set of
        # streams (the pair's k, under its own spawn key), the second with 1 - U
        key = (replication // 2, len(STREAMS)) if antithetic else (replication,)
        self._seqs = {
            name: np.random.SeedSequence(entropy=seed, spawn_key=(*key, i)).spawn(2)
            for i, name in enumerate(STREAMS)
        }
        self._flip = replication % 2 == 1 if antithetic else None

    def numpy(self, name: str) -> np.random.Generator:
        seq = self._seqs[name][0]
        if self._flip is None:
            return np.random.default_rng(seq)
        counts = np.random.default_rng(seq.spawn(1)[0])
        return Inverse(np.random.default_rng(seq), counts, self._flip)  # type: ignore[return-value]

    def python(self, name: str) -> random.Random:
        state = self._seqs[name][1].generate_state(4)  # 128 bits
        return random.Random(int.from_bytes(state.tobytes(), "little"))


class Inverse:
    """A generator whose every draw is an inverse CDF of one uniform U, or of 1 - U
    (``flip``): the antithetic twin of the same generator unflipped. It draws what the
    simulator's samplers ask of a numpy generator, each exactly by its distribution.
    Counts (``poisson``) come from their own uniforms (``counts``), so that a pair whose
    counts differ still pairs its next counts, U with 1 - U."""

    def __init__(self, rng: np.random.Generator, counts: np.random.Generator, flip: bool) -> None:
        self._rng = rng
        self._counts = counts
        self._flip = flip

    def random(self, n: int | None = None, rng: np.random.Generator | None = None) -> Any:
        # in (0, 1): neither U nor 1 - U is ever 0, whose inverse CDF may be infinite
        u = (np.floor((rng or self._rng).random(n) * 2.0**52) + 0.5) / 2.0**52
        return 1.0 - u if self._flip else u

    def uniform(self, low: float, high: float, n: int | None = None) -> Any:
        return low + (high - low) * self.random(n)

    def exponential(self, mean: float, n: int | None = None) -> Any:
        return -mean * np.log1p(-self.random(n))

    def standard_normal(self, n: int | None = None) -> Any:
        from scipy import special  # here: scipy's import is most of a second

        return special.ndtri(self.random(n))

    def lognormal(self, mu: float, sigma: float, n: int | None = None) -> Any:
        return np.exp(mu + sigma * self.standard_normal(n))

    def gamma(self, shape: float, scale: float, n: int | None = None) -> Any:
        from scipy import special

        return scale * special.gammaincinv(shape, self.random(n))

    def poisson(self, lam: float, n: int | None = None) -> Any:
        from scipy import stats

        k = stats.poisson.ppf(self.random(n, self._counts), lam)
        return k.astype(np.int64) if n is not None else int(k)

    def choice(self, values: np.ndarray, n: int) -> Any:
        index = np.minimum((self.random(n) * len(values)).astype(np.int64), len(values) - 1)
        return np.asarray(values)[index]


def sampler(dist: Dist) -> Callable[[np.random.Generator, int], np.ndarray]:
    """A function drawing ``n`` values of ``dist`` (seconds) from a generator."""
    if isinstance(dist, Exponential):
        mean = dist.mean
        return lambda rng, n: rng.exponential(mean, n)
    if isinstance(dist, Lognormal):
        sigma2 = math.log1p(dist.cv**2)
        mu, sigma = math.log(dist.mean) - sigma2 / 2, math.sqrt(sigma2)
        return lambda rng, n: rng.lognormal(mu, sigma, n)
    if isinstance(dist, Gamma):
        shape = 1.0 / dist.cv**2
        scale = dist.mean / shape
        return lambda rng, n: rng.gamma(shape, scale, n)
    if isinstance(dist, Constant):
        value = dist.value
        return lambda rng, n: np.full(n, value)
    if isinstance(dist, Uniform):
        low, high = dist.low, dist.high
        return lambda rng, n: rng.uniform(low, high, n)
    values = np.asarray(dist.values, dtype=float)
    return lambda rng, n: rng.choice(values, n)


def poisson_times(
    rng: np.random.Generator, pieces: Sequence[tuple[float, float, float]]
) -> np.ndarray:
    """Arrival times of a Poisson process with a piecewise-constant rate.

    ``pieces`` are ``(start_s, end_s, rate_per_s)``; in each piece the count is Poisson and
    the times are uniform order statistics, which is exactly a Poisson process.
    """
    chunks = []
    for start, end, rate in pieces:
        if end <= start or rate <= 0:
            continue
        n = rng.poisson(rate * (end - start))
        chunks.append(np.sort(rng.uniform(start, end, n)))
    return np.concatenate(chunks) if chunks else np.empty(0)


def day_multipliers(rng: np.random.Generator, dist: str, cv: float, days: int) -> np.ndarray:
    """``days`` draws of a day's volume multiplier, mean 1 and standard deviation ``cv``:
    gamma, or a normal cut at 0 (``cut_normal``: the cut draws have that mean and sd)."""
    if dist == "gamma":
        return rng.gamma(1.0 / cv**2, cv**2, days)
    mean, sd = cut_normal(cv)
    return np.maximum(0.0, mean + sd * rng.standard_normal(days))


def press_keys(menu: Menu, random: Callable[[], float]) -> str:
    """A caller in a voice menu: presses keys by the options' shares until the call
    leaves the menu; the keys so far when they press nothing (they go on to the client's
    queue). ``random``: uniform draws in [0, 1)."""
    keys = ""
    while True:
        u, total, key = random(), 0.0, None
        for k, option in menu.options.items():
            total += option.probability
            if u < total:
                key = k
                break
        if key is None:
            return keys
        keys += key
        option = menu.options[key]
        if option.exit is not Exit.SUBMENU or option.submenu is None:
            return keys
        menu = option.submenu
