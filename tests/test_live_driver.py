"""The wall-clock driver feeds the core the events the simulator feeds it, on a real
asyncio loop: ring time-outs, wrap-up ends and the no-answer pause end fire from its
timers, F times faster with --speedup, and stopping closes open calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from callsim.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentState,
    CallArrived,
    CallEnded,
    Command,
    OfferResult,
    Outcome,
    PauseAgent,
    Ring,
    TimerExpired,
)
from callsim.errors import ConfigError
from callsim.live import LiveCentre
from tests.conftest import make_acd

SPEEDUP = 200.0  # a 15 s ring time-out lasts 75 ms


async def _idle(scenario_s: float) -> None:
    await asyncio.sleep(scenario_s / SPEEDUP)


async def _until(done: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Let the loop run until ``done()`` (a generous wall-clock limit: a busy machine
    delays the loop, never the order of what it does)."""
    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, "the centre did not get there in time"
        await asyncio.sleep(0.001)


def test_ring_timeouts_hunt_and_pause_like_the_simulator() -> None:
    """The timers fire in order and never early, whatever the machine's load: the agents
    act on what the centre says (b answers the moment it rings, as a phone would), and
    the test waits for what happened rather than for a time (it slept for fixed times
    and read the states, which a loaded machine made come out in another order)."""

    async def day() -> tuple[list[tuple[Command, float]], dict[str, float], LiveCentre]:
        centre = LiveCentre(
            make_acd({"a": ["general"], "b": ["general"]}, login=False, max_no_answer=1,
                     no_answer_pause_s=30),
            speedup=SPEEDUP,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        seen: list[tuple[Command, float]] = []
        timers: dict[str, float] = {}  # kind of timer -> when it was fed

        def listen(command: Command, now: float) -> None:
            seen.append((command, now))
            if isinstance(command, Ring) and command.agent == "b":  # b picks up at once
                loop.call_soon(centre.handle, AgentAnswered("b", 1))

        def watch(event: object, commands: object, now: float) -> None:
            if isinstance(event, TimerExpired):
                timers.setdefault(event.timer.kind.value, now)

        centre.listen(listen)
        centre.watch(watch)
        centre.handle(AgentLoggedIn("a"))
        centre.handle(AgentLoggedIn("b"))
        centre.handle(CallArrived(1, "general"))  # a rings 15 s, misses, is paused; b rings
        await _until(lambda: centre.acd.agent_state("b") is AgentState.TALKING)
        assert centre.acd.agent_state("a") is AgentState.PAUSED
        await _until(lambda: centre.acd.agent_state("a") is AgentState.READY)  # 30 s pause
        centre.handle(CallEnded(1, wrap_up_s=10))
        assert centre.acd.agent_state("b") is AgentState.WRAP_UP
        await _until(lambda: centre.acd.agent_state("b") is AgentState.READY)  # wrap-up
        return seen, timers, centre

    seen, timers, centre = asyncio.run(day())
    rings = [(c.agent, now) for c, now in seen if isinstance(c, Ring)]
    assert [agent for agent, _ in rings] == ["a", "b"]
    assert [c.agent for c, _ in seen if isinstance(c, PauseAgent)] == ["a"]
    (record,) = centre.take_records()
    missed, answered = record.offers
    assert (missed.agent, missed.result) == ("a", OfferResult.NO_ANSWER)
    assert missed.ring_s >= 14.9  # scenario seconds: never early (late by the loop's lag)
    assert rings[1][1] == pytest.approx(missed.at_s + missed.ring_s)  # when a's timed out
    assert timers["no_answer"] >= rings[1][1] + 29.9  # the pause ran its 30 s
    assert (answered.agent, answered.result, record.outcome) == (
        "b",
        OfferResult.ANSWERED,
        Outcome.ANSWERED,
    )
    assert record.wrap_up_s >= 9.9


def test_stopping_closes_open_calls_and_silences_timers() -> None:
    async def day() -> LiveCentre:
        centre = LiveCentre(make_acd({"a": ["general"]}), speedup=SPEEDUP)
        centre.handle(CallArrived(1, "general"))  # rings a for 15 s
        centre.handle(CallArrived(2, "general"))  # waits
        centre.stop()
        await _idle(30)  # the ring time-out would have fired by now
        return centre

    centre = asyncio.run(day())
    assert sorted((r.call, r.outcome) for r in centre.take_records()) == [
        (1, Outcome.INTERRUPTED),
        (2, Outcome.INTERRUPTED),
    ]
    with pytest.raises(ConfigError, match="stopped"):
        centre.handle(CallArrived(3, "general"))


def test_a_burst_of_timers_is_fed_in_slices_between_the_loops_other_work() -> None:
    """A thousand agents rung together time out together: the loop still takes turns."""
    n = 1500

    async def day() -> tuple[list[int], int]:
        acd = make_acd({f"a{i}": ["general"] for i in range(n)}, max_no_answer=0)
        now = [0.0]  # the centre's clock, moved by hand
        centre = LiveCentre(acd, speedup=SPEEDUP, clock=lambda: now[0])
        timed_out = 0

        def count(event: object, commands: object, now: float) -> None:
            nonlocal timed_out
            timed_out += type(event).__name__ == "RingTimedOut"

        centre.watch(count)
        for call in range(1, n + 1):
            centre.handle(CallArrived(call, "general"))  # every agent rings for 15 s
        now[0] = 40 / SPEEDUP  # 40 s of the centre: every ring time-out is due at once
        seen = []  # how many had timed out at each turn of the loop
        while timed_out < n:  # (those rung again time out later)
            seen.append(timed_out)
            await asyncio.sleep(0)
        return seen, timed_out

    seen, timed_out = asyncio.run(day())
    assert timed_out >= n
    assert any(0 < k < n for k in seen), "the burst ran in one turn of the loop"


def test_a_timer_event_that_fails_is_reported_and_the_others_still_fire() -> None:
    async def day() -> tuple[list[str], list[object]]:
        loop = asyncio.get_running_loop()
        reported: list[object] = []
        loop.set_exception_handler(lambda _loop, context: reported.append(context["exception"]))
        centre = LiveCentre(make_acd({"a": ["general"], "b": ["general"]}), speedup=SPEEDUP)
        timed_out: list[str] = []

        def watch(event: object, commands: object, now: float) -> None:
            if type(event).__name__ == "RingTimedOut":
                timed_out.append(event.agent)  # type: ignore[attr-defined]
                if len(timed_out) == 1:
                    raise RuntimeError("a listener broke")

        centre.watch(watch)
        centre.handle(CallArrived(1, "general"))  # rings a
        centre.handle(CallArrived(2, "general"))  # rings b
        await _until(lambda: len(timed_out) >= 2)  # both ring out; the first listener fails
        return timed_out, reported

    timed_out, reported = asyncio.run(day())
    assert sorted(timed_out[:2]) == ["a", "b"]
    assert [str(e) for e in reported] == ["a listener broke"]


def test_speedup_must_be_positive_and_a_flow_is_needed_for_clients() -> None:
    async def build(speedup: float) -> LiveCentre:
        return LiveCentre(make_acd({"a": ["general"]}), speedup=speedup)

    with pytest.raises(ConfigError, match="speedup: 0 is not > 0"):
        asyncio.run(build(0))
    centre = asyncio.run(build(1))
    with pytest.raises(ConfigError, match="no clients"):
        centre.arrive(1, "+4790000000", "+4721000000")


def test_due_feeds_a_late_ring_time_out_before_an_answer() -> None:
    """An answer that comes after the ring time-out was due, while the loop has not yet
    run that timer, meets the core's decision: the offer expired (no shell guesses)."""

    async def day() -> LiveCentre:
        clock = [0.0]
        centre = LiveCentre(
            make_acd({"a": ["general"]}, login=False, max_no_answer=1),
            clock=lambda: clock[0],
        )
        centre.handle(AgentLoggedIn("a"))
        centre.handle(CallArrived(1, "general"))
        clock[0] = 14.0
        centre.due()  # nothing is due yet
        view = centre.acd.call_view(1)
        assert view is not None
        assert [o.result for o in view.offers] == [OfferResult.RINGING]
        clock[0] = 16.0  # the 15 s time-out is due; the loop has not run it
        centre.due()
        assert centre.acd.offer_result(1, "a", 0.0) is OfferResult.NO_ANSWER
        assert centre.handle(AgentAnswered("a", 1)) == []  # late: harmless
        return centre

    centre = asyncio.run(day())
    assert centre.acd.agent_state("a") is AgentState.PAUSED
