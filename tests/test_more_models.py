"""Issue 18's first items: day-to-day volume uncertainty (simulated, and its Erlang X
analogue), wait percentiles and the three service-level definitions."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from callsim.analytics.erlang import (
    erlang_a,
    erlang_b,
    erlang_b_retrials,
    erlang_c,
    with_forecast_error,
)
from callsim.analytics.metrics import WAIT_BINS, hist_percentile, metric_samples
from callsim.core import OfferResult
from callsim.errors import InputError, ScenarioError
from callsim.scenario import load_scenario
from callsim.scenario.model import Scenario
from callsim.scenario.vary import grid, parse_vary
from callsim.sim import simulate
from callsim.sim.check import check_scenario
from callsim.sim.engine import Replication
from callsim.sim.execute import Job, executor
from callsim.sim.plan import build_plan
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]
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


COSTLY = {
    "name": "costly",
    "horizon": {"start": "08:00", "end": "12:00", "interval_min": 30, "warmup_min": 30},
    "queues": [{"name": "general", "skills": ["general"]}, {"name": "sales", "skills": ["sales"]}],
    "calls": [
        {
            "queue": "general",
            "arrivals": {"per_hour": 120},
            "talk_s": {"dist": "exponential", "mean": 180},
            "patience_s": {"dist": "exponential", "mean": 120},
        },
        {
            "queue": "sales",
            "arrivals": {"per_hour": 60},
            "talk_s": {"dist": "exponential", "mean": 180},
            "patience_s": {"dist": "exponential", "mean": 120},
        },
    ],
    "agents": [
        {
            "name": "team",
            "count": 7,
            "skills": ["general"],
            "shift": {"start": "08:00", "end": "12:00"},
            "breaks": [{"start": "10:00", "minutes": 15}],
        },
        {"name": "sellers", "count": 4, "skills": ["sales"]},
    ],
    "costs": {
        "wage_per_hour": 30,
        "wage_per_hour_by_group": {"sellers": 40},
        "per_abandoned_call": 5,
        "per_waiting_second": 0.01,
        "revenue_per_answered": 12,
        "revenue_per_answered_by_queue": {"sales": 50},
    },
}


def test_costs_of_a_day() -> None:
    result = simulate(Scenario.model_validate(COSTLY), replications=4, workers=1)
    s = result.summary
    day = s["costs"]["per_day"]
    # shifts are paid whole, breaks included: 7 x 4 h x 30 + 4 x 4 h x 40
    assert day["wages"]["mean"] == pytest.approx(7 * 4 * 30 + 4 * 4 * 40)
    answered = s["queues"]["general"]["answered"]["mean"], s["queues"]["sales"]["answered"]["mean"]
    assert day["revenue"]["mean"] == pytest.approx(answered[0] * 12 + answered[1] * 50)
    assert day["abandon_cost"]["mean"] == pytest.approx(s["totals"]["abandoned"]["mean"] * 5)
    total = day["wages"]["mean"] + day["abandon_cost"]["mean"] + day["waiting_cost"]["mean"]
    assert day["total_cost"]["mean"] == pytest.approx(total)
    assert sum(s["costs"]["per_interval"]["wages"]) == pytest.approx(day["wages"]["mean"])


def test_cost_mistakes_and_sweeps_by_cost(tmp_path: Path) -> None:
    data = json.loads(json.dumps(COSTLY))
    data["costs"]["wage_per_hour_by_group"] = {"nobody": 3}
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert str(exc.value) == (
        f"{path}: costs.wage_per_hour_by_group.nobody: unknown name 'nobody' (known: team, sellers)"
    )
    from callsim.scenario.vary import parse_vary
    from callsim.sim.sweep import sweep

    with executor(1) as ex:
        doc = sweep(
            Scenario.model_validate(COSTLY),
            [parse_vary("agents[team].count=6,8,10")],
            ex,
            replications=4,
        )
    second = doc["points"][1]
    assert second["total_cost_diff"] == pytest.approx(
        second["total_cost"] - doc["points"][0]["total_cost"]
    )
    assert "margin_diff_ci95" in second
    # cost as the target: the cheapest point, and whether it is surely cheaper
    cheapest = doc["cheapest"]
    costs = [p["total_cost"] for p in doc["points"]]
    assert cheapest["point"] == 1 + costs.index(min(costs))
    assert cheapest["total_cost"] == pytest.approx(min(costs))
    assert cheapest["below_next"] < 0
    assert cheapest["sure"] == (cheapest["below_next"] + cheapest["below_next_ci95"] < 0)
    meeting = doc["cheapest_meeting_target"]
    target = Scenario.model_validate(COSTLY).service_level.sl_target
    if meeting["point"] is not None:
        assert doc["points"][meeting["point"] - 1]["service_level"] >= target


FOLLOWING = {
    "name": "following",
    "horizon": {"start": "08:00", "end": "14:00", "interval_min": 60, "warmup_min": 0},
    "queues": [
        {"name": "support", "skills": ["support"]},
        {"name": "billing", "skills": ["billing"]},
    ],
    "calls": [
        {
            "queue": "support",
            "arrivals": {"per_hour": 60},
            "talk_s": {"dist": "exponential", "mean": 180},
            "recall": {
                "probability": 0.2,
                "by_level": {5: 0.05},
                "delay_s": {"dist": "exponential", "mean": 1800},
            },
            "transfer": {
                "probability": 0.1,
                "queue": "billing",
                "talk_s": {"dist": "constant", "value": 120},
            },
        }
    ],
    "agents": [
        {"name": "novices", "count": 3, "skills": ["support"]},
        {"name": "experts", "count": 3, "skills": {"support": 5}},
        {"name": "billing", "count": 2, "skills": ["billing"]},
    ],
}


def test_recalls_and_transfers_of_served_calls() -> None:
    s = simulate(Scenario.model_validate(FOLLOWING), replications=12, workers=1).summary
    f = s["follow_ups"]
    # a transfer is decided first (10 %), then a recall: 20 % after novices, 5 % after
    # experts, who take about half the calls
    recall = 0.9 * (0.5 * 0.2 + 0.5 * 0.05)
    assert f["recall_free_share"]["mean"] == pytest.approx(1 - recall, abs=0.03)
    offered = s["queues"]["support"]["offered"]["mean"]
    assert f["transferred"] == pytest.approx(0.1 * offered, rel=0.25)
    # transferred callers are billing's only calls
    assert s["queues"]["billing"]["offered"]["mean"] == pytest.approx(f["transferred"], rel=0.1)
    data = json.loads(json.dumps(FOLLOWING))
    data["calls"][0]["transfer"]["queue"] = "nowhere"
    with pytest.raises(ValueError, match="unknown queue 'nowhere'"):
        Scenario.model_validate(data)


def test_an_old_key_names_its_new_one(tmp_path: Path) -> None:
    """A scenario of an older callsim with ``calls[].forward`` (a served caller sent on to
    another queue, now ``transfer``) gets one line naming the new key."""
    data = json.loads(json.dumps(FOLLOWING))
    data["calls"][0]["forward"] = data["calls"][0].pop("transfer")
    path = tmp_path / "old.yaml"
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (
        f"{path}: calls[0].forward: this key is now `transfer` "
        "(see the changelog in docs/simulator.md)"
    )


def _aging(k: float, patience: bool = True) -> Scenario:
    data = load_scenario(ROOT / "scenarios" / "priority-aging.yaml").model_dump()
    for q in data["queues"]:
        q["aging_per_s"] = k
    if not patience:
        for c in data["calls"]:
            c["patience_s"] = None
    return Scenario.model_validate(data)


def test_waiting_time_aging_bounds_the_low_priority_waits() -> None:
    """Priority + k x seconds waited: the standard callers' long waits shrink, premium
    callers wait longer but still less; with no abandonment, the mean wait of all calls
    stays the same (the conservation law of work-conserving, non-preemptive orders)."""
    with executor(2) as ex:
        aged, fixed = (
            simulate(_aging(k, patience=False), replications=6, run_on=ex).summary
            for k in (0.05, 0.0)
        )
    a, f = aged["queues"], fixed["queues"]

    def p95(q: dict[str, Any]) -> float:
        return q["wait_percentiles_s"]["p95"]["mean"]

    assert p95(a["standard"]) < 0.9 * p95(f["standard"])
    assert a["standard"]["asa_s"]["mean"] < f["standard"]["asa_s"]["mean"]
    assert f["premium"]["asa_s"]["mean"] < a["premium"]["asa_s"]["mean"]
    assert a["premium"]["asa_s"]["mean"] < a["standard"]["asa_s"]["mean"]
    assert aged["totals"]["asa_s"]["mean"] == pytest.approx(
        fixed["totals"]["asa_s"]["mean"], rel=0.05
    )


LOSS = {
    "name": "loss",
    "horizon": {"start": "08:00", "end": "16:00", "interval_min": 60, "warmup_min": 60},
    "service_level": {"sl_threshold_s": 20, "sl_target": 0.8},
    "routing": {"strategy": "longest_idle", "ring_timeout_s": 15},
    "queues": [{"name": "q", "skills": ["s"], "max_waiting": 0}],
    "calls": [
        {
            "queue": "q",
            "arrivals": {"per_hour": 200},
            "talk_s": {"dist": "exponential", "mean": 180},
        }
    ],
    "agents": [{"name": "a", "count": 12, "skills": ["s"]}],
}


def _loss(change: Any) -> Scenario:
    data = json.loads(json.dumps(LOSS))
    change(data)
    return Scenario.model_validate(data)


def _within(ci: dict[str, Any], exact: float, slack: float = 0.0) -> None:
    """The simulated mean is within 3 standard errors (1.5 CI half-widths) of exact."""
    assert abs(ci["mean"] - exact) <= 1.5 * ci["ci95"] + slack, (ci, exact)


def test_finite_lines_and_queue_limits_match_erlang_b_and_a() -> None:
    patient = {"dist": "exponential", "mean": 300}

    def limit(d: dict[str, Any]) -> None:
        d["queues"][0]["max_waiting"] = 3
        d["calls"][0]["patience_s"] = patient

    def lines(d: dict[str, Any]) -> None:  # 15 lines = 12 talking + 3 waiting
        d["queues"][0]["max_waiting"] = None
        d["routing"]["lines"] = 15
        d["calls"][0]["patience_s"] = patient

    def retrying(d: dict[str, Any]) -> None:
        d["calls"][0]["retrial"] = {
            "probability": 0.0, "busy_probability": 0.7, "max_attempts": 100,
            "delay_s": {"dist": "exponential", "mean": 60},
        }  # fmt: skip

    with executor(2) as ex:
        loss, limited, by_lines, retried = (
            simulate(_loss(f), replications=16, run_on=ex).summary
            for f in (lambda d: None, limit, lines, retrying)
        )
    # a loss system: Erlang B
    _within(loss["busy_and_balking"]["busy_share"], erlang_b(10, 12).p_block)
    # a queue of three places and patience: Erlang A with a queue limit
    exact = erlang_a(200 / 3600, 180, 300, 12, 20, queue_limit=3)
    _within(limited["busy_and_balking"]["busy_share"], exact.p_block)
    _within(limited["totals"]["abandon_rate"], exact.p_abandon)
    _within(limited["totals"]["service_level"], exact.service_level)
    # lines held by waiting and talking calls: the same system, call for call
    assert by_lines["busy_and_balking"] == limited["busy_and_balking"]
    # blocked callers who try again: Erlang B with retrials (its chain solved exactly)
    again = erlang_b_retrials(200 / 3600, 180, 12, 0.7, 60)
    bb = retried["busy_and_balking"]
    _within(bb["busy_share"], again.p_block_attempt)
    per_call = retried["retrials"] / 16 / (200 * 9)  # nine hours of arrivals a day
    assert per_call == pytest.approx(again.retrials_per_call, rel=0.12)
    assert bb["retrials_after_busy"] == retried["retrials"]


def test_balking_on_the_announced_wait() -> None:
    """With a flat 20 % chance, a fifth of the callers told to wait hang up at once; a
    table that rises with the announced wait loses fewer at a short queue."""

    def flat(d: dict[str, Any]) -> None:
        d["queues"][0]["max_waiting"] = None
        d["calls"][0]["balking"] = {0: 0.2}
        d["calls"][0]["patience_s"] = {"dist": "exponential", "mean": 300}

    def rising(d: dict[str, Any]) -> None:
        flat(d)
        d["calls"][0]["balking"] = {0: 0.0, 600: 0.2}

    with executor(2) as ex:
        f, r = (simulate(_loss(c), replications=8, run_on=ex).summary for c in (flat, rising))
    t = f["totals"]
    balked = f["busy_and_balking"]["balked"]
    waited = t["offered"]["mean"] * t["p_wait"]["mean"]  # balkers waited no time
    assert balked / (balked + waited) == pytest.approx(0.2, abs=0.03)
    assert 0 < r["busy_and_balking"]["balked"] < 0.5 * balked


def test_callbacks_are_counted_apart_and_dialled() -> None:
    """Callers who accept a callback leave the offered calls (counted apart): with the
    same arrivals, offered + accepted callbacks = the offered calls without callbacks.
    The share of dialled callbacks answered is the callers' chance."""
    base = load_scenario(ROOT / "scenarios" / "callbacks.yaml")
    data, declined = base.model_dump(), base.model_dump()
    data["calls"][0]["callback"]["answer"] = 0.6
    declined["calls"][0]["callback"] = None
    with executor(2) as ex:
        cb, no = (
            simulate(Scenario.model_validate(d), replications=8, run_on=ex).summary
            for d in (data, declined)
        )
    c = cb["callbacks"]
    assert c["accepted"] > 20
    assert cb["totals"]["offered"]["mean"] + c["accepted"] == pytest.approx(
        no["totals"]["offered"]["mean"]
    )
    _within(c["connect_rate"], 0.6, slack=0.02)
    assert c["connected"] + c["failed"] <= c["accepted"]
    assert c["mean_delay_s"]["mean"] > 60  # they were offered it above 180 s expected
    assert no["callbacks"]["accepted"] == 0
    assert cb["totals"]["abandon_rate"]["mean"] < no["totals"]["abandon_rate"]["mean"]
    data["queues"][0]["callback_above_s"] = None  # callers ready, never offered: a warning
    warned = [str(p) for p in check_scenario(Scenario.model_validate(data))]
    assert "calls[0].callback: queue 'support' has no callback_above_s" in " ".join(warned)


def test_connected_days_carry_the_abandoners_to_the_next_day() -> None:
    """Every abandoner calls the next day (and nobody the same day): each day carries
    exactly the day before's abandoned calls; the last day's are lost to the horizon."""
    data = load_scenario(ROOT / "scenarios" / "week-connected.yaml").model_dump()
    data["horizon"]["days"] = 3
    data["calls"][0]["retrial"].update(probability=0.0, next_day=1.0, max_attempts=100)
    result = simulate(Scenario.model_validate(data), replications=4, workers=2)
    s, days = result.summary, result.summary["days"]
    assert [d["day"] for d in days] == [1, 2, 3]
    assert days[0]["from_day_before"] == 0
    for before, after in itertools.pairwise(days):
        assert after["from_day_before"] == before["abandoned"] > 0
    assert s["retrials_lost_to_closing"] / 4 == days[-1]["abandoned"]
    assert s["retrials"] / 4 == days[1]["from_day_before"] + days[2]["from_day_before"]
    # those who call the next day call when the others do: in the day's hours
    night = [r for r in result.interval_rows if not "08:00" <= r.interval_start < "18:00"]
    assert night
    assert sum(r.offered or 0 for r in night) == 0


def test_agents_on_a_personal_device_answer_later_and_less_surely() -> None:
    """Offers to agents on a mobile ring their device's ring time, are answered with its
    chance after its pick-up time; desk agents keep the routing's."""
    data = {
        **json.loads(json.dumps(LOSS)),
        "queues": [{"name": "q", "skills": ["s"]}],
        "agents": [
            {"name": "desk", "count": 3, "skills": ["s"]},
            {"name": "mobile", "count": 3, "skills": ["s"],
             "device": {"number": "+47 900 00 000", "answer_probability": 0.5,
                        "answer_delay_s": {"dist": "uniform", "low": 4, "high": 12},
                        "ring_timeout_s": 30}},
        ],
    }  # fmt: skip
    data["calls"][0]["arrivals"]["per_hour"] = 60
    plan = build_plan(Scenario.model_validate(data))
    records = [r for k in range(4) for r in Replication(plan, 1, k).run()]
    offers = [o for r in records for o in r.offers]
    mobile = [o for o in offers if o.agent.startswith("mobile")]
    desk = [o for o in offers if o.agent.startswith("desk")]
    answered = [o for o in mobile if o.result is OfferResult.ANSWERED]
    missed = [o for o in mobile if o.result is OfferResult.NO_ANSWER]
    assert len(answered) / (len(answered) + len(missed)) == pytest.approx(0.5, abs=0.06)
    assert all(4 <= o.ring_s <= 12 for o in answered)
    assert {round(o.ring_s, 6) for o in missed} == {30.0}
    assert all(o.ring_s == 0 and o.result is OfferResult.ANSWERED for o in desk)
    data["agents"][1]["answer_probability"] = 0.9
    with pytest.raises(ValueError, match=r"device\.answer_probability"):
        Scenario.model_validate(data)


def test_sites_apart_are_two_erlang_a_centres_and_pooled_one() -> None:
    """Sites that never share calls behave as two separate Erlang A centres, each with
    its share of the calls; sites that share at once as one centre of all the agents."""
    base = load_scenario(ROOT / "scenarios" / "two-sites.yaml")
    rate, aht, patience = 300 / 3600, 240, 300
    apart, pooled = (
        simulate(p.scenario, replications=8, workers=2).summary
        for p in grid(base, [parse_vary("routing.site_delay_s=86400,0")])
    )
    assert apart["overflow"] == [] or all(o["calls"] == 0 for o in apart["overflow"])
    for site, share, agents in (("oslo", 0.7, 16), ("bergen", 0.3, 8)):
        exact = erlang_a(rate * share, aht, patience, agents, 20)
        _within(apart["queues"][f"support@{site}"]["service_level"], exact.service_level, 0.01)
        _within(apart["queues"][f"support@{site}"]["abandon_rate"], exact.p_abandon, 0.005)
    one = erlang_a(rate, aht, patience, 24, 20)
    _within(pooled["totals"]["service_level"], one.service_level, 0.01)
    _within(pooled["totals"]["abandon_rate"], one.p_abandon, 0.005)
    assert pooled["totals"]["service_level"]["mean"] > apart["totals"]["service_level"]["mean"]
    data = base.written()
    data["agents"][0]["site"] = "trondheim"
    with pytest.raises(ValueError, match="unknown site 'trondheim'"):
        Scenario.model_validate(data)
    data["agents"][0]["site"] = "oslo"
    data["sites"][0]["share"] = 0.5
    with pytest.raises(ValueError, match=r"the shares add up to 0\.8, not 1"):
        Scenario.model_validate(data)


def test_blended_outbound_trades_inbound_service_for_outbound_calls() -> None:
    """The threshold policy: the larger the reserve of idle agents, the better inbound
    calls are served and the fewer outbound calls are made; a reserve of every agent
    never dials and serves inbound exactly as without the campaign."""
    base = load_scenario(ROOT / "scenarios" / "blended-outbound.yaml")
    runs = [
        simulate(p.scenario, replications=6, workers=2).summary
        for p in grid(base, [parse_vary("outbound.reserve=0,3,12")])
    ]
    sl = [r["totals"]["service_level"]["mean"] for r in runs]
    out = [r["queues"]["campaign"]["answered"]["mean"] for r in runs]
    assert sl[0] < sl[1] < sl[2]
    assert out[0] > out[1] > out[2] == 0
    assert runs[2]["outbound"]["dialled"] == 0
    _within(runs[0]["outbound"]["right_party_rate"], 0.3, 0.01)
    data = base.written()
    del data["outbound"]
    plain = simulate(Scenario.model_validate(data), replications=6, workers=2).summary
    for metric, value in plain["totals"].items():
        assert runs[2]["totals"][metric]["mean"] == pytest.approx(value["mean"]), metric
    assert runs[0]["totals"]["offered"] == plain["totals"]["offered"]  # inbound only


def test_cost_as_the_staffing_target(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """staff --simulate --cheapest: the plan scaled and costed on the same days; wages by
    group follow the merged profiles (sellers-a and sellers-b are paid as before)."""
    code, out, err = run(capsys, "staff", str(ROOT / "scenarios" / "sales-costs.yaml"),
                         "--simulate", "--cheapest", "-n", "4", "--json",
                         "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == 0, err
    curve = json.loads(out)["cost_curve"]
    rows = {r["factor"]: r for r in curve["factors"]}
    assert rows[1.0]["total_cost_diff"]["mean"] == 0
    costs = {f: r["total_cost"]["mean"] for f, r in rows.items()}
    assert curve["cheapest"] == min(costs, key=lambda f: costs[f])
    hours = [r["agent_hours"] for r in curve["factors"]]
    assert hours == sorted(hours)  # more agents as the factor grows (alike ones run once)
    staffed = load_scenario(tmp_path / "o" / "staffed.yaml")
    assert staffed.costs is not None
    assert set(staffed.costs.wage_per_hour_by_group.values()) <= {28.0, 35.0}
    code, _, err = run(capsys, "staff", str(ROOT / "scenarios" / "skills-centre.yaml"),
                       "--simulate", "--cheapest")  # fmt: skip
    assert code == 2
    assert "has no costs block" in err
