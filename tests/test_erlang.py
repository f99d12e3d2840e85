"""Erlang B, C and A against published values, an independent numerical solution, and
their defining properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from callsim.analytics.erlang import erlang_a, erlang_b, erlang_c
from callsim.errors import InputError

PER_30_MIN = 1 / 1800


def test_published_erlang_b() -> None:
    assert erlang_b(25, 30).p_block == pytest.approx(0.0526, abs=5e-5)


def test_published_erlang_c() -> None:
    # 100 calls per 30 min, AHT 180 s, 14 agents, 20 s threshold
    c = erlang_c(100 * PER_30_MIN, 180, 14, 20)
    assert c.service_level == pytest.approx(0.88835, abs=5e-6)
    assert c.p_wait == pytest.approx(0.17413, abs=5e-6)
    assert c.occupancy == pytest.approx(0.714, abs=5e-4)
    assert erlang_c(100 * PER_30_MIN, 180, 15, 20).service_level == pytest.approx(0.94145, abs=5e-6)
    # 120 calls per hour, 3 minutes, 10 servers
    assert erlang_c(120 / 3600, 180, 10, 0).p_wait == pytest.approx(0.1013, abs=5e-5)


def test_erlang_c_unstable_queue_has_no_service() -> None:
    c = erlang_c(100 * PER_30_MIN, 180, 10, 20)  # 10 Erlangs on 10 agents
    assert (c.p_wait, c.service_level, c.asa_s, c.occupancy) == (1.0, 0.0, None, 1.0)


def test_erlang_a_converges_to_erlang_c_as_patience_grows() -> None:
    c = erlang_c(100 * PER_30_MIN, 180, 14, 20)
    a = erlang_a(100 * PER_30_MIN, 180, 1e8, 14, 20)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-4)
    assert a.p_abandon < 1e-6


def _ctmc_erlang_a(lam: float, mu: float, theta: float, n: int, t: float, k_max: int = 400):
    """Independent solution: stationary law of the truncated chain by linear algebra, and
    each waiting caller's chance to be served within t by a matrix exponential."""
    q = np.zeros((k_max + 1, k_max + 1))
    for k in range(k_max + 1):
        if k < k_max:
            q[k, k + 1] = lam
        if k > 0:
            q[k, k - 1] = min(k, n) * mu + max(0, k - n) * theta
        q[k, k] = -q[k].sum()
    a = np.vstack([q.T, np.ones(k_max + 1)])
    b = np.zeros(k_max + 2)
    b[-1] = 1
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    queue = sum(max(0, k - n) * pi[k] for k in range(k_max + 1))
    # tagged caller with j ahead: states j..0 waiting, then served / abandoned (absorbing)
    m = k_max - n
    g = np.zeros((m + 2, m + 2))  # index m+1 = served; abandoned is the lost mass
    for j in range(m + 1):
        g[j, j] = -(n * mu + j * theta + theta)
        g[j, j - 1 if j > 0 else m + 1] = n * mu + j * theta
    served_by_t = linalg.expm(g * t)[: m + 1, m + 1]
    sl = sum(pi[:n]) + sum(pi[n + j] * served_by_t[j] for j in range(m))
    return {"p_wait": sum(pi[n:]), "mean_queue": queue, "p_abandon": theta * queue / lam, "sl": sl}


@pytest.mark.parametrize(
    ("calls_per_hour", "aht_s", "patience_s", "agents", "threshold_s"),
    [
        (200, 180, 300, 10, 20),
        (300, 240, 60, 15, 30),
        (120, 300, 600, 6, 0),
        (400, 180, 90, 12, 60),
    ],
)
def test_erlang_a_matches_an_independent_ctmc_solution(
    calls_per_hour: float, aht_s: float, patience_s: float, agents: int, threshold_s: float
) -> None:
    exact = erlang_a(calls_per_hour / 3600, aht_s, patience_s, agents, threshold_s)
    ref = _ctmc_erlang_a(calls_per_hour / 3600, 1 / aht_s, 1 / patience_s, agents, threshold_s)
    assert exact.p_wait == pytest.approx(ref["p_wait"], abs=1e-9)
    assert exact.mean_queue == pytest.approx(ref["mean_queue"], abs=1e-8)
    assert exact.p_abandon == pytest.approx(ref["p_abandon"], abs=1e-9)
    assert exact.service_level == pytest.approx(ref["sl"], abs=1e-8)


def test_erlang_a_identities() -> None:
    a = erlang_a(300 / 3600, 240, 120, 18, 20)
    theta = 1 / 120
    assert a.p_abandon == pytest.approx(theta * a.mean_wait_s, rel=1e-12)  # P(ab) = theta E[W]
    assert a.mean_queue == pytest.approx(300 / 3600 * a.mean_wait_s, rel=1e-12)  # Little
    assert a.service_level == pytest.approx(a.service_level_answered * (1 - a.p_abandon), rel=1e-9)


def test_large_systems_are_safe_and_fast_enough() -> None:
    for agents in (9_000, 10_000, 10_200, 12_000):
        a = erlang_a(10_000 / 240, 240, 180, agents, 20)
        c = erlang_c(10_000 / 240, 240, agents, 20)
        for p in (a.p_wait, a.service_level, a.p_abandon, a.occupancy, c.p_wait, c.service_level):
            assert 0.0 <= p <= 1.0
    assert erlang_b(20_000, 19_000).p_block == pytest.approx(0.05, abs=0.01)


traffic = st.floats(0.05, 300)
aht = st.floats(10, 900)
patience = st.floats(5, 5000)


@settings(max_examples=200, deadline=None)
@given(traffic, aht, patience, st.integers(0, 400), st.floats(0, 120))
def test_probabilities_stay_in_unit_interval(
    a: float, aht_s: float, pat: float, n: int, t: float
) -> None:
    for p in (erlang_b(a, n).p_block,):
        assert 0 <= p <= 1
    r = erlang_a(a / aht_s, aht_s, pat, n, t)
    for p in (r.p_wait, r.p_abandon, r.service_level, r.service_level_answered, r.occupancy):
        assert 0 <= p <= 1
    if n > 0:
        c = erlang_c(a / aht_s, aht_s, n, t)
        assert 0 <= c.p_wait <= 1
        assert 0 <= c.service_level <= 1


@settings(max_examples=150, deadline=None)
@given(traffic, aht, patience, st.integers(1, 300), st.floats(0, 120))
def test_service_level_never_drops_when_an_agent_is_added(
    a: float, aht_s: float, pat: float, n: int, t: float
) -> None:
    rate = a / aht_s
    assert (
        erlang_c(rate, aht_s, n + 1, t).service_level >= erlang_c(rate, aht_s, n, t).service_level
    )
    more, less = erlang_a(rate, aht_s, pat, n + 1, t), erlang_a(rate, aht_s, pat, n, t)
    assert more.service_level >= less.service_level - 1e-12
    assert more.p_abandon <= less.p_abandon + 1e-12


def test_bad_input_names_the_quantity() -> None:
    with pytest.raises(InputError, match=r"aht_s: -1"):
        erlang_c(0.1, -1, 3, 20)
    with pytest.raises(InputError, match=r"agents: -2"):
        erlang_b(3, -2)
    with pytest.raises(InputError, match="patience_s"):
        erlang_a(0.1, 100, math.inf, 3, 20)
