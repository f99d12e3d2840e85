"""Each routing strategy chooses the agent its rule names, with no engine around it."""

from __future__ import annotations

from collections import Counter

from callsim.core import (
    STRATEGIES,
    AgentAnswered,
    AgentReady,
    AgentRejected,
    CallArrived,
    CallEnded,
    CancelRing,
    Connect,
    Enqueue,
    QueueConfig,
    Ring,
    RingTimedOut,
)
from tests.conftest import arrive_and_answer, make_acd, rung


def test_registry_names_are_snake_case_and_documented() -> None:
    assert set(STRATEGIES) == {
        "fewest_skills_first", "longest_idle", "round_robin", "ring_all", "linear",
        "least_talk_time", "fewest_calls", "random", "weighted_random",
    }  # fmt: skip
    for name, s in STRATEGIES.items():
        assert s.name == name
        assert name == name.lower()
        assert s.rule


def test_longest_idle_offers_the_agent_idle_longest() -> None:
    acd = make_acd({"a": ["general"], "b": ["general"], "c": ["general"]}, strategy="longest_idle")
    assert arrive_and_answer(acd, 1, "general", 10) == "a"
    acd.handle(CallEnded(1), 20)  # a idle again since 20, b since 1, c since 2
    assert arrive_and_answer(acd, 2, "general", 30) == "b"
    assert arrive_and_answer(acd, 3, "general", 31) == "c"
    assert arrive_and_answer(acd, 4, "general", 32) == "a"


def test_fewest_skills_first_prefers_specialists_then_longest_idle() -> None:
    agents = {
        "generalist": ["sales", "support", "billing"],
        "backup": ["sales", "support"],
        "spec1": ["sales"],
        "spec2": ["sales"],
    }
    acd = make_acd(agents, [QueueConfig("sales", ("sales",))], strategy="fewest_skills_first")
    assert arrive_and_answer(acd, 1, "sales", 10) == "spec1"  # idle since 2, before spec2 (3)
    assert arrive_and_answer(acd, 2, "sales", 11) == "spec2"
    assert arrive_and_answer(acd, 3, "sales", 12) == "backup"
    assert arrive_and_answer(acd, 4, "sales", 13) == "generalist"


def test_round_robin_remembers_where_it_left_off() -> None:
    acd = make_acd({n: ["general"] for n in "abcd"}, strategy="round_robin")
    assert arrive_and_answer(acd, 1, "general", 10) == "a"
    acd.handle(CallEnded(1), 11)
    # a is idle again, but the memory continues after a
    assert arrive_and_answer(acd, 2, "general", 12) == "b"
    acd.handle(CallEnded(2), 13)
    assert arrive_and_answer(acd, 3, "general", 14) == "c"
    assert arrive_and_answer(acd, 4, "general", 15) == "d"
    assert arrive_and_answer(acd, 5, "general", 16) == "a"  # wraps around


def test_linear_always_starts_from_the_top() -> None:
    acd = make_acd({n: ["general"] for n in "abc"}, strategy="linear")
    assert arrive_and_answer(acd, 1, "general", 10) == "a"
    acd.handle(CallEnded(1), 11)
    assert arrive_and_answer(acd, 2, "general", 12) == "a"
    assert arrive_and_answer(acd, 3, "general", 13) == "b"


def test_least_talk_time_and_fewest_calls() -> None:
    for strategy in ("least_talk_time", "fewest_calls"):
        acd = make_acd({n: ["general"] for n in "abc"}, strategy=strategy)
        assert arrive_and_answer(acd, 1, "general", 10) == "a"
        acd.handle(CallEnded(1), 500)  # a talked 490 s, 1 call
        assert arrive_and_answer(acd, 2, "general", 501) == "b"
        acd.handle(CallEnded(2), 510)  # b talked 9 s, 1 call
        assert arrive_and_answer(acd, 3, "general", 511) == "c"
        acd.handle(CallEnded(3), 600)  # c talked 89 s, 1 call
        expected = "b" if strategy == "least_talk_time" else "a"  # fewest_calls: tie, longest idle
        assert arrive_and_answer(acd, 4, "general", 601) == expected


def test_random_is_uniform_and_reproducible() -> None:
    counts: Counter[str] = Counter()
    for seed in range(2):
        acd = make_acd({n: ["general"] for n in "abcd"}, strategy="random", seed=seed)
        picks = []
        for i in range(2000):
            agent = arrive_and_answer(acd, i, "general", 10 + i)
            acd.handle(CallEnded(i), 10 + i)
            picks.append(agent)
        counts.update(picks)
        again = make_acd({n: ["general"] for n in "abcd"}, strategy="random", seed=seed)
        repeat = []
        for i in range(50):
            repeat.append(arrive_and_answer(again, i, "general", 10 + i))
            again.handle(CallEnded(i), 10 + i)
        assert repeat == picks[:50]
    for n in "abcd":
        assert 900 < counts[n] < 1100  # 4000 draws, p = 1/4: sd ~27


def test_weighted_random_follows_weights() -> None:
    import random

    from callsim.core import AcdConfig, AgentConfig, AgentLoggedIn, RoutingConfig
    from callsim.core.acd import Acd

    cfg = AcdConfig(
        queues=(QueueConfig("general", ("general",)),),
        agents=(
            AgentConfig("heavy", {"general": 1}, weight=3.0),
            AgentConfig("light", {"general": 1}),
        ),
        routing=RoutingConfig(strategy="weighted_random"),
    )
    acd = Acd(cfg, random.Random(7))
    acd.handle(AgentLoggedIn("heavy"), 0)
    acd.handle(AgentLoggedIn("light"), 0)
    counts: Counter[str] = Counter()
    for i in range(4000):
        counts[arrive_and_answer(acd, i, "general", i)] += 1
        acd.handle(CallEnded(i), i)
    assert 0.72 < counts["heavy"] / 4000 < 0.78  # expected 0.75, sd ~0.007


def test_ring_all_rings_everyone_and_first_answer_wins() -> None:
    acd = make_acd({n: ["general"] for n in "abc"}, strategy="ring_all")
    assert sorted(rung(acd.handle(CallArrived(1, "general"), 10))) == ["a", "b", "c"]
    out = acd.handle(AgentAnswered("b", 1), 12)
    assert Connect(1, "b") in out
    assert {c.agent for c in out if isinstance(c, CancelRing)} == {"a", "c"}
    assert acd._agents["a"].state.value == "ready"
    assert acd._agents["b"].state.value == "talking"
    assert acd.handle(AgentAnswered("a", 1), 13) == []  # late: b took it; nothing changes
    assert acd._agents["a"].state.value == "ready"


def test_proficiency_ranks_before_the_strategy() -> None:
    agents = {"novice": {"general": 1}, "expert": {"general": 5}, "mid": {"general": 3}}
    acd = make_acd(agents, strategy="longest_idle", use_proficiency=True)
    assert arrive_and_answer(acd, 1, "general", 10) == "expert"
    assert arrive_and_answer(acd, 2, "general", 11) == "mid"
    assert arrive_and_answer(acd, 3, "general", 12) == "novice"


def test_hunt_moves_on_after_no_answer_and_reject_then_voicemail() -> None:
    from callsim.core import Action, ActionKind, End, Outcome, SendToVoicemail

    acd = make_acd(
        {n: ["general"] for n in "abc"},
        strategy="linear",
        on_hunt_exhausted=Action(ActionKind.VOICEMAIL),
        max_no_answer=0,
    )
    assert rung(acd.handle(CallArrived(1, "general"), 10)) == ["a"]
    assert rung(acd.handle(RingTimedOut("a", 1), 25)) == ["b"]
    assert rung(acd.handle(AgentRejected("b", 1), 26)) == ["c"]
    out = acd.handle(RingTimedOut("c", 1), 41)
    assert SendToVoicemail(1, "general") in out
    assert End(1, Outcome.VOICEMAIL) in out
    (record,) = acd.take_records()
    assert record.outcome is Outcome.VOICEMAIL
    assert [(o.agent, o.result.value) for o in record.offers] == [
        ("a", "no_answer"), ("b", "rejected"), ("c", "no_answer"),
    ]  # fmt: skip
    # the agents are back and ready; a late timeout changes nothing
    assert acd.handle(RingTimedOut("c", 1), 42) == []
    assert all(a.state.value == "ready" for a in acd._agents.values())


def test_ready_agent_picks_longest_waiting_call_within_priority() -> None:
    queues = [QueueConfig("sales", ("sales",)), QueueConfig("support", ("support",))]
    acd = make_acd({"a": ["sales", "support"]}, queues)
    first = arrive_and_answer(acd, 1, "sales", 10)
    assert first == "a"
    acd.handle(CallArrived(2, "support"), 11)
    acd.handle(CallArrived(3, "sales"), 12)
    acd.handle(CallArrived(4, "sales", priority=5), 13)
    # priority 5 first, then the longest waiting across both queues (support, since 11 s)
    order = []
    out = acd.handle(CallEnded(1), 20)
    for step in range(3):
        (ring,) = [c for c in out if isinstance(c, Ring)]
        order.append(ring.call)
        acd.handle(AgentAnswered("a", ring.call), 30 + step)
        out = acd.handle(CallEnded(ring.call), 40 + step)
    assert order == [4, 2, 3]


def test_ready_event_in_wrap_up_ends_it() -> None:
    acd = make_acd({"a": ["general"]}, [QueueConfig("general", ("general",), wrap_up_s=None)])
    arrive_and_answer(acd, 1, "general", 10)
    acd.handle(CallEnded(1), 20)
    assert acd._agents["a"].state.value == "wrap_up"
    acd.handle(CallArrived(2, "general"), 25)
    assert rung(acd.handle(AgentReady("a"), 40)) == ["a"]
    (record,) = acd.take_records()
    assert record.wrap_up_s == 20


def _order_served(acd, out, start: float) -> list[int]:  # type: ignore[no-untyped-def]
    """The calls one agent serves, in order, from the commands ``out`` on."""
    order = []
    while rings := [c for c in out if isinstance(c, Ring)]:
        order.append(rings[0].call)
        acd.handle(AgentAnswered(rings[0].agent, rings[0].call), start)
        out = acd.handle(CallEnded(rings[0].call), start + 1)
        start += 2
    return order


def test_aging_lets_a_long_waiter_of_a_low_priority_queue_go_first() -> None:
    # score = priority + aging_per_s x seconds waited, across queues and within one
    queues = [
        QueueConfig("low", ("low",), aging_per_s=0.1),
        QueueConfig("high", ("high",), priority=5),
    ]
    acd = make_acd({"a": ["low", "high"]}, queues)
    assert arrive_and_answer(acd, 1, "high", 0) == "a"
    acd.handle(CallArrived(2, "low"), 10)  # at 130: 0 + 0.1 x 120 = 12
    acd.handle(CallArrived(3, "low"), 90)  # at 130: 4 < 5
    acd.handle(CallArrived(4, "high"), 100)  # 5, fixed
    assert _order_served(acd, acd.handle(CallEnded(1), 130), 131) == [2, 4, 3]
    # without aging the high-priority call goes first, then the low queue in entry order
    plain = make_acd({"a": ["low", "high"]}, [QueueConfig("low", ("low",)), queues[1]])
    arrive_and_answer(plain, 1, "high", 0)
    for cid, q, at in ((2, "low", 10), (3, "low", 90), (4, "high", 100)):
        plain.handle(CallArrived(cid, q), at)
    assert _order_served(plain, plain.handle(CallEnded(1), 130), 131) == [4, 2, 3]


def test_aging_within_one_queue_keeps_order_of_score_and_positions() -> None:
    # a VIP (priority 5) who just arrived passes calls that waited under 50 s, not longer
    acd = make_acd({"a": ["q"]}, [QueueConfig("q", ("q",), aging_per_s=0.1)])
    assert arrive_and_answer(acd, 1, "q", 0) == "a"
    acd.handle(CallArrived(2, "q"), 10)
    acd.handle(CallArrived(3, "q"), 70)
    out = acd.handle(CallArrived(4, "q", priority=5), 100)  # 5 > 3 (call 3), < 9 (call 2)
    (enqueued,) = [c for c in out if isinstance(c, Enqueue)]
    assert enqueued.position == 2
    assert _order_served(acd, acd.handle(CallEnded(1), 120), 121) == [2, 4, 3]
