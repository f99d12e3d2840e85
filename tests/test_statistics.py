"""Statistics are analytics' alone: the KPI ratios of a hand-counted day, the one interval
row both shells show, the two follow-up measures under their two names, and the
simulator's typed summary with its one JSON document."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from callsim.analytics import kpi
from callsim.analytics.kpi import INTERVAL_COLUMNS, IntervalRow
from callsim.analytics.metrics import (
    LEFT_OPEN,
    CallFacts,
    FirstContactResolution,
    Frame,
    first_contact_resolution,
    metric_samples,
    reduce_replication,
)
from callsim.analytics.summary import AGENT_COLUMNS, Estimate, Flow, Kpis, document
from callsim.cli.simulate import write_results
from callsim.core import CallRecord, Outcome, StaffedSpan, Status
from callsim.live.stats import interval_row
from callsim.scenario import load_scenario
from callsim.sim import simulate
from callsim.sim.run import _client as client_day

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def call(
    n: int, at: float, wait: float, outcome: Outcome, talk: float = 0.0, wrap: float = 0.0,
    ring: float = 0.0,
) -> CallRecord:  # fmt: skip
    answered = outcome is Outcome.ANSWERED
    return CallRecord(
        call=n, queue="q", final_queue="q", ani="", dnis="", priority=0, arrival_s=at,
        queued_s=at, offers=(), answer_s=at + wait if answered else None,
        end_s=at + wait + talk, outcome=outcome, agent="a" if answered else None,
        wait_s=wait, ring_s=ring, talk_s=talk, wrap_up_s=wrap, ended_by=None,
    )  # fmt: skip


# One agent staffed 0-3,600 s serving queue q; intervals of 30 min; SL threshold 20 s;
# abandons within 5 s are not offered calls.
FRAME = Frame(0.0, 1800.0, 2, ("q",), ("a",), 0, 20.0, 5.0)
DAY = [
    call(0, 0, 10, Outcome.ANSWERED, talk=100, wrap=20, ring=10),  # rang 10 s: never queued
    call(1, 200, 30, Outcome.ANSWERED, talk=200),  # answered after the threshold
    call(2, 300, 60, Outcome.ABANDONED),
    call(3, 400, 2, Outcome.ABANDONED),  # a short abandon: not offered
    call(4, 1900, 0, Outcome.ANSWERED, talk=50, wrap=10),  # the second interval
]
SPANS = [StaffedSpan("a", ("q",), 0.0, 3600.0)]


def test_kpis_of_a_hand_counted_day() -> None:
    st = reduce_replication(FRAME, DAY, SPANS, 0)
    day = {m: float(v[0]) for m, v in metric_samples([st], (0, 1)).items()}
    assert day["offered"] == 4  # calls 0, 1, 2, 4
    assert day["answered"] == 3
    assert day["abandoned"] == 1
    assert day["service_level"] == 2 / 4  # calls 0 and 4 within 20 s
    assert day["service_level_of_answered"] == 2 / 3
    assert day["service_level_all_offered"] == 2 / 5  # the short abandon offered too
    assert day["abandon_rate"] == 1 / 4
    assert day["asa_s"] == pytest.approx((10 + 30 + 0) / 3)
    assert day["mean_wait_s"] == pytest.approx((10 + 30 + 0 + 60) / 4)
    assert day["aht_s"] == pytest.approx((120 + 200 + 60) / 3)
    assert day["occupancy"] == pytest.approx(380 / 3600)
    assert day["p_wait"] == 2 / 4  # calls 1 and 2 waited in queue
    first = {m: float(v[0, 0, 0]) for m, v in metric_samples([st], None).items()}
    assert (first["offered"], first["service_level"], first["occupancy"]) == (
        3, 1 / 3, pytest.approx(320 / 1800)
    )  # fmt: skip


def test_a_clients_kpis_of_a_hand_counted_day() -> None:
    frame = Frame(0.0, 1800.0, 2, ("q",), ("a",), 1, 20.0, 5.0)  # one client: every call
    facts = CallFacts.of([0] * len(DAY), [None] * len(DAY))
    st = reduce_replication(frame, DAY, SPANS, 0, facts)
    c = client_day(st.client_counts[0])
    assert (c.counts["calls"], c.counts["offered"], c.counts["answered"]) == (5, 4, 3)
    assert c.service_level == 2 / 4
    assert c.asa_s == pytest.approx(40 / 3)
    # every call of the day that hung up is counted, but the rate is of offered calls, as
    # the queue's: the short abandon is neither offered nor in the rate (it said 2 / 4)
    assert c.counts["abandoned"] == 2
    assert c.abandon_rate == 1 / 4


def test_a_ratio_without_a_denominator_is_undefined() -> None:
    assert np.isnan(kpi.service_level(0, 0))
    assert kpi.shown(kpi.asa_s(0.0, 0)) is None
    assert kpi.shown(kpi.occupancy(1.0, 3.0), 6) == 0.333333
    rates = kpi.abandon_rate(np.array([1.0, 0.0]), np.array([4.0, 0.0]))
    assert rates[0] == 0.25
    assert np.isnan(rates[1])


def test_the_live_interval_row_is_the_simulators() -> None:
    st = reduce_replication(FRAME, DAY, SPANS, 0)
    row = interval_row(st, 0, 0, "00:00", "q", FRAME.interval_s)
    assert row == IntervalRow(
        day=1, interval_start="00:00", queue="q", offered=3, answered=2, abandoned=1,
        service_level=0.333333, service_level_ci95=None,
        abandon_rate=0.333333, abandon_rate_ci95=None,
        asa_s=20.0, asa_s_ci95=None, aht_s=160.0,
        occupancy=0.177778, occupancy_ci95=None, p_wait=0.666667, agents_staffed=1.0,
    )  # fmt: skip
    assert list(row.to_dict()) == list(INTERVAL_COLUMNS)


def test_intervals_csv_and_the_api_share_one_row(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIOS / "erlang-c-twin.yaml")
    result = simulate(sc, replications=1, seed=1, workers=1)
    write_results(tmp_path, sc, result, plots=False)
    with (tmp_path / "intervals.csv").open() as fh:
        header, first = next(csv.reader(fh)), next(csv.reader(fh))
    assert tuple(header) == INTERVAL_COLUMNS
    assert {"interval_start", "agents_staffed"} <= set(header)
    assert not {"interval", "staffed_agents"} & set(header)
    assert first == ["" if v is None else str(v) for v in result.interval_rows[0].values()]
    with (tmp_path / "agents.csv").open() as fh:
        assert tuple(next(csv.reader(fh))) == AGENT_COLUMNS


def test_first_contact_resolution_and_the_recall_free_share_are_two_measures() -> None:
    # answered calls (call, contact, time): contact 1 called again within the hour, call 3
    # left its ticket open, call 4 is resolved
    answered = [(1, 1, 0.0), (3, 2, 0.0), (4, 3, 0.0)]
    calls_of = {1: [0.0, 1800.0], 2: [0.0, 7200.0], 3: [0.0]}
    fcr = first_contact_resolution(answered, calls_of, {3}, 3600.0)
    assert fcr == FirstContactResolution(3, 1, 1, 0.333333)
    assert first_contact_resolution([], {}, set(), 3600.0).first_contact_resolution is None
    assert {Status.OPEN, Status.NEEDS_FOLLOW_UP} == LEFT_OPEN
    # the simulator's: of 10 served first calls, 3 callers called again, however late
    assert kpi.recall_free_share(10, 3) == pytest.approx(0.7)


def test_the_summary_is_typed_and_its_document_is_the_json() -> None:
    sc = load_scenario(SCENARIOS / "erlang-c-twin.yaml")
    result = simulate(sc, replications=2, seed=1, workers=1)
    s = result.stats
    assert isinstance(s.totals, Kpis)
    assert isinstance(s.totals.service_level, Estimate)
    doc = result.summary
    assert doc["totals"]["service_level"] == {
        "mean": s.totals.service_level.mean,
        "ci95": s.totals.service_level.ci95,
    }
    assert list(doc["totals"]) == [
        "offered", "answered", "abandoned", "service_level", "abandon_rate", "asa_s",
        "aht_s", "occupancy", "p_wait",
    ]  # fmt: skip
    queue = doc["queues"][next(iter(s.queues))]
    assert list(queue)[-2:] == ["outcomes", "wait_percentiles_s"]  # no callbacks: left out
    assert "follow_ups" not in doc  # optional sections of what the run did not have
    assert doc["stopping_rule"] == {"precision": None, "replications": 2}
    assert document(Flow("a", "b", 2.0)) == {"from": "a", "to": "b", "calls": 2.0}
