"""The simulator's engine, tested directly: what it models of people and the world
(retrials, patience, ringing out, answer delays) and that it drives the core only by
events and commands (the no-answer pause ends, staffed time is the core's)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from callsim.core import End, OfferResult, Outcome
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import SimPlan, build_plan

BASE = """
name: engine
horizon: {start: "08:00", end: "10:00", interval_min: 60}
queues: [{name: q, skills: [s]}]
routing: ROUTING
calls:
  - queue: q
    arrivals: {per_hour: RATE}
    talk_s: {dist: constant, value: 100}
    patience_s: PATIENCE
    RETRIAL
agents: [{name: a, count: AGENTS, skills: [s] SHIFT}]
"""


def plan(
    tmp_path: Path,
    *,
    rate: float = 60,
    agents: int = 1,
    patience: str = "null",
    retrial: str = "",
    routing: str = "{}",
    shift: str = "",
) -> SimPlan:
    text = (
        BASE.replace("ROUTING", routing)
        .replace("RATE", str(rate))
        .replace("PATIENCE", patience)
        .replace("RETRIAL", retrial)
        .replace("AGENTS", str(agents))
        .replace("SHIFT", shift)
    )
    path = tmp_path / "engine.yaml"
    path.write_text(text)
    return build_plan(load_scenario(path))


def test_abandoned_callers_call_back_after_the_retrial_delay(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        rate=120,
        patience="{dist: constant, value: 30}",
        retrial="retrial: {probability: 0.5, delay_s: {dist: constant, value: 300}}",
    )
    rep = Replication(p, 1, 0)
    records = {r.call: r for r in rep.run()}
    abandoned = [r for r in records.values() if r.outcome is Outcome.ABANDONED]
    retried = [r for r in records.values() if r.call >= rep.calls.n_first]
    assert len(abandoned) > 20
    assert rep.retrials == len(retried) > 20
    # every retrial arrives 300 s after an abandon, about half the abandons call back
    ends = {round(r.end_s + 300, 6) for r in abandoned}
    assert {round(r.arrival_s, 6) for r in retried} <= ends
    assert 0.3 < len(retried) / len(abandoned) < 0.7


def test_the_patience_timer_of_an_answered_call_is_dropped(tmp_path: Path) -> None:
    # one agent, calls of 100 s, patience 30 s: callers answered within 30 s talk the
    # whole 100 s (a patience timer firing after the answer would cut the talk short)
    p = plan(tmp_path, rate=40, patience="{dist: constant, value: 30}")
    records = Replication(p, 2, 0).run()
    answered = [r for r in records if r.outcome is Outcome.ANSWERED]
    assert len(answered) > 30
    assert all(r.talk_s == pytest.approx(100) for r in answered)
    assert all(r.wait_s <= 30 + 1e-9 for r in answered)
    abandons = [r for r in records if r.outcome is Outcome.ABANDONED]
    assert abandons
    assert all(r.wait_s == pytest.approx(30) for r in abandons)


def test_agents_who_never_answer_ring_out_and_the_delay_of_those_who_do(
    tmp_path: Path,
) -> None:
    routing = "{ring_timeout_s: 12, answer_delay_s: {dist: constant, value: 4}, max_no_answer: 0}"
    p = plan(tmp_path, rate=30, agents=2, routing=routing)
    records = Replication(p, 3, 0).run()
    offers = [o for r in records for o in r.offers]
    assert offers
    assert all(o.result is OfferResult.ANSWERED and o.ring_s == 4 for o in offers)
    answered = [r for r in records if r.outcome is Outcome.ANSWERED]
    assert all(r.wait_s >= 4 for r in answered)  # ringing is part of the wait

    never = "{ring_timeout_s: 12, answer_probability: 0, max_no_answer: 0}"
    p = plan(tmp_path, rate=30, agents=2, routing=never, patience="{dist: constant, value: 60}")
    records = Replication(p, 3, 0).run()
    offers = [o for r in records for o in r.offers]
    assert len(offers) > 50
    for r in records:  # rings out every 12 s until the caller hangs up after 60 s
        assert r.outcome is Outcome.ABANDONED
        assert r.wait_s == pytest.approx(60)
        *missed, last = r.offers
        assert all(o.result is OfferResult.NO_ANSWER and o.ring_s == 12 for o in missed)
        assert last.result is OfferResult.CANCELLED
        assert last.at_s + last.ring_s == pytest.approx(r.end_s)


def test_the_no_answer_pause_ends_and_the_agent_is_offered_calls_again(
    tmp_path: Path,
) -> None:
    # one agent who never answers, paused after each missed offer for 50 s, no breaks:
    # offers keep coming all day, each at least 50 s after the previous one ended
    routing = "{ring_timeout_s: 10, answer_probability: 0, max_no_answer: 1, no_answer_pause_s: 50}"
    p = plan(tmp_path, rate=120, routing=routing, patience="{dist: constant, value: 600}")
    rep = Replication(p, 4, 0)
    records = rep.run()
    offers = sorted((o for r in records for o in r.offers), key=lambda o: o.at_s)
    assert len(offers) > 50  # 2 hours / (10 s ring + 50 s pause) = 120 at most
    gaps = [
        b.at_s - (a.at_s + a.ring_s)
        for a, b in itertools.pairwise(offers)
        if a.result is OfferResult.NO_ANSWER  # a ring cut by a hang-up is no miss
    ]
    assert len(gaps) > 50
    assert min(gaps) == pytest.approx(50)
    assert offers[-1].at_s > 6000  # still offered calls near the end of the day
    # staffed time leaves the pauses out: the rings, and idle time before the first
    # call and after the last
    staffed = sum(s.end_s - s.start_s for s in rep.spans())
    ringing = sum(o.ring_s for o in offers)
    idle = offers[0].at_s + rep.env.now - (offers[-1].at_s + offers[-1].ring_s)
    assert ringing - 1e-6 <= staffed <= ringing + idle + 1e-6


def test_staffed_spans_follow_the_shift_and_its_breaks(tmp_path: Path) -> None:
    shift = ', shift: {start: "08:30", end: "09:30"}, breaks: [{start: "09:00", minutes: 10}]'
    p = plan(tmp_path, rate=30, agents=2, shift=shift)
    rep = Replication(p, 5, 0)
    rep.run()
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s in rep.spans():
        spans[s.agent].append((s.start_s, s.end_s))
        assert s.queues == ("q",)
    assert set(spans) == {"a-1", "a-2"}
    for agent_spans in spans.values():
        (a0, a1), (b0, b1) = sorted(agent_spans)
        assert a0 == 1800  # logs in at 08:30
        assert 3600 <= a1 <= 3700  # the break at 09:00 starts after a call in progress
        assert b0 == 4200  # back at 09:10
        assert 5400 <= b1 <= 5500  # logs out at 09:30, after a call in progress


def test_the_engine_refuses_a_command_it_does_not_know(tmp_path: Path) -> None:
    rep = Replication(plan(tmp_path), 1, 0)
    rep._do([End(1, Outcome.ANSWERED)], 0.0)  # known: nothing to do
    with pytest.raises(TypeError, match="cannot carry out"):
        rep._do([object()], 0.0)


def test_a_queues_occupancy_is_how_busy_its_agents_are(tmp_path: Path) -> None:
    # one group serves a busy queue and a quiet one: the quiet queue's agents are exactly
    # as busy as the busy queue's (the same people), not its small share of their time
    from callsim.scenario import load_scenario as load
    from callsim.sim import simulate

    path = tmp_path / "two.yaml"
    path.write_text(
        """
name: two
horizon: {start: "08:00", end: "12:00", interval_min: 60}
queues: [{name: busy, skills: [x]}, {name: quiet, skills: [y]}, {name: own, skills: [z]}]
calls:
  - {queue: busy, arrivals: {per_hour: 100}, talk_s: {dist: constant, value: 60}}
  - {queue: quiet, arrivals: {per_hour: 5}, talk_s: {dist: constant, value: 60}}
  - {queue: own, arrivals: {per_hour: 5}, talk_s: {dist: constant, value: 60}}
agents:
  - {name: both, count: 4, skills: [x, y]}
  - {name: solo, count: 2, skills: [z]}
"""
    )
    s = simulate(load(path), replications=2, seed=1, workers=1).summary
    occ = {q: s["queues"][q]["occupancy"]["mean"] for q in ("busy", "quiet", "own")}
    assert occ["busy"] == pytest.approx(occ["quiet"])
    assert occ["busy"] == pytest.approx(105 / 60 / 4, rel=0.15)  # 1.75 Erlangs on 4 agents
    assert occ["own"] == pytest.approx(5 / 60 / 2, rel=0.5)


def test_overflow_and_moves_are_counted_per_queue_pair(tmp_path: Path) -> None:
    from callsim.scenario import load_scenario as load
    from callsim.sim import simulate

    path = tmp_path / "ovf.yaml"
    path.write_text(
        """
name: ovf
horizon: {start: "08:00", end: "10:00", interval_min: 60}
queues:
  - {name: sales, skills: [s], overflow: {after_s: 10, to: [help]}, max_wait_s: 120, on_max_wait: {queue: last}}
  - {name: help, skills: [h]}
  - {name: last, skills: [l]}
calls:
  - {queue: sales, arrivals: {per_hour: 120}, talk_s: {dist: constant, value: 120}}
agents:
  - {name: seller, count: 2, skills: [s]}
  - {name: helper, count: 1, skills: [h]}
  - {name: backstop, count: 1, skills: [l]}
"""
    )
    s = simulate(load(path), replications=1, seed=1, workers=1).summary
    (overflow,) = s["overflow"]
    assert (overflow["from"], overflow["to"]) == ("sales", "help")
    assert overflow["calls"] > 10
    assert 0 < overflow["answered"] <= overflow["calls"]
    (moved,) = s["moved"]
    assert (moved["from"], moved["to"]) == ("sales", "last")
    assert moved["calls"] > 0


def test_runs_end_whatever_callers_and_agents_do(tmp_path: Path) -> None:
    # every abandoned caller calls back (probability 1) and the only agent leaves at
    # 09:00 while calls arrive until 10:00: each caller retries at most max_attempts
    # times, and retrials after the horizon's end are lost to closing
    p = plan(
        tmp_path,
        rate=120,
        patience="{dist: constant, value: 30}",
        retrial="retrial: {probability: 1.0, delay_s: {dist: constant, value: 60}, max_attempts: 4}",
        shift=', shift: {start: "08:00", end: "09:00"}',
    )
    rep = Replication(p, 6, 0)
    records = rep.run()
    assert max(rep.calls.attempt) == 4
    assert rep.retrials_lost > 0
    assert rep.retrials <= 4 * rep.calls.n_first
    assert len(records) == rep.calls.n_first + rep.retrials
    # agents who never answer and callers who never hang up: the run stops 4 h after
    # the horizon, and the calls still ringing round then end interrupted
    never = "{ring_timeout_s: 10, answer_probability: 0, max_no_answer: 0}"
    rep = Replication(plan(tmp_path, rate=10, agents=2, routing=never), 6, 0)
    records = rep.run()
    assert rep.env.now == p.arrivals_end_s + 4 * 3600
    assert records
    assert all(r.outcome is Outcome.INTERRUPTED for r in records)


OVERFLOW = """
name: overflow-level
horizon: {start: "08:00", end: "12:00", interval_min: 60}
queues:
  - {name: support, skills: [support], overflow: {after_s: 0, to: [billing]}}
  - {name: billing, skills: [billing]}
calls:
  - queue: support
    arrivals: {per_hour: 30}
    talk_s: {dist: constant, value: 60}
    recall: {probability: 0.0, by_level: {1: 1.0}, delay_s: {dist: constant, value: 600}}
agents: [{name: billing, count: 3, skills: [billing]}]
"""


def test_an_overflow_agent_serves_at_the_cores_level_0(tmp_path: Path) -> None:
    # only billing agents take support's calls (overflow): they lack the support skill,
    # so their level for it is the core's 0 (chance 0.0 of a recall), not 1 (chance 1.0)
    path = tmp_path / "overflow.yaml"
    path.write_text(OVERFLOW)
    rep = Replication(build_plan(load_scenario(path)), 1, 0)
    records = rep.run()
    assert sum(r.outcome is Outcome.ANSWERED for r in records) > 50
    assert rep.served_first > 50
    assert rep.recalls == 0


SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
# replication 1 of seed 7 of shipped scenarios, as the engine gave them before its speed
# work: calls, outcomes, total wait and talk (s), and, reduced (execute.run_replication),
# the calls answered within the threshold and the queues' busy seconds (answering-service
# and bank-january pinned again when their files changed: one employee name per client,
# the calibration by pools, each calibration day replayed with its own after-call work)
PINNED = {
    "skills-centre": (6043, {"abandoned": 217, "answered": 5826}, 48700.329, 1948956.296,
                      5179.0, 2972218.853),
    "answering-service": (4967, {"abandoned": 209, "answered": 4425, "blocked": 70,
                                 "deflected": 121, "message": 96, "voicemail": 46},
                          19266.412, 666837.667, 4164.0, 1034240.728),
    "callbacks": (1150, {"abandoned": 72, "answered": 1072, "callback_failed": 6}, 34966.791,
                  324839.132, 838.0, 334755.286),
    "blended-outbound": (1933, {"abandoned": 36, "answered": 1890, "interrupted": 7},
                         7090.376, 395539.983, 1162.0, 576218.978),
    "bank-january": (1330, {"abandoned": 73, "answered": 1257}, 29314.29, 247311.315,
                     970.0, 976446.301),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_seeds_results_are_pinned(name: str) -> None:
    """Speed work changes no result: the same seed gives the same calls, outcomes and
    times (overflow, clients, callbacks, blended outbound, shifts and retrials)."""
    from callsim.sim.execute import run_replication

    p = build_plan(load_scenario(SCENARIOS / f"{name}.yaml"))
    records = Replication(p, 7, 1).run()
    outcomes: dict[str, int] = defaultdict(int)
    for r in records:
        outcomes[r.outcome.value] += 1
    stats = run_replication(p, 7, 1)
    got = (
        len(records),
        dict(sorted(outcomes.items())),
        round(sum(r.wait_s for r in records), 3),
        round(sum(r.talk_s for r in records), 3),
        round(float(stats.within.sum()), 1),
        round(float(stats.busy_s.sum()), 3),
    )
    assert got == PINNED[name]
