"""Issue 18's first items: day-to-day volume uncertainty (simulated, and its Erlang X
analogue), wait percentiles and the three service-level definitions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from callsim.analytics.erlang import erlang_a, erlang_c, with_forecast_error
from callsim.analytics.metrics import WAIT_BINS, hist_percentile, metric_samples
from callsim.errors import InputError
from callsim.scenario.model import Scenario
from callsim.sim import simulate
from callsim.sim.execute import Job, executor
from tests.test_cli import run

ERLANG_A_DAY = {
    "name": "erlang-a-small",
    "horizon": {"start": "08:00", "end": "16:00", "interval_min": 60, "warmup_min": 60},
    "service_level": {"sl_threshold_s": 20, "sl_target": 0.8, "short_abandon_s": 5},
    "routing": {"strategy": "longest_idle", "ring_timeout_s": 15},
    "queues": [{"name": "q", "skills": ["s"]}],
    "calls": [
        {
            "queue": "q",
            "arrivals": {"per_hour": 600},
            "talk_s": {"dist": "exponential", "mean": 240},
            "patience_s": {"dist": "exponential", "mean": 180},
        }
    ],
    "agents": [{"name": "a", "count": 42, "skills": ["s"]}],
}


def scenario(cv: float | None = None, dist: str = "gamma", **service_level: float) -> Scenario:
    data = json.loads(json.dumps(ERLANG_A_DAY))
    if cv is not None:
        data["calls"][0]["arrivals"]["day_to_day"] = {"dist": dist, "cv": cv}
    data["service_level"].update(service_level)
    return Scenario.model_validate(data)


def test_day_volume_spreads_as_gamma_plus_poisson() -> None:
    """Calls a day: Poisson of a gamma-mixed mean, whose coefficient of variation is
    sqrt(cv^2 + 1/mean) (a negative binomial); the mean stays that of the forecast."""
    with executor(2) as ex:
        [reps] = ex.run([Job(scenario(0.2).model_dump_json(), 1, 120)])
        [plain] = ex.run([Job(scenario().model_dump_json(), 1, 120)])
    offered = metric_samples(reps, (0, 1))["offered"]
    base = metric_samples(plain, (0, 1))["offered"]
    mean = 600 * 8 * 0.97  # eight hours, a few short abandons not offered
    assert offered.mean() == pytest.approx(base.mean(), rel=0.06)
    cv = offered.std(ddof=1) / offered.mean()
    assert cv == pytest.approx(math.sqrt(0.2**2 + 1 / mean), rel=0.2)
    assert base.std(ddof=1) / base.mean() < 0.05  # Poisson alone: about 1/sqrt(4,700)


def test_simulation_matches_the_erlang_x_analogue() -> None:
    """The long-run service level and abandonment over uncertain days, pooled over the
    simulated days, against Erlang A averaged over the same gamma multiplier."""
    with executor(2) as ex:
        [reps] = ex.run([Job(scenario(0.1).model_dump_json(), 2, 160)])
    m = metric_samples(reps, (0, 1))
    closed = with_forecast_error(lambda r: erlang_a(r, 240, 180, 42, 20), 600 / 3600, 0.1)
    n = len(reps)
    for simulated, counts, expected in (
        (m["service_level"] * m["offered"], m["offered"], closed.service_level),
        (m["abandoned"], m["offered"], closed.p_abandon),
    ):
        pooled = simulated.sum() / counts.sum()
        resid = simulated - pooled * counts
        se = math.sqrt((resid**2).sum() / (n * (n - 1))) / counts.mean()
        assert abs(pooled - expected) < 3 * se + 0.01, (pooled, expected, se)
    # and uncertainty costs: the known-volume figure is better
    assert closed.service_level < closed.service_level_known_volume


def test_forecast_error_analytics_and_cli(capsys: pytest.CaptureFixture[str]) -> None:
    x = with_forecast_error(lambda r: erlang_c(r, 180, 14, 20), 100 / 1800, 0.1, "normal")
    assert x.service_level < x.service_level_known_volume
    assert x.service_level_p10 < x.service_level
    code, out, _ = run(
        capsys,
        "erlang",
        "a",
        "--calls",
        "300",
        "--aht-s",
        "240",
        "--agents",
        "42",
        "--patience-s",
        "180",
        "--forecast-cv",
        "0.1",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["model"] == "a"
    assert doc["service_level"] < doc["service_level_known_volume"]
    code, _, err = run(
        capsys,
        "erlang",
        "c",
        "--calls",
        "100",
        "--aht-s",
        "180",
        "--agents",
        "14",
        "--forecast-cv",
        "3",
    )
    assert (code, err.strip()) == (2, "Error: --forecast-cv: 3.0 is not within (0, 2]")
    with pytest.raises(InputError, match="not one of gamma, normal"):
        with_forecast_error(lambda r: erlang_c(r, 180, 14, 20), 0.05, 0.1, "beta")


def test_three_service_levels_and_wait_percentiles() -> None:
    s = simulate(scenario(short_abandon_s=5), replications=4, workers=1).summary
    d = s["service_level_definitions"]
    answered, offered, everything = (
        d["of_answered"]["mean"],
        d["of_offered_without_short_abandons"]["mean"],
        d["of_all_offered"]["mean"],
    )
    assert answered > offered > everything
    p = s["wait_percentiles_s"]
    assert p["p50"]["mean"] <= p["p80"]["mean"] <= p["p90"]["mean"] <= p["p95"]["mean"]
    same = simulate(scenario(short_abandon_s=0), replications=2, workers=1).summary
    d0 = same["service_level_definitions"]
    assert d0["of_all_offered"]["mean"] == pytest.approx(
        d0["of_offered_without_short_abandons"]["mean"]
    )


def test_percentiles_from_the_histogram() -> None:
    rng = np.random.default_rng(1)
    waits = rng.exponential(40, 50_000)
    hist = np.histogram(waits, bins=WAIT_BINS)[0].astype(float)
    for q in (50, 80, 90, 95):
        assert hist_percentile(hist, q) == pytest.approx(np.percentile(waits, q), abs=1.0)
    assert math.isnan(hist_percentile(np.zeros(len(WAIT_BINS) - 1), 50))
