"""Exact Erlang B, C and A (M/M/n+M) queueing formulas, numerically safe at 10,000+ Erlangs.

Units: rates per second, times in seconds, traffic in Erlangs (= arrival rate x AHT).

Erlang A is solved exactly from the birth-death chain (death rate n*mu + (k-n)*theta in
state k > n), summed in log space and truncated where the tail is below e^-60. For a
caller who finds j callers waiting ahead, the chance to be served is x/(x+j+1) with
x = n*mu/theta, and the time to service, given no abandonment, is a sum of exponentials
with rates n*mu + m*theta (m = 1..j+1), whose distribution is a regularized incomplete
beta: P(H > t) = I_u(x+1, j+1), u = exp(-theta*t). That gives the service level exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from callsim.errors import InputError

_TAIL_LOG = 60.0  # terms below exp(-60) of the largest are dropped
_MAX_TERMS = 50_000_000


@dataclass(frozen=True, slots=True)
class ErlangB:
    model: str
    traffic_erl: float
    agents: int
    p_block: float


@dataclass(frozen=True, slots=True)
class ErlangC:
    """M/M/n. ``service_level``: share answered within the threshold. With agents at or
    below the traffic the queue is unstable (``stable`` False): it grows without bound,
    every caller waits, none within the threshold, and ``asa_s`` is None."""

    model: str
    traffic_erl: float
    agents: int
    p_wait: float
    service_level: float
    asa_s: float | None
    occupancy: float
    stable: bool = True


@dataclass(frozen=True, slots=True)
class ErlangA:
    """M/M/n+M. ``service_level`` = answered within the threshold / offered;
    ``service_level_answered`` divides by answered instead. ``asa_s`` is the mean wait
    of answered calls, ``mean_wait_s`` of all calls; ``mean_queue`` in calls."""

    model: str
    traffic_erl: float
    agents: int
    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float
    p_abandon: float
    mean_wait_s: float
    service_level_answered: float
    mean_queue: float
    p_block: float = 0.0  # with a queue limit: callers who found every position taken


def _check(name: str, value: float, *, positive: bool = True) -> None:
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        expected = "a positive number" if positive else "a number >= 0"
        raise InputError(f"{value!r} is not {expected}", field=name)


MAX_AGENTS = 1_000_000  # the formulas take time in proportion to the agents


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise InputError(f"{agents!r} is not a whole number >= 0", field="agents")
    if agents > MAX_AGENTS:
        raise InputError(
            f"{agents:,} is more than the {MAX_AGENTS:,} agents callsim computes", field="agents"
        )


def erlang_b(traffic_erl: float, agents: int) -> ErlangB:
    """Blocking probability of M/M/n/n (Erlang's loss formula), by the stable recursion."""
    _check("traffic_erl", traffic_erl, positive=False)
    _check_agents(agents)
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic_erl * b / (k + traffic_erl * b)
    return ErlangB("b", traffic_erl, agents, b)


@dataclass(frozen=True, slots=True)
class RetrialLoss:
    """M/M/n/n with retrials: ``p_block_first`` of first attempts, ``p_block_attempt`` of
    all attempts (first and retrials), ``p_lost`` of callers who gave up in the end,
    ``retrials_per_call`` retrials per first call."""

    traffic_erl: float
    agents: int
    p_block_first: float
    p_block_attempt: float
    p_lost: float
    retrials_per_call: float


def erlang_b_retrials(
    rate_per_s: float, aht_s: float, agents: int, retrial_p: float, retrial_mean_s: float
) -> RetrialLoss:
    """Erlang B with retrials (the classic M/M/n/n retrial queue): a blocked attempt is
    tried again with chance ``retrial_p`` after an exponential delay of mean ``retrial_mean_s``
    (the same chance after every block). No closed form exists; the two-dimensional
    chain (busy agents, callers waiting to call again) is solved exactly, truncated where the
    orbit's probability is negligible."""
    from scipy import sparse
    from scipy.sparse import linalg

    for name, v in (
        ("rate_per_s", rate_per_s),
        ("aht_s", aht_s),
        ("retrial_mean_s", retrial_mean_s),
    ):
        _check(name, v)
    _check_agents(agents)
    if not 0 <= retrial_p < 1:
        raise InputError(f"{retrial_p} is not within [0, 1)", field="retrial_p")
    n, lam, mu, nu = agents, rate_per_s, 1 / aht_s, 1 / retrial_mean_s
    # the orbit grows at most by lam*retrial_p and shrinks by j*nu*(1-retrial_p) when blocked
    top = int(lam * retrial_p / (nu * (1 - retrial_p)) * 4 + 200)
    size = (n + 1) * (top + 1)
    if size > 500_000:
        raise InputError(
            f"{n} agents with an orbit of up to {top} callers is {size:,} states, more than "
            "500,000: too large to solve exactly here; simulate it (queues[].max_waiting: 0 and "
            "calls[].retrial.busy_probability)",
            field="agents",
        )
    jj, kk = np.divmod(np.arange(size), n + 1)  # state index j * (n + 1) + k
    free, full = kk < n, kk == n
    moves = (  # (from states, to-state offset, rate)
        (free, 1, np.full(size, lam)),  # an arrival or ...
        (free & (jj > 0), 1 - (n + 1), jj * nu),  # ... a retrial takes an agent
        (full & (jj < top), n + 1, np.full(size, lam * retrial_p)),  # blocked: will call again
        (full & (jj > 0), -(n + 1), jj * nu * (1 - retrial_p)),  # blocked again: gives up
        (kk > 0, -1, kk * mu),  # a call ends
    )
    rows = np.concatenate([np.flatnonzero(m) for m, _, _ in moves])
    cols = np.concatenate([np.flatnonzero(m) + d for m, d, _ in moves])
    rates = np.concatenate([r[m] for m, _, r in moves])
    q = sparse.csr_matrix((rates, (rows, cols)), shape=(size, size))
    q = q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())
    # pi Q = 0: one balance equation is redundant; replace it by pi[0] = 1 (keeps the
    # matrix as sparse as it is), then normalise
    e0 = sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, size))
    a = sparse.vstack([e0, q.T.tocsr()[1:]]).tocsc()
    b = np.zeros(size)
    b[0] = 1.0
    pi = linalg.spsolve(a, b)
    pi = (pi / pi.sum()).reshape(top + 1, n + 1)  # [orbit, busy]
    js = np.arange(top + 1, dtype=float)
    p_full = float(pi[:, n].sum())
    orbit_full = float((js * pi[:, n]).sum())
    orbit = float((js * pi.sum(axis=1)).sum())
    retrials = nu * orbit  # retrial attempts per second
    blocked = lam * p_full + nu * orbit_full
    return RetrialLoss(
        traffic_erl=lam * aht_s,
        agents=n,
        p_block_first=_prob(p_full),
        p_block_attempt=_prob(blocked / (lam + retrials)),
        p_lost=_prob(blocked * (1 - retrial_p) / lam),
        retrials_per_call=retrials / lam,
    )


def p_wait_from_b(traffic_erl: float, agents: int, b: float) -> float:
    """Erlang C's P(wait) from Erlang B's blocking at the same load and agents."""
    if agents <= traffic_erl:
        return 1.0
    return agents * b / (agents - traffic_erl * (1.0 - b))


def erlang_c_from_b(
    traffic_erl: float, agents: int, b: float, aht_s: float, sl_threshold_s: float
) -> ErlangC:
    """Erlang C metrics given Erlang B's value (lets staffing reuse its recursion)."""
    a, n = traffic_erl, agents
    pw = p_wait_from_b(a, n, b)
    if n <= a:
        return ErlangC("c", a, n, 1.0, 0.0, None, 1.0, stable=False)
    sl = 1.0 - pw * math.exp(-(n - a) * sl_threshold_s / aht_s)
    asa = pw * aht_s / (n - a)
    return ErlangC("c", a, n, pw, min(1.0, max(0.0, sl)), asa, a / n)


def erlang_c(rate_per_s: float, aht_s: float, agents: int, sl_threshold_s: float) -> ErlangC:
    """M/M/n with infinite patience: P(wait), service level, ASA and occupancy."""
    _check("rate_per_s", rate_per_s)
    _check("aht_s", aht_s)
    _check("sl_threshold_s", sl_threshold_s, positive=False)
    traffic = rate_per_s * aht_s
    return erlang_c_from_b(
        traffic, agents, erlang_b(traffic, agents).p_block, aht_s, sl_threshold_s
    )


def erlang_a(
    rate_per_s: float,
    aht_s: float,
    patience_s: float,
    agents: int,
    sl_threshold_s: float,
    queue_limit: int | None = None,
) -> ErlangA:
    """M/M/n+M (Erlang A): exact metrics with exponential patience of mean ``patience_s``;
    with ``queue_limit`` K (M/M/n/n+K+M) a caller who finds K waiting is blocked (counted
    as offered, never answered)."""
    from scipy import special  # here only: scipy takes a third of a second to import

    _check("rate_per_s", rate_per_s)
    _check("aht_s", aht_s)
    _check("patience_s", patience_s)
    _check("sl_threshold_s", sl_threshold_s, positive=False)
    _check_agents(agents)
    a = rate_per_s * aht_s  # traffic; below, time is in units of AHT (mu = 1)
    n = agents
    gamma = aht_s / patience_s  # theta / mu
    x = n / gamma  # n*mu/theta
    lam_over_theta = a / gamma

    # Tail states n+j (j callers waiting), log weights relative to state n.
    peak = max(0.0, (a - n) / gamma)
    j_max = peak + 12.0 * math.sqrt(lam_over_theta + 1.0) + 60.0
    if n > a:
        j_max = min(j_max, _TAIL_LOG / math.log(n / a) + 60.0)
    terms = int(j_max) + 1
    if queue_limit is not None:
        if queue_limit < 0:
            raise InputError(f"{queue_limit} is not >= 0", field="queue_limit")
        terms = min(terms, queue_limit + 1)
    if terms > _MAX_TERMS:
        raise InputError(
            f"{patience_s!r} is too long for an exact Erlang A at {n} agents and "
            f"{a:.6g} Erlangs; use Erlang C (model c) for practically infinite patience",
            field="patience_s",
        )
    j = np.arange(terms, dtype=float)
    log_tail = (
        j * math.log(lam_over_theta) - special.gammaln(x + j + 1.0) + special.gammaln(x + 1.0)
    )
    # Head states k < n relative to state n: sum_{k<n} a^k/k! / (a^n/n!).
    log_n = (n * math.log(a) - special.gammaln(n + 1.0)) if n > 0 else 0.0
    head = float(special.gammaincc(n, a)) if n > 0 else 0.0  # P(Poisson(a) <= n-1)
    log_head = (a + math.log(head) - log_n) if head > 0 else -math.inf
    top = max(float(log_tail.max()), log_head)
    w_tail = np.exp(log_tail - top)
    w_head = math.exp(log_head - top) if log_head > -math.inf else 0.0
    total = w_head + float(w_tail.sum())
    w = w_tail / total  # P(an arrival finds j waiting, all agents busy)
    p_head = w_head / total  # P(an agent is free on arrival)
    p_block = 0.0
    mean_queue = float((j * w).sum())
    if queue_limit is not None and terms == queue_limit + 1:  # the last state blocks
        p_block = float(w[-1])
        w = w.copy()
        w[-1] = 0.0  # those who find it full never wait

    p_wait = float(w.sum()) if n > 0 else 1.0
    p_abandon = gamma * mean_queue / a
    served = x / (x + j + 1.0)  # chance to be served after finding j ahead
    # E[wait; served] in AHT units: served_j * sum_{m=1}^{j+1} 1/(x+m) / gamma
    stage_sum = np.cumsum(1.0 / (x + j + 1.0)) / gamma
    waited_served = w * served
    p_answered = p_head + float(waited_served.sum())
    wait_answered = float((waited_served * stage_sum).sum())
    u = math.exp(-gamma * sl_threshold_s / aht_s)
    within = p_head + float((waited_served * (1.0 - special.betainc(x + 1.0, j + 1.0, u))).sum())

    return ErlangA(
        model="a",
        traffic_erl=a,
        agents=n,
        p_wait=_prob(p_wait),
        service_level=_prob(within),
        asa_s=wait_answered / p_answered * aht_s if p_answered > 0 else 0.0,
        occupancy=_prob(a * (1.0 - p_abandon - p_block) / n) if n > 0 else 1.0,
        p_abandon=_prob(p_abandon),
        mean_wait_s=mean_queue / a * aht_s,
        service_level_answered=_prob(within / p_answered) if p_answered > 0 else 0.0,
        mean_queue=mean_queue,
        p_block=_prob(p_block),
    )


def _prob(p: float) -> float:
    return min(1.0, max(0.0, p))


FORECAST_POINTS = 64  # equally likely slices of the day's volume multiplier averaged over


def cut_normal(cv: float) -> tuple[float, float]:
    """The mean and standard deviation of the normal whose draws, cut at 0 (a negative
    draw is a day without calls), have mean 1 and standard deviation ``cv``: the day's
    volume multiplier ``normal``. Up to cv 0.2 the cut never bites and this is (1, cv); at
    cv 1 it is (0.78, 1.29), 27 % of days without calls; at cv 2 (-2.05, 4.63), 67 %."""

    def moments(a: float) -> tuple[float, float]:  # E[Y], E[Y^2] of Y = max(0, a + Z)
        below = 0.5 * math.erfc(-a / math.sqrt(2))
        density = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        return a * below + density, (a * a + 1) * below + a * density

    lo, hi = -3.0, 10 + 1 / cv  # a = mean / sd of the normal; cv(a) falls from 38 to cv/2
    for _ in range(200):
        mid = (lo + hi) / 2
        m1, m2 = moments(mid)
        lo, hi = (mid, hi) if m2 / m1**2 - 1 > cv**2 else (lo, mid)
    scale = 1 / moments(hi)[0]
    return hi * scale, scale


def volume_slices(cv: float, dist: str, n: int = FORECAST_POINTS) -> np.ndarray:
    """The mean of each of ``n`` equally likely slices of the day's volume multiplier
    (gamma, or normal cut at 0; mean 1, standard deviation ``cv``), lowest first: their
    mean is exactly 1."""
    from scipy import stats

    u = np.linspace(0.0, 1.0, n + 1)
    if dist == "gamma":  # E[M; M <= q] of a gamma of mean 1 is the gamma cdf of shape + 1
        shape = 1 / cv**2
        edges = stats.gamma.ppf(u, a=shape, scale=1 / shape)
        below = stats.gamma.cdf(edges, a=shape + 1, scale=1 / shape)
    else:  # E[max(0, mu + sigma Z); below the edge z], z at least -mu / sigma
        mu, sigma = cut_normal(cv)
        z0 = -mu / sigma
        z = np.maximum(stats.norm.ppf(u), z0)
        below = mu * (stats.norm.cdf(z) - stats.norm.cdf(z0)) + sigma * (
            stats.norm.pdf(z0) - stats.norm.pdf(z)
        )
    return np.diff(np.asarray(below, dtype=float)) * n


@dataclass(frozen=True, slots=True)
class WithForecastError:
    """A model's figures averaged over the day-to-day volume uncertainty: the rate is
    ``rate x M`` with M of mean 1 and standard deviation ``cv`` (gamma, or normal cut at
    0: ``cut_normal``), taken as the means of its 64 equally likely slices. Shares of
    calls are weighted by the calls of each day (the long-run share over many days, what
    a simulation reports); ``service_level_p10`` is the service level exceeded on 90 % of
    the days with calls."""

    model: str
    cv: float
    dist: str
    service_level: float
    service_level_p10: float
    p_wait: float
    p_abandon: float | None
    asa_s: float | None
    service_level_known_volume: float


def with_forecast_error(
    compute: Callable[[float], ErlangA | ErlangC], rate_per_s: float, cv: float,
    dist: str = "gamma",
) -> WithForecastError:  # fmt: skip
    """Erlang C or A (``compute(rate)``) averaged over a day-to-day volume multiplier,
    the analogue of Koole's Erlang X forecast variance."""
    if not 0 < cv <= 2:
        raise InputError(f"{cv!r} is not within (0, 2]", field="forecast_cv")
    if dist not in ("gamma", "normal"):
        raise InputError(f"{dist!r} is not one of gamma, normal", field="forecast_dist")
    slices = volume_slices(cv, dist)
    m = slices[slices > 0]  # a slice of days without calls weighs nothing
    results = [compute(rate_per_s * float(x)) for x in m]
    sl = np.array([r.service_level for r in results])
    pw = np.array([r.p_wait for r in results])
    ab = np.array([r.p_abandon if isinstance(r, ErlangA) else 0.0 for r in results])
    asa = np.array([np.nan if r.asa_s is None else r.asa_s for r in results])
    w = m / m.sum()
    answered = m * (1 - ab)
    ok = np.isfinite(asa) & (answered > 0)
    model = results[0].model
    return WithForecastError(
        model=model,
        cv=cv,
        dist=dist,
        service_level=float((w * sl).sum()),
        service_level_p10=float(np.quantile(sl, 0.1)),
        p_wait=float((w * pw).sum()),
        p_abandon=float((w * ab).sum()) if model == "a" else None,
        asa_s=float((asa[ok] * answered[ok]).sum() / answered[ok].sum()) if ok.all() else None,
        service_level_known_volume=compute(rate_per_s).service_level,
    )
