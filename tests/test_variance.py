"""Control variates (``--control-variates``): the headline figures corrected by each
day's drawn calls and work, whose means the scenario gives exactly. Honest: the controls'
means are exact, the estimator has no bias beyond noise, its CI covers exact Erlang A at
its stated rate, its estimates fall inside the plain CIs, and a run without the option is
what it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.analytics.metrics import control_samples, controlled, mean_ci, metric_samples
from callsim.analytics.precision import parse_precision
from callsim.scenario import Scenario, load_scenario
from callsim.sim import simulate
from callsim.sim.engine import Calls
from callsim.sim.execute import Executor, Job
from callsim.sim.plan import CONTROL_STEP_S, build_plan
from callsim.sim.run import CONTROLS, controls
from callsim.sim.sample import Streams
from tests.test_cli import run
from tests.test_precision import (
    AGENTS,
    AHT_S,
    PATIENCE_S,
    RATE_H,
    SMALL,
    THRESHOLD_S,
    exact_truth,
    small,
)

HEADLINE = ("service_level", "abandon_rate", "asa_s", "occupancy")
ROOT = Path(__file__).resolve().parent.parent / "scenarios"

# two streams with every kind of draw the controls' means depend on: a rising profile, a
# day-to-day volume multiplier, gamma, lognormal, uniform, constant and empirical work
MIXED = {
    "name": "mixed-work",
    "horizon": {"start": "08:00", "end": "10:00", "interval_min": 30, "warmup_min": 20},
    "queues": [{"name": "a", "skills": ["a"]}, {"name": "b", "skills": ["b"]}],
    "calls": [
        {
            "queue": "a",
            "arrivals": {
                "profile": [{"at": "07:40", "per_hour": 120}, {"at": "09:10", "per_hour": 300}],
                "day_to_day": {"dist": "gamma", "cv": 0.2},
            },
            "talk_s": {"dist": "gamma", "mean": 200, "cv": 0.7},
            "wrap_up_s": {"dist": "uniform", "low": 10, "high": 50},
        },
        {
            "queue": "b",
            "arrivals": {"per_hour": 90},
            "talk_s": {"dist": "lognormal", "mean": 150, "cv": 1.2},
            "wrap_up_s": {"dist": "empirical", "values": [5, 20, 60]},
        },
        {"queue": "b", "arrivals": {"per_hour": 30}, "talk_s": {"dist": "constant", "value": 90}},
    ],
    "agents": [{"name": "t", "count": 12, "skills": ["a", "b"]}],
}


def drawn_controls(scenario: Scenario, days: int) -> np.ndarray:
    """The controls of ``days`` days drawn but not run (the controls are drawn before
    the day), minus their exact means."""
    plan = build_plan(scenario)
    arrived, work = [], []
    for r in range(days):
        streams = Streams(11, r)
        draws = {n: streams.numpy(n) for n in ("talk", "patience", "wrap_up", "volume")}
        calls = Calls(plan, streams.numpy("arrivals"), draws)
        arrived.append(calls.arrived)
        work.append(calls.offered_work_s)
    s = plan.streams
    return control_samples(
        np.stack(arrived),
        np.stack(work),
        plan.expected_calls(CONTROL_STEP_S),
        np.array([x.mean_handle_s for x in s]),
        np.array([x.handle_moment2_s2 for x in s]),
        np.array([x.day_to_day.cv if x.day_to_day else 0.0 for x in s]),
    )


def within_noise(c: np.ndarray) -> np.ndarray:
    """Each control's mean over the days in standard errors from 0."""
    return np.asarray(c.mean(axis=0) / (c.std(axis=0, ddof=1) / np.sqrt(len(c))))


def test_the_controls_means_are_exact() -> None:
    """Each control's mean over 3,000 drawn days is its exact mean within 4 standard
    errors, and 3 controls."""
    plan = build_plan(Scenario.model_validate(MIXED))
    assert plan.slots(CONTROL_STEP_S) == 8
    c = drawn_controls(Scenario.model_validate(MIXED), 3000)
    assert c.shape == (3000, len(CONTROLS))
    z = within_noise(c)
    assert np.all(np.abs(z) < 4), z
    # a wrong mean shows: the spread's without the day-to-day multiplier's part
    work = plan.expected_calls(CONTROL_STEP_S) * [x.mean_handle_s for x in plan.streams]
    volume = plan.streams[0].day_to_day
    assert volume is not None
    left_out = float(((volume.cv * work[:, 0]) ** 2).sum())
    assert abs(within_noise(c + np.array([0.0, 0.0, left_out]))[2]) > 4
    # the expected calls are the rates' integral: 2 h of the profile, 30 + 90 an hour
    assert plan.expected_calls().sum() == pytest.approx(120 * 70 / 60 + 300 * 50 / 60 + 2 * 120)


@pytest.mark.parametrize(
    "name", ["answering-service.yaml", "blended-outbound.yaml", "week-connected.yaml"]
)
def test_the_controls_means_are_exact_on_shipped_scenarios(name: str) -> None:
    """Clients' calls, a dialer's stream without arrivals, a connected week."""
    z = within_noise(drawn_controls(load_scenario(ROOT / name), 300))
    assert np.all(np.abs(z) < 4), z


def _days(scenario: Scenario, seed: int, n: int) -> list:  # type: ignore[type-arg]
    return Executor().run([Job(scenario.model_dump_json(), seed, n)])[0]


def test_the_estimator_is_unbiased_and_its_ci_covers_exact_erlang_a() -> None:
    """150 runs of 10 days of a small Erlang A centre (1,500 days): each headline
    figure's control-variate CI covers the exact Erlang A value in at least 90 % of the
    runs (95 % stated; 150 runs: a binomial standard error of 1.8 %), and its mean
    differs from the plain mean of the same days by no more than noise (3 standard
    errors of the differences)."""
    truth = exact_truth()
    runs, each = 150, 10
    sc = small()
    plan = build_plan(sc)
    days = _days(sc, 2026, runs * each)
    covered = dict.fromkeys(HEADLINE, 0)
    diffs: dict[str, list[float]] = {m: [] for m in HEADLINE}
    ratios: dict[str, list[float]] = {m: [] for m in HEADLINE}
    for k in range(runs):
        reps = days[k * each : (k + 1) * each]
        samples = metric_samples(reps, (0, 1))
        c = controls(plan, reps)
        for m in HEADLINE:
            est = controlled(samples[m], c)
            assert est.controls == len(CONTROLS)
            covered[m] += abs(est.mean - truth[m]) <= est.ci95
            diffs[m].append(est.mean - float(np.mean(samples[m])))
            ratios[m].append(est.variance_ratio)
    for m in HEADLINE:
        share = covered[m] / runs
        assert share >= 0.90, f"{m}: {share:.3f} of {runs} runs covered"
        d = np.array(diffs[m])
        assert abs(d.mean()) <= 3 * d.std(ddof=1) / np.sqrt(runs), m
    # occupancy follows the offered work closely: the controls take most of its noise
    assert np.median(ratios["occupancy"]) > 2


def test_a_run_without_the_option_is_unchanged() -> None:
    """The seed's figures as before control variates existed (pinned)."""
    s = simulate(small(), seed=4, workers=1, replications=10).summary
    assert "variance_reduction" not in s
    pinned = {
        "service_level": (0.8329786244397328, 0.03579377784645699),
        "abandon_rate": (0.05973075258942001, 0.01368131527484822),
        "asa_s": (5.897966218340624, 1.2539057165700054),
        "occupancy": (0.761869513978669, 0.017629242111268203),
    }
    for m, (mean, half) in pinned.items():
        assert (s["totals"][m]["mean"], s["totals"][m]["ci95"]) == pytest.approx((mean, half))
    assert s["wait_percentiles_s"]["p90"]["pooled"] == pytest.approx(23.17067307692307)


@pytest.mark.parametrize(
    ("scenario", "exact"),
    [
        (small(), erlang_a(RATE_H / 3600, AHT_S, PATIENCE_S, AGENTS, THRESHOLD_S)),
        (load_scenario(ROOT / "erlang-c-twin.yaml"), erlang_c(1000 / 3600, 180, 55, 20)),
    ],
    ids=["erlang-a", "erlang-c"],
)
def test_controlled_estimates_fall_inside_the_plain_cis(scenario: Scenario, exact: object) -> None:
    n = 30 if scenario.name == "small-erlang-a" else 12
    result = simulate(scenario, seed=7, workers=1, replications=n, control_variates=True)
    s = result.stats
    vr = s.variance_reduction
    assert vr is not None
    assert vr.method == "control variates"
    assert tuple(vr.controls) == CONTROLS
    plain = simulate(scenario, seed=7, workers=1, replications=n).stats
    for m in HEADLINE:
        est, before = getattr(s.totals, m), vr.figures[m].plain
        assert before == getattr(plain.totals, m)  # the plain estimate, as a plain run's
        assert est.mean is not None
        assert before.mean is not None
        assert before.ci95 is not None
        if m == "abandon_rate" and scenario.name == "erlang-c-twin":
            assert est.mean == before.mean == 0.0  # nobody hangs up: nothing to correct
            continue
        assert abs(est.mean - before.mean) <= before.ci95, m
        assert vr.figures[m].variance_ratio is not None
    # the occupancy of an Erlang C day is its offered work: the controls take its noise
    ratio = vr.figures["occupancy"].variance_ratio
    assert ratio is not None
    assert ratio > 2
    assert s.totals.occupancy.ci95 is not None
    assert abs(s.totals.occupancy.mean - exact.occupancy) <= s.totals.occupancy.ci95  # type: ignore[attr-defined, operator]
    # the other figures are the plain ones
    assert s.totals.offered == plain.totals.offered
    assert s.queues == plain.queues


def test_precision_stops_on_the_controlled_cis() -> None:
    p = parse_precision("5%")
    cv = simulate(small(), seed=4, workers=1, precision=p, control_variates=True).summary
    rule = cv["stopping_rule"]
    assert rule["estimator"] == "control variates"
    assert rule["within_bound"]
    for m in HEADLINE:
        t = cv["totals"][m]
        assert t["ci95"] <= 0.05 * abs(t["mean"]) + 1e-12, m
    w = rule["widest"]
    assert w["ci95"] == pytest.approx(cv["totals"][w["figure"]]["ci95"])
    plain = simulate(small(), seed=4, workers=1, precision=p).summary
    assert "estimator" not in plain["stopping_rule"]
    assert cv["replications"] < plain["replications"]


def test_cli_run_with_control_variates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    code, out, err = run(capsys, "run", str(path), "-n", "12", "--workers", "1",
                         "--control-variates", "--json")  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc["variance_reduction"]["figures"]) == list(HEADLINE)
    assert doc["variance_reduction"]["controls"] == list(CONTROLS)
    code, out, err = run(capsys, "run", str(path), "--precision", "10%", "--workers", "1",
                         "--control-variates", "--out", str(tmp_path / "r"), "--no-plots")  # fmt: skip
    assert code == 0, err
    assert "by control variates" in err
    assert "variance ratio" in out + err
    code, out, err = run(capsys, "sweep", str(path), "--vary", "agents[0].count=10,11", "-n",
                         "6", "--workers", "1", "--control-variates", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["points"][1]["abandon_rate_diff_variance_ratio"] is not None


def test_a_sweep_with_control_variates_keeps_its_paired_differences() -> None:
    from callsim.scenario.vary import parse_vary
    from callsim.sim.sweep import sweep

    varies = [parse_vary("agents[0].count=10,11")]
    plain = sweep(small(), varies, Executor(), replications=12, seed=3)
    cv = sweep(small(), varies, Executor(), replications=12, seed=3, control_variates=True)
    assert "control_variates" not in plain
    assert cv["control_variates"] == list(CONTROLS)
    assert cv["common_random_numbers"]
    for before, after in zip(plain["points"], cv["points"], strict=True):
        assert "service_level_variance_ratio" not in before
        for m in HEADLINE:
            assert abs(after[m] - before[m]) <= before[f"{m}_ci95"], m
            assert after[f"{m}_variance_ratio"] is not None
    other, was = cv["points"][1], plain["points"][1]
    for m in HEADLINE:  # the same days at both points: the difference stays paired
        assert abs(other[f"{m}_diff"] - was[f"{m}_diff"]) <= was[f"{m}_diff_ci95"], m
        assert other[f"{m}_diff_ci95"] < other[f"{m}_diff_ci95_independent"], m
        assert other[f"{m}_diff_variance_ratio"] is not None
    done = sweep(small(), varies, Executor(), replications=10, seed=3,
                 precision=parse_precision("10%"), control_variates=True)  # fmt: skip
    assert done["stopping_rule"]["estimator"] == "control variates"
    assert done["stopping_rule"]["within_bound"]


def test_the_estimator_on_known_numbers() -> None:
    """A figure that is a control plus noise: the controlled mean is the noise's, exact
    for a figure that is the control itself; a control that does not vary or repeats
    another is not counted; too few days for the controls: the plain mean and CI."""
    rng = np.random.default_rng(3)
    c = rng.normal(0, 1, (40, 1))  # a control minus its known mean 0
    noise = rng.normal(0, 0.1, 40)
    y = 5.0 + 2.0 * c[:, 0] + noise
    est = controlled(y, c)
    plain_mean, plain_half = float(np.mean(y)), float(mean_ci(y[:, None])[1][0])
    assert est.controls == 1
    assert abs(est.mean - 5.0) < est.ci95 < plain_half / 5
    assert est.variance_ratio > 100
    exact = controlled(5.0 + c[:, 0], c)
    assert exact.mean == pytest.approx(5.0)
    assert exact.ci95 == pytest.approx(0.0, abs=1e-9)
    same = controlled(y, np.hstack([c, 2 * c, np.ones((40, 1))]))
    assert same.controls == 1
    assert (same.mean, same.ci95) == pytest.approx((est.mean, est.ci95))
    few = controlled(y[:4], rng.normal(0, 1, (4, 3)))  # 4 days, 3 controls: 0 dof left
    assert few.controls == 0
    assert (few.mean, few.ci95, few.variance_ratio) == pytest.approx(
        (float(np.mean(y[:4])), float(mean_ci(y[:4, None])[1][0]), 1.0)
    )
    with_nan = controlled(np.append(y, np.nan), np.vstack([c, [[9.0]]]))
    assert (with_nan.mean, with_nan.ci95) == pytest.approx((est.mean, est.ci95))
    assert plain_mean != est.mean
