"""``routing.handover_s``: the time the ACD takes to hand a call that waited to the agent
who freed up (the bank's log shows 2-5 s; ``callsim calibrate`` fits it). Calls answered
on arrival are not delayed; a scenario without it simulates as before."""

from __future__ import annotations

from pathlib import Path

from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

TEXT = """
name: handover
horizon: {start: "08:00", end: "10:00", interval_min: 60}
queues: [{name: q, skills: [s]}]
routing: ROUTING
calls:
  - queue: q
    arrivals: {per_hour: 100}
    talk_s: {dist: exponential, mean: 150}
agents: [{name: a, count: 5, skills: [s]}]
"""
HANDOVER = "{handover_s: {dist: uniform, low: 2, high: 4}}"


def waits(tmp_path: Path, routing: str) -> tuple[list[float], int]:
    """The answered calls' waits over three replications, and the records' count."""
    path = tmp_path / "handover.yaml"
    path.write_text(TEXT.replace("ROUTING", routing))
    plan = build_plan(load_scenario(path))
    out, n = [], 0
    for r in range(3):
        for rec in Replication(plan, 7, r).run():
            n += 1
            if rec.answer_s is not None:
                out.append(rec.wait_s)
    return out, n


def test_a_call_that_waited_is_handed_over_no_sooner_than_the_minimum(tmp_path: Path) -> None:
    got, _ = waits(tmp_path, HANDOVER)
    queued = [w for w in got if w > 0]
    at_once = [w for w in got if w == 0]
    assert len(queued) > 100  # a load where calls wait
    assert len(at_once) > 100  # ... and are answered on arrival
    assert 2.0 <= min(queued) <= 5.0  # the quickest: an agent freed up as it arrived


def test_without_a_handover_a_waiting_call_is_answered_as_an_agent_frees_up(
    tmp_path: Path,
) -> None:
    got, _ = waits(tmp_path, "{}")
    assert min(w for w in got if w > 0) < 1.0


def test_a_handover_applies_to_waiting_calls_only_not_to_the_answer_delay(
    tmp_path: Path,
) -> None:
    """With a pick-up time for every ring, calls that waited take the hand-over instead:
    none of them waits less than its 2 s, while calls answered on arrival ring for the
    pick-up time only (10-11 s), not the hand-over."""
    routing = (
        "{answer_delay_s: {dist: uniform, low: 10, high: 11}, "
        "handover_s: {dist: uniform, low: 2, high: 4}}"
    )
    got, _ = waits(tmp_path, routing)
    first = [w for w in got if 10.0 <= w <= 11.0]
    assert len(first) > 50
    assert min(got) >= 2.0
