"""Antithetic pairs (``--antithetic``): replications 2k and 2k + 1 draw from one set of
streams, the second with 1 - U where the first drew U (``sample.Inverse``); the pair's
mean is the unit of the CIs. Honest: each draw has its distribution, the estimator has no
bias beyond noise and its CI covers exact Erlang A at its stated rate; plain draws are
unchanged (``tests/test_pinned_results.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from callsim.analytics.metrics import metric_samples
from callsim.analytics.precision import (
    Look,
    StoppingRule,
    estimate,
    pair_means,
    parse_precision,
)
from callsim.scenario.model import Empirical, Exponential, Gamma, Lognormal, Uniform
from callsim.sim import simulate
from callsim.sim.execute import Executor, Job
from callsim.sim.plan import build_plan
from callsim.sim.run import CONTROLS, controls
from callsim.sim.sample import Streams, poisson_times, sampler
from tests.test_cli import run
from tests.test_precision import SMALL, exact_truth, small

HEADLINE = ("service_level", "abandon_rate", "asa_s", "occupancy")
DISTS = {
    "exponential": Exponential(dist="exponential", mean=120.0),
    "lognormal": Lognormal(dist="lognormal", mean=150.0, cv=1.2),
    "gamma": Gamma(dist="gamma", mean=200.0, cv=0.7),
    "uniform": Uniform(dist="uniform", low=10.0, high=50.0),
    "empirical": Empirical(dist="empirical", values=[5.0, 20.0, 60.0]),
}


@pytest.mark.parametrize("name", list(DISTS))
def test_each_draw_has_its_distribution_and_its_twin_mirrors_it(name: str) -> None:
    """20,000 draws of each member of a pair: the plain sampler's distribution (a
    two-sample Kolmogorov-Smirnov test against numpy's own draws), and the twin's draw
    the same quantile from the other end (their CDF values sum to 1; negative
    correlation)."""
    draw = sampler(DISTS[name])
    first = draw(Streams(5, 0, antithetic=True).numpy("talk"), 20_000)  # type: ignore[arg-type]
    twin = draw(Streams(5, 1, antithetic=True).numpy("talk"), 20_000)  # type: ignore[arg-type]
    plain = draw(np.random.default_rng(9), 20_000)
    for x in (first, twin):
        assert stats.ks_2samp(x, plain).pvalue > 0.001
    assert np.corrcoef(first, twin)[0, 1] < -0.3
    if name != "empirical":  # continuous: exactly the mirrored quantile
        order = np.argsort(first)
        assert np.all(np.diff(twin[order]) <= 1e-9)


def test_a_pair_draws_u_and_one_minus_u_and_pairs_differ() -> None:
    a = Streams(5, 2, antithetic=True).numpy("arrivals").random(1000)
    b = Streams(5, 3, antithetic=True).numpy("arrivals").random(1000)
    c = Streams(5, 4, antithetic=True).numpy("arrivals").random(1000)
    assert np.allclose(a + b, 1.0)
    assert a.min() > 0
    assert a.max() < 1
    assert not np.allclose(a, c)
    # without the option a replication's generator is numpy's own, as ever
    assert isinstance(Streams(5, 2).numpy("arrivals"), np.random.Generator)


def test_arrival_counts_stay_paired_whatever_the_counts() -> None:
    """Counts by the inverse Poisson CDF from their own uniforms: the twin's count of every
    piece is the mirrored quantile, even after pieces whose counts differ."""
    pieces = [(0.0, 1800.0, 0.05 + 0.01 * k) for k in range(8)]
    a = poisson_times(Streams(1, 0, antithetic=True).numpy("arrivals"), pieces)  # type: ignore[arg-type]
    b = poisson_times(Streams(1, 1, antithetic=True).numpy("arrivals"), pieces)  # type: ignore[arg-type]
    mean = sum(r * (e - s) for s, e, r in pieces)
    assert (len(a) - mean) * (len(b) - mean) <= 0  # one above the mean, one below
    assert abs(len(a) + len(b) - 2 * mean) < 4 * np.sqrt(2 * mean) / 3


def test_pair_means_and_the_estimate_of_pairs() -> None:
    x = np.array([1.0, 3.0, 2.0, np.nan, np.nan, np.nan])
    assert np.allclose(pair_means(x)[:2], [2.0, 2.0])
    assert np.isnan(pair_means(x)[2])
    rng = np.random.default_rng(3)
    u = rng.random(400)
    y = np.column_stack([u, 1 - u]).ravel() + rng.normal(0, 0.01, 800)  # antithetic days
    est = estimate(y, None, pairs=True)
    plain = estimate(y, None, pairs=False)
    assert plain.variance_ratio == 1.0
    assert est.variance_ratio > 50  # the pairs cancel the uniform's noise
    assert est.ci95 < plain.ci95 / 5
    assert abs(est.mean - 0.5) <= est.ci95


def test_the_rule_in_pairs_runs_even_totals() -> None:
    rule = StoppingRule(parse_precision("5%"), 11, 101, pairs=True)
    assert rule.first == 12
    assert rule.cap == 100
    assert rule.next_total(Look(12, "x", 1.0, 0.5, 2.0), 1) == 48  # four times at most
    assert rule.next_total(Look(12, "x", 1.0, 0.7, 1.42), 1) == 28  # 12 x 1.42² x 1.1: 27
    assert rule.next_total(Look(12, "x", 1.0, 1.0, 1.05), 1) == 24
    assert rule.next_total(Look(96, "x", 1.0, 0.5, 2.0), 3) == 100
    assert rule.next_total(Look(100, "x", 1.0, 0.5, 2.0), 4) is None
    assert "antithetic" in rule.record([Look(100, "x", 1.0, 0.5, 2.0)], ["x"])


def test_the_estimator_is_unbiased_and_its_ci_covers_exact_erlang_a() -> None:
    """1,500 days of a small Erlang A centre in antithetic pairs: each headline figure's
    CI of the pairs' means covers the exact Erlang A value in at least 90 % of 150 runs
    of 5 pairs (95 % stated; a binomial standard error of 1.8 %), and with control
    variates too in at least 87.5 % of 75 runs of 10 pairs (5 pairs leave the 3 controls
    too few degrees of freedom; 2.5 %); over all days the pairs' mean is within 3
    standard errors of exact Erlang A (no bias beyond noise), and the pairs narrow the
    CIs."""
    truth = exact_truth()
    sc = small()
    plan = build_plan(sc)
    days = Executor().run([Job(sc.model_dump_json(), 2027, 1500, 0, True)])[0]
    ratios: dict[str, list[float]] = {m: [] for m in HEADLINE}
    all_samples = metric_samples(days, (0, 1))
    for each, cv, least in ((10, False, 0.90), (20, True, 0.875)):
        runs = len(days) // each
        covered = dict.fromkeys(HEADLINE, 0)
        for k in range(runs):
            reps = days[k * each : (k + 1) * each]
            samples = metric_samples(reps, (0, 1))
            c = controls(plan, reps) if cv else None
            for m in HEADLINE:
                est = estimate(samples[m], c, pairs=True)
                assert est.controls == (len(CONTROLS) if cv else 0)
                covered[m] += abs(est.mean - truth[m]) <= est.ci95
                if not cv:
                    ratios[m].append(est.variance_ratio)
        for m, n in covered.items():
            assert n / runs >= least, f"{m} (controls: {cv}): {n / runs:.3f} of {runs} covered"
    for m in HEADLINE:
        pairs = pair_means(all_samples[m])
        se = pairs.std(ddof=1) / np.sqrt(len(pairs))
        assert abs(pairs.mean() - truth[m]) <= 3 * se, m
        assert np.median(ratios[m]) > 1, m


def test_a_run_in_pairs_and_to_a_precision() -> None:
    s = simulate(small(), seed=4, workers=1, replications=5, antithetic=True).summary
    assert s["replications"] == 6
    vr = s["variance_reduction"]
    assert vr["method"] == "antithetic pairs"
    assert vr["controls"] == []
    assert list(vr["figures"]) == list(HEADLINE)
    p = parse_precision("10%")
    both = simulate(
        small(), seed=4, workers=1, precision=p, control_variates=True, antithetic=True
    ).summary
    rule = both["stopping_rule"]
    assert rule["estimator"] == "antithetic pairs + control variates"
    assert rule["within_bound"]
    assert all(n % 2 == 0 for n in rule["batches"])
    for m in HEADLINE:
        t = both["totals"][m]
        assert t["ci95"] <= 0.10 * abs(t["mean"]) + 1e-12, m


def test_cli_run_with_antithetic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    code, out, err = run(capsys, "run", str(path), "-n", "7", "--workers", "1",
                         "--antithetic", "--json")  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["replications"] == 8
    assert doc["variance_reduction"]["method"] == "antithetic pairs"
    code, out, err = run(capsys, "run", str(path), "--precision", "15%", "--workers", "1",
                         "--antithetic", "--out", str(tmp_path / "r"), "--no-plots")  # fmt: skip
    assert code == 0, err
    assert "by antithetic pairs" in out + err
    assert "Antithetic pairs: plain and improved" in out


def test_a_sweep_in_pairs_keeps_its_paired_differences(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every point runs the same pairs of days: each figure and paired difference is
    estimated from the pairs' means, and the rows say the variance ratio."""
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    code, out, err = run(capsys, "sweep", str(path), "--vary", "agents[0].count=10,11", "-n",
                         "8", "--workers", "1", "--antithetic", "--json")  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["antithetic"] is True
    assert doc["replications"] == 8
    second = doc["points"][1]
    assert second["abandon_rate_variance_ratio"] is not None
    assert second["abandon_rate_diff_variance_ratio"] is not None
    assert second["abandon_rate_diff"] < 0  # one more agent: fewer abandon


def test_pairs_are_the_same_days_on_any_workers() -> None:
    """Worker processes run a pair's days as this process does (the job carries the
    option), and a run in pairs differs from a plain one."""
    one = simulate(small(), seed=4, workers=1, replications=6, antithetic=True).summary
    two = simulate(small(), seed=4, workers=2, replications=6, antithetic=True).summary
    plain = simulate(small(), seed=4, workers=1, replications=6).summary
    assert one["totals"] == two["totals"]
    assert one["totals"]["offered"] != plain["totals"]["offered"]
