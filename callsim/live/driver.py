"""The wall-clock shell: the ACD core driven in real time on an asyncio event loop.

The simulator feeds the core events on SimPy's clock; this driver feeds it the same events
on the wall clock: what people do (``handle``, ``arrive``) at the moment they do it, and
what the core asked to be told later (``StartTimer``: max wait, overflow, wrap-up end,
preferred-agent wait, no-answer pause end; a ``Ring``'s time-out) from its timer heap.
``speedup`` F runs every core timer F times faster (a 15 s ring time-out lasts 15/F s)
and reports times in scenario seconds, so a load test can compress a day.

The timers are one heap with one loop timer armed for the earliest. When many come due
at once (a thousand agents rung together time out together), they are fed in slices of
at most ``SLICE_S`` of work, the loop's other callbacks (requests, the lag probe) running
between slices: a burst delays timers a little, never the whole loop.

Like the engine, it holds no rule: timers it set are never cancelled (the core drops a
stale one), a late event is harmless, and every command goes to the listeners (the API's
desks and event stream) as the core returned it. All calls happen on the loop's thread.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any

from callsim.core import (
    Acd,
    CallId,
    CallRecord,
    Command,
    Event,
    InboundCall,
    InboundFlow,
    Ring,
    RingTimedOut,
    ServiceStopped,
    StaffedSpan,
    StartTimer,
    TimerExpired,
)
from callsim.errors import ConfigError

SLICE_S = 0.002  # the most timer work done before the loop runs its other callbacks

Listener = Callable[[Command, float], None]
Watcher = Callable[[Event, list[Command], float], None]


class LiveCentre:
    """One routing centre in wall-clock time: the core, its timers and its listeners."""

    def __init__(
        self,
        acd: Acd,
        flow: InboundFlow | None = None,
        *,
        speedup: float = 1.0,
        loop: asyncio.AbstractEventLoop | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speedup > 0:
            raise ConfigError(f"{speedup!r} is not > 0", field="speedup")
        self.acd = acd
        self.flow = flow
        self.speedup = speedup
        self._loop = loop or asyncio.get_running_loop()
        self._clock = clock
        self._started = clock()
        self._timers: list[tuple[float, int, Event]] = []  # (due, seq, event): a heap
        self._seq = itertools.count()
        self._armed: asyncio.Handle | None = None
        self._armed_due = float("inf")
        self._listeners: list[Listener] = []
        self._watchers: list[Watcher] = []
        self.stopped = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the centre runs on (its timers, its listeners)."""
        return self._loop

    def now(self) -> float:
        """Scenario seconds since the centre started (wall seconds x ``speedup``)."""
        return (self._clock() - self._started) * self.speedup

    def listen(self, listener: Listener) -> None:
        """Call ``listener(command, now)`` for every command the core returns."""
        self._listeners.append(listener)

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(event, commands, now)`` after every event the core handled,
        those the timers fed included (a store commits what changed)."""
        self._watchers.append(watcher)

    def handle(self, event: Event) -> list[Command]:
        """Apply ``event`` now and carry out the commands; they are returned too."""
        if self.stopped:
            raise ConfigError("the centre has stopped; start a new one")
        now = self.now()
        commands = self.acd.handle(event, now)
        self._carry_out(commands, now)
        for watcher in self._watchers:
            watcher(event, commands, now)
        return commands

    def arrive(self, call: CallId, ani: str, dnis: str, **inputs: Any) -> InboundCall:
        """A call to a client's number: the core's inbound flow decides, the ACD routes."""
        if self.flow is None:
            raise ConfigError("this centre has no clients: send CallArrived for a queue")
        inbound = self.flow.arrive(call, ani, dnis, self.now(), **inputs)
        self.handle(inbound.event)
        return inbound

    def stop(self) -> list[Command]:
        """Stop routing: open calls end ``interrupted`` (recorded), no timer fires again."""
        commands = self.handle(ServiceStopped())
        self.stopped = True
        if self._armed is not None:
            self._armed.cancel()
        self._timers.clear()
        return commands

    def take_records(self) -> list[CallRecord]:
        return self.acd.take_records()

    def take_spans(self) -> list[StaffedSpan]:
        return self.acd.take_spans()

    # -- carrying out -----------------------------------------------------------------

    def _carry_out(self, commands: list[Command], now: float) -> None:
        for command in commands:
            if type(command) is StartTimer:
                self._later(command.delay_s, TimerExpired(command.timer))
            elif type(command) is Ring:
                self._later(command.timeout_s, RingTimedOut(command.agent, command.call))
            for listener in self._listeners:
                listener(command, now)

    def _later(self, delay_s: float, event: Event) -> None:
        """Feed ``event`` to the core ``delay_s`` scenario seconds from now."""
        due = self.now() + delay_s
        heapq.heappush(self._timers, (due, next(self._seq), event))
        if due < self._armed_due:
            self._arm(due)

    def _arm(self, due: float, *, soon: bool = False) -> None:
        """Run ``_fire`` when ``due`` comes (or at the loop's next turn)."""
        if self._armed is not None:
            self._armed.cancel()
        self._armed_due = due
        if soon:
            self._armed = self._loop.call_soon(self._fire)
        else:
            delay = max(due - self.now(), 0.0) / self.speedup
            self._armed = self._loop.call_later(delay, self._fire)

    def due(self) -> None:
        """Feed every timer that is due now, at once: before a person's action (an accept)
        that a late timer (a ring time-out) has overtaken, so the core decides what came
        first."""
        timers = self._timers
        while timers and not self.stopped and timers[0][0] <= self.now():
            self._feed(heapq.heappop(timers)[2])

    def _fire(self) -> None:
        """Feed the timers that are due, for at most ``SLICE_S``; the rest after the loop
        has had a turn."""
        self._armed, self._armed_due = None, float("inf")
        timers = self._timers
        until = time.perf_counter() + SLICE_S
        while timers and not self.stopped:
            if timers[0][0] > self.now():
                self._arm(timers[0][0])
                return
            if time.perf_counter() > until:  # more are due: after the loop's other work
                self._arm(timers[0][0], soon=True)
                return
            self._feed(heapq.heappop(timers)[2])

    def _feed(self, event: Event) -> None:
        try:
            self.handle(event)
        except Exception as exc:  # reported as a failed loop callback would be; the
            # other timers still fire (one asyncio timer each used to give that)
            self._loop.call_exception_handler(
                {"message": f"timer event {event!r} failed", "exception": exc}
            )
