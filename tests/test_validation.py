"""The project's anchor: single-skill simulations agree with exact Erlang A and C.

Each simulated day-mean must lie within 3 standard errors (over replications) of the
exact value from callsim.analytics. Seeds are fixed, so the test is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy import stats

from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.scenario import load_scenario
from callsim.sim import simulate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _check(summary: dict, exact: dict[str, float]) -> None:
    n = summary["replications"]
    t = stats.t.ppf(0.975, n - 1)
    for metric, value in exact.items():
        m = summary["totals"][metric]
        se = m["ci95"] / t
        assert abs(m["mean"] - value) <= 3 * se + 1e-12, (
            f"{metric}: simulated {m['mean']:.5f} ± {m['ci95']:.5f} vs exact {value:.5f}"
        )


@pytest.mark.slow
def test_erlang_a_large_matches_exact_erlang_a() -> None:
    result = simulate(load_scenario(SCENARIOS / "erlang-a-large.yaml"), replications=8, seed=2024)
    a = erlang_a(6000 / 3600, 240, 180, 420, 20)
    _check(
        result.summary,
        {
            "service_level": a.service_level,
            "abandon_rate": a.p_abandon,
            "asa_s": a.asa_s,
            "p_wait": a.p_wait,
        },
    )


@pytest.mark.slow
def test_erlang_c_twin_matches_exact_erlang_c() -> None:
    result = simulate(load_scenario(SCENARIOS / "erlang-c-twin.yaml"), replications=30, seed=2024)
    c = erlang_c(1000 / 3600, 180, 55, 20)
    assert c.asa_s is not None
    _check(
        result.summary,
        {
            "service_level": c.service_level,
            "abandon_rate": 0.0,
            "asa_s": c.asa_s,
            "p_wait": c.p_wait,
        },
    )


def test_the_confidence_intervals_t_quantile_matches_scipy() -> None:
    import numpy as np
    from scipy import stats

    from callsim.analytics.metrics import _t975

    dof = np.arange(1, 5000)
    assert np.abs(_t975(dof) - stats.t.ppf(0.975, dof)).max() < 1e-7
