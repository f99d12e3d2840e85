"""The world model (``callsim.sim.world``): what callers, agents and forward targets do,
as pure functions of named draws, shared by the simulator and the load tool. The load
tool's plan of a seed holds the simulator's very callers of that seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from callsim.core import proficiency
from callsim.core.client import Tone
from callsim.load.traffic import handling, plan_traffic, talk_s
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import Balking, Recall, Transfer
from callsim.sim.world import (
    FollowUp,
    balk_chance,
    follow_up,
    language,
    target_answers,
)
from callsim.sim.world import talk_s as world_talk_s

ROOT = Path(__file__).resolve().parent.parent
ANSWERING = ROOT / "scenarios" / "answering-service.yaml"


def draws(*values: float) -> Iterator[float]:
    return iter(values)


@pytest.mark.parametrize("warmup_min", [0, 30])
def test_the_load_plan_and_the_simulator_hold_the_same_callers_for_a_seed(
    warmup_min: int,
) -> None:
    scenario = load_scenario(ANSWERING)
    horizon = scenario.horizon.model_copy(update={"warmup_min": warmup_min})
    scenario = scenario.model_copy(update={"horizon": horizon})
    seed = 5
    # the whole horizon (14 h) at rate scale 1: the load plan is the simulated day's
    traffic = plan_traffic(scenario, speedup=60, run_s=14 * 60 + 1, seed=seed)
    rep = Replication(traffic.plan, seed, 0, inputs=True)
    patience = list(rep.calls.patience)  # a call's is spent (inf) once its timer is set
    rep.run()
    assert rep.flow_inputs is not None
    arrived = {e[2]: e for e in rep.flow_inputs if e[0] == "arrive"}
    asked = {e[2]: (e[4], e[5]) for e in rep.flow_inputs if e[0] == "answer"}
    calls = rep.calls
    first = [cid for cid in range(calls.n_first) if calls.arrival[cid] >= traffic.plan.count_from_s]
    assert len(first) == len(traffic.calls) > 3000
    compared = answered = 0
    for cid, planned in zip(first, traffic.calls, strict=True):
        assert planned.scenario_s == calls.arrival[cid]
        assert planned.stream == calls.stream[cid]
        assert planned.talk_s == calls.talk[cid]  # the caller's talk, before tone and forwards
        assert planned.patience_s * 60 == pytest.approx(patience[cid])
        if calls.client[cid] < 0:
            assert "queue" in planned.body
            continue
        _, _, _, ani, dnis, keys, advertising, lang = arrived[cid]
        body = planned.body
        assert (body["ani"], body["dnis"]) == (ani, dnis)
        assert body.get("ivr_digits", "") == keys
        assert body.get("advertising", False) == advertising
        assert body.get("language") == (lang or None)
        compared += 1
        if cid in asked:  # the request of a served caller
            assert planned.caller is not None
            assert (planned.caller.employee, planned.caller.faq) == asked[cid]
            answered += 1
    assert compared > 3000
    assert answered > 2000
    # the known callers the plan registers are the simulator's contacts
    for contacts in traffic.known.values():
        for c in contacts:
            contact = rep.book.find(c["numbers"][0])
            assert contact is not None
            assert contact.language == c["language"]
            assert contact.category.value == c["category"]


def test_a_shorter_run_or_another_seed_plans_other_calls() -> None:
    scenario = load_scenario(ANSWERING)
    one = plan_traffic(scenario, speedup=60, run_s=60, seed=1)
    again = plan_traffic(scenario, speedup=60, run_s=60, seed=1)
    other = plan_traffic(scenario, speedup=60, run_s=60, seed=2)
    assert [c.body for c in one.calls] == [c.body for c in again.calls]
    assert [c.body for c in one.calls] != [c.body for c in other.calls]
    assert all(c.scenario_s < one.plan.count_from_s + 3600 for c in one.calls)
    # new callers are numbered in order, each call found by its caller's number
    for c in one.calls:
        assert one.planned(c.body["ani"], c.at_s) is c or (c.caller is not None and c.caller.known)


def test_forward_time_is_added_per_forward_tried_not_per_target() -> None:
    traffic = plan_traffic(load_scenario(ANSWERING), speedup=1, run_s=60)
    dental = "Fjord Dental Clinic"  # forwards to target 1, then 2, then a note
    instruction = {
        "greeting": "Welcome", "tone": "informal", "messages": [], "in_hours": False,
        "hours_text": "", "exception": False,
        "treatment": {"kind": "forward", "targets": ["+47 9010 00 01", "+47 9010 00 02"],
                      "info": ""},
    }  # fmt: skip
    tried_counts = set()
    for k in range(200):
        rng = random.Random(k)
        ask, tried = handling(traffic, dental, instruction, None, rng)
        answered = ask["forward_answered"]
        assert list(answered) == list(tried)  # only the targets tried are reported
        assert list(tried) == ["+47 9010 00 01", "+47 9010 00 02"][: len(tried)]
        assert all(not took for took in list(answered.values())[:-1])  # until one picks up
        tried_counts.add(len(tried))
        plan = traffic.plan
        assert plan.forward_s is not None
        got = talk_s(traffic, traffic.calls[0], 0, instruction, tried, np.random.default_rng(k))
        replay = np.random.default_rng(k)
        want = traffic.calls[0].talk_s + sum(float(plan.forward_s(replay, 1)[0]) for _ in tried)
        assert got == pytest.approx(want)
    assert tried_counts == {1, 2}


def test_language_by_shares() -> None:
    shares = {"no": 0.85, "en": 0.15}
    assert language(shares, 0.0) == "no"
    assert language(shares, 0.849) == "no"
    assert language(shares, 0.85) == "en"
    assert language({"no": 0.5}, 0.9) == "no"  # shares short of 1: the last one
    assert language({}, 0.3) == ""


def test_the_balking_curve_is_linear_between_its_points_and_flat_beyond() -> None:
    table = Balking((30.0, 90.0), (0.1, 0.7))
    assert balk_chance(table, 0) == 0.1
    assert balk_chance(table, 60) == pytest.approx(0.4)
    assert balk_chance(table, 90) == 0.7
    assert balk_chance(table, 1000) == 0.7


def test_a_follow_up_draws_for_a_transfer_then_for_a_recall() -> None:
    def delay(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.zeros(n)

    transfer = Transfer((0.5,) * 6, "billing", delay)
    recall = Recall((0.0, 0.2, 0.2, 0.2, 0.2, 0.05), delay)
    assert follow_up(transfer, recall, 1, draws(0.4).__next__) is FollowUp.TRANSFER
    assert follow_up(transfer, recall, 1, draws(0.6, 0.1).__next__) is FollowUp.RECALL
    assert follow_up(transfer, recall, 5, draws(0.6, 0.1).__next__) is FollowUp.NONE
    assert follow_up(None, recall, 0, draws(0.0).__next__) is FollowUp.NONE  # level 0: 0.0
    assert follow_up(None, None, 3, draws().__next__) is FollowUp.NONE  # no draw at all


def test_proficiency_is_the_cores_rule() -> None:
    assert proficiency({"support": 4, "en": 2}, ("support", "en")) == 2
    assert proficiency({"billing": 5}, ("support",)) == 0  # an overflow agent: 0, not 1


def test_talk_with_tone_and_forwards() -> None:
    assert world_talk_s(100.0, Tone.FORMAL, 1.2, [10.0, 5.0]) == pytest.approx(135.0)
    assert world_talk_s(100.0, None, 1.2, []) == 100.0
    assert target_answers({"+47 1": 0.5}, "+47 1", 0.49)
    assert not target_answers({"+47 1": 0.5}, "+47 2", 0.0)  # unknown target: never


def test_the_prediction_of_a_load_run_replays_its_callers() -> None:
    # callsim load predicts with the simulator on the calls placed (replication 0 of the
    # same seed first): with every planned call placed, it holds the plan's callers
    traffic = plan_traffic(load_scenario(ANSWERING), speedup=60, run_s=60, seed=3)
    trace = [(c.scenario_s, c.stream) for c in traffic.calls]
    rep = Replication(traffic.plan, 3, 0, arrivals=trace, inputs=True)
    patience = list(rep.calls.patience)
    rep.run()
    assert rep.flow_inputs is not None
    arrived = {e[2]: e[3:] for e in rep.flow_inputs if e[0] == "arrive"}
    assert len(arrived) > 100
    for cid, planned in enumerate(traffic.calls):
        assert rep.calls.talk[cid] == planned.talk_s
        assert patience[cid] == pytest.approx(planned.patience_s * 60)
        if cid in arrived:
            ani, dnis, keys, advertising, lang = arrived[cid]
            body = planned.body
            assert (body["ani"], body["dnis"], body.get("ivr_digits", "")) == (ani, dnis, keys)
            assert (body.get("advertising", False), body.get("language")) == (
                advertising,
                lang or None,
            )
