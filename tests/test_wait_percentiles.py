"""Issue 25, items 2 and 7: wait percentiles report only waits callers had (zero waits and
the model's other atoms are points, not smeared over a 5 s bin), checked against Erlang C's
waiting-time distribution; and the headline shows what became of callers who took a
callback, whom the service level does not count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

from callsim.analytics.erlang import erlang_c
from callsim.scenario import load_scenario
from callsim.scenario.model import Scenario
from callsim.sim import simulate
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]
PERCENTILES = ("p50", "p80", "p90", "p95")


def single_queue(
    per_hour: float, talk_s: float, agents: int, hours: int, **routing: Any
) -> Scenario:
    """One queue, Poisson arrivals, exponential talk, patient callers: M/M/n (Erlang C)."""
    return Scenario.model_validate(
        {
            "name": "percentiles",
            "horizon": {
                "start": "06:00",
                "end": f"{6 + hours:02d}:00",
                "interval_min": 60,
                "warmup_min": 60,
            },
            "service_level": {"sl_threshold_s": 20, "sl_target": 0.8},
            "routing": {"strategy": "longest_idle", "ring_timeout_s": 15, **routing},
            "queues": [{"name": "q", "skills": ["s"]}],
            "calls": [
                {
                    "queue": "q",
                    "arrivals": {"per_hour": per_hour},
                    "talk_s": {"dist": "exponential", "mean": talk_s},
                }
            ],
            "agents": [{"name": "a", "count": agents, "skills": ["s"]}],
        }
    )


def test_nobody_waits_so_every_percentile_is_zero() -> None:
    """3 Erlangs on 30 agents: nobody queues, every wait is 0, and so is every percentile
    (a 5 s first bin used to report p50 2.5 s and p95 4.75 s)."""
    s = simulate(single_queue(60, 180, 30, 4), replications=2, workers=1).summary
    assert s["totals"]["p_wait"]["mean"] == 0
    for figures in (s["wait_percentiles_s"], s["queues"]["q"]["wait_percentiles_s"]):
        assert figures == {p: {"mean": 0.0, "ci95": 0.0, "pooled": 0.0} for p in PERCENTILES}


def test_a_constant_answer_delay_is_a_point_too() -> None:
    """Agents pick up after exactly 3 s and nobody queues: every wait is 3 s, and so is
    every percentile (not 2.5 s, interpolated in the first bin)."""
    sc = single_queue(60, 180, 30, 4, answer_delay_s={"dist": "constant", "value": 3})
    s = simulate(sc, replications=2, workers=1).summary
    for p in PERCENTILES:
        assert s["wait_percentiles_s"][p]["mean"] == pytest.approx(3.0)
        assert s["wait_percentiles_s"][p]["pooled"] == pytest.approx(3.0)


def test_percentiles_follow_erlang_c_waiting_time_distribution() -> None:
    """M/M/8 at 6 Erlangs: 36 % wait, so the median caller waits 0 s exactly; p80, p90 and
    p95 sit where Erlang C's P(W <= t) = 1 - P(wait) e^{-(n mu - lambda) t} (its service
    level at threshold t) reaches 0.8, 0.9, 0.95, within 3 standard errors over
    replications: the replications' mean and the pooled percentile alike."""
    rate, aht, n = 360 / 3600, 60.0, 8
    reps = 20
    s = simulate(single_queue(360, aht, n, 16), replications=reps, seed=2024, workers=2).summary
    exact = erlang_c(rate, aht, n, 0)
    assert 0.3 < exact.p_wait < 0.5
    p = s["wait_percentiles_s"]
    assert p["p50"] == {"mean": 0.0, "ci95": 0.0, "pooled": 0.0}
    t = stats.t.ppf(0.975, reps - 1)

    def waited_at_most(wait_s: float) -> float:
        return erlang_c(rate, aht, n, max(0.0, wait_s)).service_level

    for name, q in (("p80", 0.80), ("p90", 0.90), ("p95", 0.95)):
        mean, half = p[name]["mean"], p[name]["ci95"]
        band = 3 * half / t
        assert waited_at_most(mean - band) <= q <= waited_at_most(mean + band), (name, p[name])
        assert waited_at_most(p[name]["pooled"] - band) <= q, (name, p[name])
        assert q <= waited_at_most(p[name]["pooled"] + band), (name, p[name])
        assert band < 0.2 * mean  # a check with teeth


def test_an_erlang_c_day_with_a_quarter_waiting_has_a_median_wait_of_zero() -> None:
    """The issue's example: 1,000 calls an hour of 180 s on 57 agents, 25 % wait."""
    s = simulate(single_queue(1000, 180, 57, 4), replications=3, seed=3, workers=1).summary
    assert erlang_c(1000 / 3600, 180, 57, 0).p_wait < 0.3
    assert s["wait_percentiles_s"]["p50"] == {"mean": 0.0, "ci95": 0.0, "pooled": 0.0}
    assert s["wait_percentiles_s"]["p95"]["mean"] > 5


def test_failed_callbacks_head_the_table_beside_the_service_level(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every callback fails (nobody answers): the service level counts none of those
    callers, so the table shows, right below it, the share of callers who took a callback
    and what became of them."""
    data = load_scenario(ROOT / "scenarios" / "callbacks.yaml").model_dump(mode="json")
    data["calls"][0]["callback"].update(accept=1.0, answer=0.0)
    data["queues"][0]["callback_above_s"] = 60
    data["horizon"].update(start="11:00", end="15:00")
    path = tmp_path / "failing-callbacks.yaml"
    path.write_text(Scenario.model_validate(data).model_dump_json(exclude_none=True))
    code, out, err = run(capsys, "run", str(path), "-n", "2", "--workers", "1",
                         "--no-plots", "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 0, err
    shares = json.loads((tmp_path / "out" / "summary.json").read_text())["callbacks"]
    took, answered, failed = (shares["of_callers"][k] for k in ("accepted", "connected", "failed"))
    assert took["mean"] > 0.15  # a story the service level alone would not tell
    assert (answered["mean"], failed) == (0.0, took)  # every one of them failed
    lines = [line.strip("│ ") for line in out.splitlines() if "│" in line]
    at = next(i for i, line in enumerate(lines) if line.startswith("service_level "))
    assert [line.split("│")[0].strip() for line in lines[at + 1 : at + 4]] == [
        "took a callback (not in SL), of callers",
        "callback answered, of callers",
        "callback failed, of callers",
    ]
    assert lines[at + 3].split()[-3:] == f"{took['mean']:.4f} ± {took['ci95']:.4f}".split()


def test_callbacks_are_told_per_queue_with_the_delay_to_the_dial(tmp_path: Path) -> None:
    """Two queues, one offering callbacks that all fail: its column tells its callers'
    story (the centre's share is diluted by the other queue's callers), the mean delay
    counts the failed callbacks too (an agent took and dialled them), and the queue's
    outcomes hold no callback_failed key that would always read 0 (those callers are
    counted apart, in callbacks)."""
    data = load_scenario(ROOT / "scenarios" / "callbacks.yaml").model_dump(mode="json")
    data["calls"][0]["callback"].update(accept=1.0, answer=0.0)
    data["queues"][0]["callback_above_s"] = 60
    data["queues"].append({"name": "sales", "skills": ["support"]})
    data["calls"].append(
        {
            "queue": "sales",
            "arrivals": {"per_hour": 60},
            "talk_s": {"dist": "constant", "value": 60},
        }
    )
    data["horizon"].update(start="11:00", end="15:00")
    s = simulate(Scenario.model_validate(data), replications=2, seed=5, workers=1).summary
    centre, support = s["callbacks"], s["queues"]["support"]["callbacks"]
    assert "callbacks" not in s["queues"]["sales"]
    assert support["accepted"] == centre["accepted"] > 0
    assert support["failed"] == support["accepted"]
    share = support["of_callers"]["failed"]["mean"]
    assert share > centre["of_callers"]["failed"]["mean"] > 0  # diluted by sales' callers
    assert centre["mean_delay_s"]["mean"] > 0
    assert "callback_failed" not in s["queues"]["support"]["outcomes"]
