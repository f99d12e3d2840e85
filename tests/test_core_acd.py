"""Queue flows of the ACD core: waits, timers, fallbacks, agent states, records, journal."""

from __future__ import annotations

import random

import pytest

from callsim.core import (
    Acd,
    AcdConfig,
    Action,
    ActionKind,
    AgentAnswered,
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentState,
    Announce,
    BlendConfig,
    CallArrived,
    CallbackRequested,
    CallbackUnanswered,
    CallEnded,
    CallerHungUp,
    CallTransferred,
    CancelRing,
    Connect,
    Dial,
    End,
    Enqueue,
    HoldPlace,
    Offer,
    OfferCallback,
    OfferResult,
    OutboundAnswered,
    OutboundUnanswered,
    Outcome,
    Party,
    PauseAgent,
    PlayMessage,
    QueueConfig,
    Ring,
    RingTimedOut,
    RoutingConfig,
    ServiceStopped,
    SkillsChanged,
    StartTimer,
    TakeNote,
    Timer,
    TimerExpired,
    TimerKind,
    Transfer,
    queue_log_lines,
)
from callsim.errors import (
    CallsimError,
    ConfigError,
    InvalidEventError,
    UnknownAgentError,
    UnknownQueueError,
)
from tests.conftest import arrive_and_answer, make_acd, rung


def timers(out: list[object]) -> dict[TimerKind, StartTimer]:
    return {c.timer.kind: c for c in out if isinstance(c, StartTimer)}


def test_a_call_waits_then_goes_to_the_next_free_agent() -> None:
    acd = make_acd({"a": ["general"]})
    arrive_and_answer(acd, 1, "general", 10)
    out = acd.handle(CallArrived(2, "general", ani="+4711"), 11)
    assert out == [Enqueue(2, "general", 1)]
    assert rung(acd.handle(CallEnded(1), 70)) == ["a"]
    acd.handle(AgentAnswered("a", 2), 72)
    acd.handle(CallEnded(2, Party.CALLER), 100)
    first, second = acd.take_records()
    assert (first.outcome, first.wait_s, first.talk_s) == (Outcome.ANSWERED, 0, 60)
    assert (second.wait_s, second.talk_s, second.ani, second.ended_by) == (
        61,
        28,
        "+4711",
        Party.CALLER,
    )


def test_a_call_rings_with_offers_of_its_own() -> None:
    """A call holds the agents it rings and has tried as its own (``Call.ring``); a call
    that rang nobody shares an empty table that no ring adds to, so another call's rings
    never show in its view. The offers it holds become ``Offer``s in its record."""
    acd = make_acd({"a": ["general"], "b": ["general"]})
    assert rung(acd.handle(CallArrived(1, "general"), 0)) == ["a"]
    assert rung(acd.handle(CallArrived(2, "general"), 1)) == ["b"]
    acd.handle(CallArrived(3, "general"), 2)  # waits: it rang nobody
    for call, agent in ((1, "a"), (2, "b")):
        view = acd.call_view(call)
        assert view is not None
        assert [(o.agent, o.result) for o in view.offers] == [(agent, OfferResult.RINGING)]
    waiting = acd.call_view(3)
    assert waiting is not None
    assert waiting.offers == ()
    acd.handle(RingTimedOut("a", 1), 15)  # 1 rang out on a, rings a again (requeue)
    acd.handle(AgentAnswered("a", 1), 16)
    acd.handle(CallEnded(1), 20)  # a takes 3
    acd.handle(CallerHungUp(2), 21)  # its ring on b is cancelled
    first, second = sorted(acd.take_records(), key=lambda r: r.call)
    assert first.offers == (
        Offer(0, "a", OfferResult.NO_ANSWER, 15),
        Offer(15, "a", OfferResult.ANSWERED, 1),
    )
    assert all(type(o) is Offer for o in first.offers + second.offers)
    assert second.offers == (Offer(1, "b", OfferResult.CANCELLED, 20),)
    assert (first.ring_s, second.ring_s) == (16, 20)


def test_abandon_while_waiting_and_while_ringing() -> None:
    acd = make_acd({"a": ["general"]})
    arrive_and_answer(acd, 1, "general", 0)
    acd.handle(CallArrived(2, "general"), 5)
    assert acd.handle(CallerHungUp(2), 50) == [End(2, Outcome.ABANDONED)]
    acd.handle(CallEnded(1), 60)
    acd.handle(CallArrived(3, "general"), 61)
    out = acd.handle(CallerHungUp(3), 63)
    assert out == [CancelRing(3, "a"), End(3, Outcome.ABANDONED)]  # the ring is cancelled
    records = {r.call: r for r in acd.take_records()}
    assert records[2].outcome is Outcome.ABANDONED
    assert records[2].wait_s == 45
    assert records[3].outcome is Outcome.ABANDONED
    assert acd.agent_state("a") is AgentState.READY
    assert acd.handle(CallerHungUp(3), 64) == []  # late: the call has ended


def test_max_wait_sends_to_voicemail_note_or_another_queue() -> None:
    queues = [
        QueueConfig("vm", ("x",), max_wait_s=60),
        QueueConfig(
            "nt", ("x",), max_wait_s=30, on_max_wait=Action(ActionKind.NOTE, message="busy")
        ),
        QueueConfig("mv", ("x",), max_wait_s=10, on_max_wait=Action(ActionKind.QUEUE, "backup")),
        QueueConfig("backup", ("y",)),
    ]
    acd = make_acd({"x1": ["x"], "y1": ["y"]}, queues)
    arrive_and_answer(acd, 0, "vm", 0)  # x1 busy
    t_vm = timers(acd.handle(CallArrived(1, "vm"), 1))[TimerKind.MAX_WAIT]
    t_nt = timers(acd.handle(CallArrived(2, "nt"), 2))[TimerKind.MAX_WAIT]
    t_mv = timers(acd.handle(CallArrived(3, "mv"), 3))[TimerKind.MAX_WAIT]
    assert (t_vm.delay_s, t_nt.delay_s, t_mv.delay_s) == (60, 30, 10)
    assert rung(acd.handle(TimerExpired(t_mv.timer), 13)) == ["y1"]  # moved to backup
    out = acd.handle(TimerExpired(t_nt.timer), 32)
    assert PlayMessage(2, "busy") in out
    assert TakeNote(2, "nt") in out
    out = acd.handle(TimerExpired(t_vm.timer), 61)
    assert End(1, Outcome.VOICEMAIL) in out
    assert acd.handle(TimerExpired(t_vm.timer), 62) == []  # late timers are ignored
    records = {r.call: r for r in acd.take_records()}
    assert records[1].outcome is Outcome.VOICEMAIL
    assert records[1].wait_s == 60
    assert records[2].outcome is Outcome.NOTE
    assert acd._calls[3].queue.name == "backup"


def test_overflow_offers_to_backup_agents_and_keeps_the_place() -> None:
    queues = [
        QueueConfig("sales", ("sales",), overflow_after_s=30, overflow_to=("support",)),
        QueueConfig("support", ("support",)),
    ]
    acd = make_acd({"s": ["sales"], "t": ["support"]}, queues)
    arrive_and_answer(acd, 1, "sales", 0)
    arrive_and_answer(acd, 2, "support", 0)
    overflow = timers(acd.handle(CallArrived(3, "sales"), 5))[TimerKind.OVERFLOW]
    assert overflow.delay_s == 30
    assert acd.handle(TimerExpired(overflow.timer), 35) == []  # nobody free in support either
    assert acd._queues["support"].n_waiting == 1
    assert acd._queues["sales"].n_waiting == 1
    assert rung(acd.handle(CallEnded(2), 40)) == ["t"]  # a support agent takes it
    assert acd._queues["sales"].n_waiting == 0  # and it left sales too
    assert rung(acd.handle(CallEnded(1), 41)) == []


def test_join_empty_and_leave_when_empty() -> None:
    closed = Action(ActionKind.CLOSE, message="closed")
    queues = [
        QueueConfig("strict", ("x",), join_empty=False, on_empty=closed),
        QueueConfig("leave", ("y",), leave_when_empty=True, on_empty=Action(ActionKind.VOICEMAIL)),
    ]
    acd = make_acd({"y1": ["y"]}, queues)
    out = acd.handle(CallArrived(1, "strict"), 1)
    assert PlayMessage(1, "closed") in out
    assert End(1, Outcome.CLOSED) in out
    arrive_and_answer(acd, 2, "leave", 2)
    acd.handle(CallArrived(3, "leave"), 3)
    acd.handle(AgentLoggedOut("y1"), 4)  # pending until the call and wrap-up are over
    assert acd._agents["y1"].state.value == "talking"
    out = acd.handle(CallEnded(2), 10)
    assert End(3, Outcome.VOICEMAIL) in out
    assert acd._agents["y1"].state.value == "offline"


def test_max_no_answer_pauses_the_agent() -> None:
    acd = make_acd({"a": ["general"]}, max_no_answer=2)
    acd.handle(CallArrived(1, "general"), 0)
    out = acd.handle(RingTimedOut("a", 1), 15)  # requeue, a rings again
    assert rung(out) == ["a"]
    out = acd.handle(RingTimedOut("a", 1), 30)
    assert PauseAgent("a", "no_answer") in out
    assert acd._agents["a"].state.value == "paused"
    assert acd._agents["a"].pause_reason == "no_answer"
    assert acd._calls[1].state.value == "waiting"
    assert rung(acd.handle(AgentReady("a"), 40)) == ["a"]


def test_pause_and_logout_wait_for_the_call_to_end() -> None:
    acd = make_acd({"a": ["general"]}, [QueueConfig("general", ("general",), wrap_up_s=30)])
    arrive_and_answer(acd, 1, "general", 0)
    acd.handle(AgentPaused("a", "lunch"), 5)
    out = acd.handle(CallEnded(1), 10)
    wrap = timers(out)[TimerKind.WRAP_UP]
    assert wrap.delay_s == 30
    assert acd._agents["a"].state.value == "wrap_up"
    acd.handle(CallArrived(2, "general"), 20)
    assert acd.handle(TimerExpired(wrap.timer), 40) == []
    assert acd._agents["a"].pause_reason == "lunch"
    assert rung(acd.handle(AgentReady("a"), 50)) == ["a"]
    (record,) = acd.take_records()
    assert record.wrap_up_s == 30


def test_wrap_up_holds_across_all_queues_of_the_agent() -> None:
    queues = [
        QueueConfig("sales", ("sales",), wrap_up_s=60),
        QueueConfig("support", ("support",), wrap_up_s=0),
    ]
    acd = make_acd({"a": ["sales", "support"]}, queues)
    arrive_and_answer(acd, 1, "sales", 0)
    acd.handle(CallEnded(1), 10)
    assert acd.handle(CallArrived(2, "support"), 11) == [Enqueue(2, "support", 1)]


def test_skills_change_during_shift_reindexes_the_agent() -> None:
    queues = [QueueConfig("sales", ("sales",)), QueueConfig("support", ("support",))]
    acd = make_acd({"a": ["sales"]}, queues)
    acd.handle(CallArrived(1, "support"), 1)
    assert rung(acd.handle(SkillsChanged("a", {"sales": 1, "support": 2}), 2)) == ["a"]
    assert [q.name for q in acd._agents["a"].queues] == ["sales", "support"]
    with pytest.raises(InvalidEventError, match="proficiency 9"):
        acd.handle(SkillsChanged("a", {"sales": 9}), 3)


def test_new_agent_logs_in_with_skills() -> None:
    acd = make_acd({})
    acd.handle(CallArrived(1, "general"), 0)
    with pytest.raises(UnknownAgentError):
        acd.handle(AgentLoggedIn("new"), 1)
    assert rung(acd.handle(AgentLoggedIn("new", {"general": 3}), 2)) == ["new"]


def test_service_stop_interrupts_every_open_call() -> None:
    acd = make_acd({"a": ["general"], "b": ["general"]})
    arrive_and_answer(acd, 1, "general", 0)
    acd.handle(CallArrived(2, "general"), 1)  # rings b
    acd.handle(CallArrived(3, "general"), 2)  # waits
    acd.handle(ServiceStopped(), 10)
    outcomes = {r.call: r.outcome for r in acd.take_records()}
    assert outcomes == {1: Outcome.INTERRUPTED, 2: Outcome.INTERRUPTED, 3: Outcome.INTERRUPTED}
    assert not acd._calls
    assert {a.state.value for a in acd._agents.values()} == {"ready"}


def test_bad_events_raise_typed_errors_and_change_nothing() -> None:
    acd = make_acd({"a": ["general"]})
    with pytest.raises(InvalidEventError, match="queue 'nope' is not configured"):
        acd.handle(CallArrived(1, "nope"), 0)
    acd.handle(CallArrived(1, "general"), 0)
    with pytest.raises(InvalidEventError, match="already in progress"):
        acd.handle(CallArrived(1, "general"), 0)
    with pytest.raises(UnknownAgentError):
        acd.handle(AgentAnswered("ghost", 1), 1)
    with pytest.raises(InvalidEventError, match="not connected"):
        acd.handle(CallEnded(1), 1)
    with pytest.raises(CallsimError):
        acd.handle(AgentReady("ghost"), 1)
    acd.handle(AgentAnswered("a", 1), 2)  # still works afterwards
    assert acd.agent_state("a") is AgentState.TALKING


def test_config_contradictions_are_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'fastest'"):
        make_acd({"a": ["general"]}, strategy="fastest")
    from callsim.core import AcdConfig, AgentConfig
    from callsim.core import QueueConfig as Q

    with pytest.raises(ConfigError, match=r"agents\[0\].weight: 0(\.0)? is not > 0"):
        AcdConfig((Q("q", ("x",)),), (AgentConfig("a", {"x": 1}, weight=0),)).check()
    with pytest.raises(ConfigError, match="'ghost' is not another queue"):
        make_acd({}, [QueueConfig("q", ("x",), overflow_after_s=5, overflow_to=("ghost",))])


def test_journal_exports_asterisk_queue_log() -> None:
    acd = make_acd({"a": ["general"]}, journal=True, max_no_answer=0)
    acd.handle(CallArrived("c1", "general", ani="555"), 100)
    acd.handle(RingTimedOut("a", "c1"), 115)
    acd.handle(AgentAnswered("a", "c1"), 118)
    acd.handle(CallEnded("c1", Party.CALLER), 200)
    acd.handle(CallArrived("c2", "general"), 201)
    acd.handle(AgentAnswered("a", "c2"), 202)
    acd.handle(CallArrived("c3", "general"), 203)
    acd.handle(CallerHungUp("c3"), 240)
    assert acd.journal is not None
    lines = [line for line in queue_log_lines(acd.journal, epoch_s=1_700_000_000) if "|c" in line]
    assert lines[:4] == [
        "1700000100|c1|general|NONE|ENTERQUEUE||555",
        "1700000115|c1|general|a|RINGNOANSWER|15000",
        "1700000118|c1|general|a|CONNECT|18||3",
        "1700000200|c1|general|a|COMPLETECALLER|18|82|1",
    ]
    assert lines[-1] == "1700000240|c3|general|NONE|ABANDON|1|1|37"


def test_decision_trace_explains_the_choice() -> None:
    agents = {"gen": ["general", "x"], "spec": ["general"]}
    acd = make_acd(agents, trace=True, strategy="fewest_skills_first", max_no_answer=0)
    acd.handle(CallArrived(1, "general"), 10)
    acd.handle(RingTimedOut("spec", 1), 25)
    assert acd.decisions is not None
    first, second = acd.decisions
    assert first.chosen == ("spec",)
    assert [c.agent for c in first.candidates] == ["spec", "gen"]
    assert first.candidates[0].score == (1, 1.0)
    assert "fewest skills" in first.rule
    assert first.n_candidates == 2
    assert second.chosen == ("gen",)
    assert second.n_candidates == 1


def test_a_decision_lists_the_best_ten_of_many_idle_agents() -> None:
    acd = make_acd({f"a{i:02}": ["general"] for i in range(40)}, trace=True)
    acd.handle(CallArrived(1, "general"), 100)
    assert acd.decisions is not None
    (d,) = acd.decisions
    assert d.n_candidates == 40
    assert [c.agent for c in d.candidates] == [f"a{i:02}" for i in range(10)]  # idle longest


def test_preferred_agent_idle_gets_the_call_first() -> None:
    acd = make_acd({"a": ["general"], "b": ["general"]})  # a has been idle longest
    out = acd.handle(CallArrived(1, "general", preferred_agent="b", preferred_wait_s=60), 10)
    assert rung(out) == ["b"]


def test_preferred_agent_busy_the_call_waits_for_them_then_for_anyone() -> None:
    acd = make_acd({"a": ["general"], "b": ["general"]})
    arrive_and_answer(acd, 1, "general", 5)  # a
    arrive_and_answer(acd, 2, "general", 6)  # b
    out = acd.handle(CallArrived(3, "general", preferred_agent="b", preferred_wait_s=60), 10)
    preferred = timers(out)[TimerKind.PREFERRED]
    assert preferred.delay_s == 60
    assert acd.handle(CallEnded(1), 20) == [End(1, Outcome.ANSWERED)]  # a is free: not for a
    assert acd._agents["a"].state.value == "ready"
    assert rung(acd.handle(CallEnded(2), 30)) == ["b"]  # b is free within the window: b


def test_preferred_window_expires_then_any_agent_takes_the_call() -> None:
    acd = make_acd({"a": ["general"], "b": ["general"]})
    arrive_and_answer(acd, 1, "general", 5)
    arrive_and_answer(acd, 2, "general", 6)
    preferred = timers(
        acd.handle(CallArrived(3, "general", preferred_agent="b", preferred_wait_s=60), 10)
    )[TimerKind.PREFERRED]
    acd.handle(CallEnded(1), 20)  # a idle, the call still waits for b
    assert rung(acd.handle(TimerExpired(preferred.timer), 70)) == ["a"]
    acd.handle(AgentAnswered("a", 3), 71)
    acd.handle(CallEnded(3), 100)
    record = next(r for r in acd.take_records() if r.call == 3)
    assert (record.agent, record.wait_s) == ("a", 61)


def test_preferred_call_keeps_its_place_and_leaves_when_the_agent_logs_out() -> None:
    acd = make_acd({"a": ["general"], "b": ["general"]})
    arrive_and_answer(acd, 1, "general", 5)
    arrive_and_answer(acd, 2, "general", 6)
    acd.handle(CallArrived(3, "general", preferred_agent="b", preferred_wait_s=600), 10)
    acd.handle(CallArrived(4, "general"), 11)
    acd.handle(AgentLoggedOut("b"), 12)  # pending: b is talking
    out = acd.handle(CallEnded(2), 13)  # b leaves; call 3 waits for anyone, ahead of call 4
    assert acd._agents["b"].state.value == "offline"
    assert rung(out) == []
    assert rung(acd.handle(CallEnded(1), 14)) == ["a"]
    assert acd._calls[3].state.value == "ringing"


def test_caller_hangs_up_while_waiting_for_the_preferred_agent() -> None:
    acd = make_acd({"a": ["general"]})
    arrive_and_answer(acd, 1, "general", 5)
    acd.handle(CallArrived(2, "general", preferred_agent="a", preferred_wait_s=60), 10)
    assert acd.handle(CallerHungUp(2), 30) == [End(2, Outcome.ABANDONED)]
    assert rung(acd.handle(CallEnded(1), 40)) == []


def test_diverted_calls_get_one_record_and_never_reach_an_agent() -> None:
    from callsim.core import CallDiverted

    acd = make_acd({"a": ["general"]})
    assert acd.handle(CallDiverted(1, "general", Outcome.BLOCKED, ani="+4790000000"), 5) == [
        End(1, Outcome.BLOCKED)
    ]
    acd.handle(CallDiverted(2, "general", Outcome.DEFLECTED), 6)
    (blocked, deflected) = acd.take_records()
    assert (blocked.outcome, blocked.agent, blocked.wait_s, blocked.ani) == (
        Outcome.BLOCKED,
        None,
        0,
        "+4790000000",
    )
    assert deflected.outcome is Outcome.DEFLECTED
    assert acd._agents["a"].calls_taken == 0
    with pytest.raises(
        InvalidEventError, match=r"CallDiverted refused: outcome .*ANSWERED.* is not one of"
    ):
        acd.handle(CallDiverted(3, "general", Outcome.ANSWERED), 7)


def _two_desks(**routing: object):  # type: ignore[no-untyped-def]
    queues = [QueueConfig("general", ("general",)), QueueConfig("billing", ("billing",))]
    return make_acd({"a": ["general"], "b": ["billing"]}, queues, journal=True, **routing)


def test_a_transfer_to_a_queue_keeps_one_record_with_both_talks() -> None:
    acd = _two_desks()
    assert arrive_and_answer(acd, 1, "general", 10) == "a"
    out = acd.handle(CallTransferred(1, queue="billing", wrap_up_s=5), 70)  # 60 s with a
    assert [type(c).__name__ for c in out][:1] == ["Transferred"]
    assert rung(out) == ["b"]
    assert acd.agent_state("a") is AgentState.WRAP_UP
    assert acd.wrap_up_ends("a") == 75  # the transfer's 5 s wrap-up
    acd.handle(AgentAnswered("b", 1), 74)
    acd.handle(TimerExpired(Timer(TimerKind.WRAP_UP, "a", acd._agents["a"].wrap_token)), 75)
    assert acd.wrap_up_ends("a") is None
    assert acd.agent_state("a") is AgentState.READY  # a's wrap-up wrote no record
    assert not acd.records
    acd.handle(CallEnded(1, wrap_up_s=0), 104)  # 30 s with b
    (r,) = acd.take_records()
    assert (r.queue, r.final_queue, r.agent, r.outcome) == (
        "general",
        "billing",
        "b",
        Outcome.ANSWERED,
    )
    assert (r.answer_s, r.wait_s, r.talk_s) == (10, 0, 90)
    assert r.transfers == (Transfer(70, "a", "billing", None),)
    assert [o.agent for o in r.offers] == ["a", "b"]
    log = list(queue_log_lines(acd.journal or []))
    assert any("|1|general|a|BLINDTRANSFER|billing||0|60|" in line for line in log)


def test_a_transfer_to_a_ready_agent_rings_them_and_falls_back_to_the_queue() -> None:
    acd = _two_desks(max_no_answer=0)
    arrive_and_answer(acd, 1, "general", 0)
    with pytest.raises(InvalidEventError, match="not ready"):
        acd.handle(CallTransferred(1, agent="a"), 5)  # a is on the call itself
    assert acd.agent_state("a") is AgentState.TALKING  # a refusal changes nothing
    out = acd.handle(CallTransferred(1, agent="b", wrap_up_s=0), 20)
    assert rung(out) == ["b"]
    assert acd.agent_state("a") is AgentState.READY  # no wrap-up: free at once
    out = acd.handle(RingTimedOut("b", 1), 35)  # b does not answer: the call's queue hunts
    assert rung(out) == ["a"]
    acd.handle(AgentAnswered("a", 1), 36)
    acd.handle(CallEnded(1, wrap_up_s=0), 46)
    (r,) = acd.take_records()
    assert (r.agent, r.talk_s, r.final_queue) == ("a", 30, "general")


def test_a_caller_leaving_after_a_transfer_was_still_answered() -> None:
    acd = _two_desks()
    arrive_and_answer(acd, 1, "general", 0)
    acd.handle(AgentLoggedOut("b"), 1)
    out = acd.handle(CallTransferred(1, queue="general", wrap_up_s=30), 10)
    assert [c for c in out if isinstance(c, Enqueue)] == [Enqueue(1, "general", 1)]
    acd.handle(CallerHungUp(1), 25)
    (r,) = acd.take_records()
    assert (r.outcome, r.agent, r.talk_s, r.end_s) == (Outcome.ANSWERED, "a", 10, 25)
    acd.handle(TimerExpired(Timer(TimerKind.WRAP_UP, "a", acd._agents["a"].wrap_token)), 40)
    assert acd.agent_state("a") is AgentState.READY
    assert not acd.take_records()


def test_a_transfer_needs_a_connected_call_and_one_known_target() -> None:
    acd = _two_desks()
    acd.handle(AgentLoggedOut("a"), 0)
    acd.handle(CallArrived(1, "general"), 1)  # waits: nobody for general
    with pytest.raises(InvalidEventError, match="not connected"):
        acd.handle(CallTransferred(1, queue="billing"), 2)
    acd.handle(AgentLoggedIn("a"), 3)
    acd.handle(AgentAnswered("a", 1), 4)
    with pytest.raises(InvalidEventError, match="a queue or an agent"):
        acd.handle(CallTransferred(1), 5)
    with pytest.raises(InvalidEventError, match="a queue or an agent"):
        acd.handle(CallTransferred(1, queue="billing", agent="b"), 5)
    with pytest.raises(UnknownQueueError):
        acd.handle(CallTransferred(1, queue="sales"), 5)
    with pytest.raises(UnknownAgentError):
        acd.handle(CallTransferred(1, agent="zed"), 5)
    assert acd.agent_state("a") is AgentState.TALKING


def test_a_full_queue_gives_on_full_and_lines_give_busy() -> None:
    q = QueueConfig("general", ("general",), max_waiting=1)
    acd = make_acd({"a": ["general"]}, [q], journal=True)
    arrive_and_answer(acd, 1, "general", 1)
    assert [type(c) for c in acd.handle(CallArrived(2, "general"), 2)] == [Enqueue]
    out = acd.handle(CallArrived(3, "general"), 3)  # the one place is taken
    assert [(type(c), getattr(c, "outcome", None)) for c in out] == [(End, Outcome.BUSY)]
    assert "|FULL|" in "\n".join(queue_log_lines(acd.journal))
    to_note = QueueConfig("general", ("general",), max_waiting=0, on_full=Action(ActionKind.NOTE))
    acd = make_acd({"a": ["general"]}, [to_note])
    arrive_and_answer(acd, 1, "general", 1)
    assert acd.handle(CallArrived(2, "general"), 2) == [
        TakeNote(2, "general"),
        End(2, Outcome.NOTE),
    ]
    # two lines: waiting and talking calls hold one each; wrap-up frees it
    q = QueueConfig("general", ("general",), wrap_up_s=30)
    acd = make_acd({"a": ["general"]}, [q], lines=2)
    arrive_and_answer(acd, 1, "general", 1)
    acd.handle(CallArrived(2, "general"), 2)
    out = acd.handle(CallArrived(3, "general"), 3)
    assert [(type(c), getattr(c, "outcome", None)) for c in out] == [(End, Outcome.BUSY)]
    acd.handle(CallEnded(1), 4)  # call 1 in wrap-up: its line is free
    assert [type(c) for c in acd.handle(CallArrived(4, "general"), 5)] == [Enqueue]
    with pytest.raises(ConfigError, match="'busy' is only for on_full"):
        make_acd(
            {"a": ["general"]}, [QueueConfig("g", ("general",), on_empty=Action(ActionKind.BUSY))]
        )
    with pytest.raises(ConfigError, match=r"routing\.lines: 0 is not >= 1"):
        make_acd({"a": ["general"]}, [q], lines=0)


def test_the_announced_wait_is_position_times_mean_handling_over_agents() -> None:
    q = QueueConfig("general", ("general",), handle_s=100)
    acd = make_acd({"a": ["general"], "b": ["general"]}, [q])
    arrive_and_answer(acd, 1, "general", 0)
    arrive_and_answer(acd, 2, "general", 0)
    (first,) = acd.handle(CallArrived(3, "general"), 1)
    (second,) = acd.handle(CallArrived(4, "general"), 2)
    assert isinstance(first, Enqueue)
    assert isinstance(second, Enqueue)
    assert (first.expected_wait_s, second.expected_wait_s) == (50.0, 100.0)  # 1, 2 x 100 / 2
    acd.handle(CallEnded(1), 200)  # handled in 200 s: the mean moves 1/20 of the way
    acd.handle(AgentAnswered("a", 3), 200)
    (again,) = acd.handle(CallArrived(5, "general"), 201)
    assert isinstance(again, Enqueue)
    assert again.position == 2
    assert again.expected_wait_s == pytest.approx(2 * 105 / 2)


def test_announcements_and_a_callback_that_keeps_its_place() -> None:
    q = QueueConfig("general", ("general",), handle_s=100, announce_every_s=30,
                    callback_above_s=90)  # fmt: skip
    acd = make_acd({"a": ["general"]}, [q], lines=2, journal=True)
    arrive_and_answer(acd, 1, "general", 0)
    out = acd.handle(CallArrived(2, "general"), 1)  # position 1: 100 s expected, above 90
    assert [type(c) for c in out] == [Enqueue, OfferCallback, StartTimer]
    (timer,) = [c.timer for c in out if isinstance(c, StartTimer)]
    assert timer.kind is TimerKind.ANNOUNCE
    again = acd.handle(TimerExpired(timer), 31)  # announced, the next one set, no new offer
    assert [type(c) for c in again] == [StartTimer, Announce]
    assert (again[1].position, again[1].expected_wait_s) == (1, 100.0)
    assert acd.handle(CallbackRequested(2), 40) == [HoldPlace(2, "general")]  # keeps its place
    assert acd.handle(CallerHungUp(2), 41) == []  # the caller's leg is gone already
    assert acd.handle(TimerExpired(timer), 61) == [StartTimer(timer, 30)]  # not announced
    acd.handle(CallArrived(3, "general"), 50)  # the callback freed its line
    out = acd.handle(CallEnded(1), 100)  # the callback is first in line: dial it
    assert [(type(c), c.call) for c in out if isinstance(c, Ring)] == [(Ring, 2)]
    acd.handle(AgentAnswered("a", 2), 101)
    out = acd.handle(CallbackUnanswered(2, 0.0), 131)  # nobody answered
    assert isinstance(out[0], End)
    assert (out[0].call, out[0].outcome) == (2, Outcome.CALLBACK_FAILED)
    (record,) = [r for r in acd.take_records() if r.call == 2]
    assert (record.outcome, record.callback_s) == (Outcome.CALLBACK_FAILED, 40)
    assert "40|2|general|NONE|CALLBACK" in "\n".join(queue_log_lines(acd.journal))
    with pytest.raises(InvalidEventError, match="not a connected callback"):
        acd.handle(CallbackUnanswered(3), 132)


def test_an_agent_on_a_personal_device_rings_its_own_time() -> None:
    acd = Acd(
        AcdConfig(
            (QueueConfig("general", ("general",)),),
            (AgentConfig("home", {"general": 1}, device="+47 900", ring_timeout_s=30),),
        ),
        random.Random(1),
    )
    acd.handle(AgentLoggedIn("home"), 0)
    (ring,) = acd.handle(CallArrived(1, "general"), 1)
    assert (ring.agent, ring.timeout_s) == ("home", 30)
    acd.handle(AgentLoggedIn("desk", {"general": 1}), 2)  # created here: the routing's
    (other,) = acd.handle(CallArrived(2, "general"), 3)
    assert (other.agent, other.timeout_s) == ("desk", 15)
    made = acd.handle(AgentLoggedIn("mobile", {"general": 1}, ring_timeout_s=40), 4)
    assert made == []
    (third,) = acd.handle(CallArrived(3, "general"), 5)
    assert (third.agent, third.timeout_s) == ("mobile", 40)
    with pytest.raises(ConfigError, match=r"ring_timeout_s: 0(\.0)? is not > 0"):
        AcdConfig(
            (QueueConfig("g", ("g",)),), (AgentConfig("a", {"g": 1}, ring_timeout_s=0),)
        ).check()


def test_blended_outbound_keeps_the_reserve_idle_for_inbound() -> None:
    queues = (QueueConfig("in", ("in",)), QueueConfig("out", ("out",)))
    agents = tuple(AgentConfig(n, {"in": 1, "out": 1}) for n in ("a", "b", "c"))
    routing = RoutingConfig(blend=BlendConfig("out", reserve=1))
    acd = Acd(AcdConfig(queues, agents, routing), random.Random(1))
    assert acd.handle(AgentLoggedIn("a"), 0) == []  # nobody else idle: a stays for inbound
    assert acd.handle(AgentLoggedIn("b"), 0) == [Dial("b", "out")]  # a is the reserve
    assert acd.handle(AgentLoggedIn("c"), 0) == [Dial("c", "out")]
    assert acd.agent_state("b") is AgentState.DIALLING
    (ring,) = acd.handle(CallArrived(1, "in"), 1)  # inbound takes the reserve
    assert ring.agent == "a"
    out = acd.handle(OutboundAnswered(100, "b"), 20)  # the right party: b talks
    assert out == [Connect(100, "b")]
    (waiting,) = acd.handle(CallArrived(2, "in"), 21)  # nobody idle: it waits
    assert isinstance(waiting, Enqueue)
    (freed,) = acd.handle(OutboundUnanswered("c"), 25)  # c is free: inbound first
    assert (freed.call, freed.agent) == (2, "c")
    acd.handle(CallEnded(100), 200)  # b is free, nobody idle: b stays as the reserve
    assert acd.agent_state("b") is AgentState.READY
    (record,) = [r for r in acd.take_records() if r.call == 100]
    assert (record.queue, record.outcome, record.agent) == ("out", Outcome.ANSWERED, "b")
    with pytest.raises(InvalidEventError, match="not dialling"):
        acd.handle(OutboundUnanswered("b"), 201)


def test_a_routing_loop_ends_in_the_moving_fields_end_and_the_trace_says_why() -> None:
    """Two full queues that send callers to each other: after as many moves as there are
    queues in one instant the call takes on_full's end (busy), the trace names the loop."""
    to = {name: Action(ActionKind.QUEUE, other) for name, other in (("a", "b"), ("b", "a"))}
    queues = [QueueConfig(n, (n,), max_waiting=0, on_full=to[n]) for n in ("a", "b")]
    acd = Acd(AcdConfig(tuple(queues)), trace=True, journal=True)
    out = acd.handle(CallArrived(1, "a"), 5.0)
    assert out == [End(1, Outcome.BUSY)]
    (decision,) = acd.take_decisions()
    assert decision.chosen == ()
    assert decision.rule == (
        "routing loop: move 3 at this instant (a -> b -> a -> b) is more than the 2 queues "
        "allow; busy instead"
    )
    log = "\n".join(queue_log_lines(acd.journal))
    assert log.count("|ENTERQUEUE|") == 3
    assert log.count("|FULL|") == 1
    # a chain without a loop is never cut short: through every queue to the last's end
    chain = [
        QueueConfig(f"q{i}", ("s",), max_waiting=0, on_full=Action(ActionKind.QUEUE, f"q{i + 1}"))
        for i in range(3)
    ] + [QueueConfig("q3", ("s",), max_waiting=0, on_full=Action(ActionKind.NOTE))]
    acd = Acd(AcdConfig(tuple(chain)), trace=True)
    assert [type(c) for c in acd.handle(CallArrived(1, "q0"), 0.0)] == [TakeNote, End]
    assert acd.take_records()[0].final_queue == "q3"
    assert acd.take_decisions() == []


def test_moves_are_counted_per_instant_across_events() -> None:
    """max_wait_s 0 both ways: each move is a timer event at the same instant; the bound
    holds across them (voicemail, on_max_wait's end); at a later instant it starts again."""
    queues = tuple(
        QueueConfig(n, (n,), max_wait_s=0.0, on_max_wait=Action(ActionKind.QUEUE, other))
        for n, other in (("a", "b"), ("b", "a"))
    )
    acd = Acd(AcdConfig(queues), trace=True)
    for now in (1.0, 2.0):
        call = int(now)
        pending = [
            c.timer for c in acd.handle(CallArrived(call, "a"), now) if isinstance(c, StartTimer)
        ]
        ends = []
        while pending:
            out = acd.handle(TimerExpired(pending.pop(0)), now)
            pending += [c.timer for c in out if isinstance(c, StartTimer)]
            ends += [c for c in out if isinstance(c, End)]
        assert ends == [End(call, Outcome.VOICEMAIL)]
        (decision,) = acd.take_decisions()
        assert decision.at_s == now
        assert "move 3 at this instant" in decision.rule
