"""One replication: SimPy's clock drives the ACD core's events and carries out its commands.

No per-call process: every happening is one lean object with its callbacks in SimPy's
event queue, processed by SimPy's own ``Environment.step`` (this relies on SimPy 4's event
protocol and queue layout; pyproject pins simpy below 5). The day's first calls, known up
front, take no event each: the next one is held with the event id SimPy would have given
it and arrives at the end of the happening SimPy would have popped it after
(``Replication._due``), in SimPy's very order. Per-call attributes (arrival,
talk, patience, wrap-up) are drawn up front in numpy from named streams; a caller's
patience timer is set only when the call has to wait or ring, and a late one (after the
answer) is dropped when it fires (lazy cancellation).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from heapq import heappush
from typing import Any, Final, Generic, TypeVar

import numpy as np
import simpy
from simpy.events import NORMAL

from callsim.analytics.metrics import CallFacts
from callsim.core import (
    Acd,
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    Announce,
    CallArrived,
    CallbackRequested,
    CallbackUnanswered,
    CallEnded,
    CallerHungUp,
    CallId,
    CallRecord,
    CancelRing,
    Connect,
    Dial,
    End,
    Enqueue,
    Forward,
    HoldPlace,
    OfferCallback,
    OutboundAnswered,
    OutboundUnanswered,
    Outcome,
    Party,
    PauseAgent,
    PlayMessage,
    RecordColumns,
    Ring,
    RingTimedOut,
    SendToVoicemail,
    ServiceStopped,
    StaffedSpan,
    StartTimer,
    TakeNote,
    TimerExpired,
    proficiency,
)
from callsim.core.client import ClientBook
from callsim.core.contact import Category, ContactBook
from callsim.core.inbound import InboundCall, InboundFlow, writes_note
from callsim.sim.plan import CONTROL_STEP_S, PlanClient, SimPlan, Step, Stream
from callsim.sim.sample import Streams, day_multipliers, poisson_times
from callsim.sim.world import (
    Caller,
    Callers,
    FollowUp,
    balk_chance,
    chat_talk_s,
    follow_up,
    talk_s,
    target_answers,
)


class _At:
    """A happening with its callbacks (one, or its own and ``_due``), for SimPy's loop.

    ``Environment.step`` reads only ``callbacks``, ``_ok`` and ``_value`` of what it pops
    (SimPy 4), so this slotted object stands in for a ``simpy.Event``: a Timeout without
    its extras, at a third of the cost. ``Replication._at`` schedules it; ``at`` is its
    time, SimPy's ``now`` when it happens (read here directly, not from the
    environment)."""

    __slots__ = ("_ok", "_value", "at", "callbacks")
    callbacks: Any  # SimPy sets it to None once processed

    def __init__(self, value: Any, callbacks: tuple[Callable[[Any], None], ...], at: float) -> None:
        self.callbacks = callbacks  # SimPy iterates it once, then sets None (not the tuple)
        self._value = value
        self._ok = True
        self.at = at


def _unbound(ev: _At) -> None:
    raise RuntimeError("a replication runs once")


# commands that need nothing of the simulator: the telephony they ask for (hold music,
# a message, voicemail, a note, a forward, cancelling a ring, the pause it announces) has
# no duration here, and the call's end arrives as End or the agent's next state
_NOTHING_TO_DO = frozenset(
    (CancelRing, PlayMessage, SendToVoicemail, TakeNote, Forward, PauseAgent, HoldPlace)
)
BREAK = "break"  # the pause reason of a timetable's breaks
_BUSY: Final = Outcome.BUSY
_NORMAL: Final = NORMAL  # compiled: constants, not look-ups per happening
_push: Final = heappush
_NEVER: Final = float("inf")  # no patience timer to set (compiled: not parsed per call)


def _this_day(
    plan: SimPlan, s: Stream, rng: np.random.Generator
) -> tuple[tuple[float, float, float], ...]:
    """The stream's rate pieces with this replication's day-to-day volume multipliers,
    one a day of the horizon (each piece is in one day; the warm-up is day 1's)."""
    if s.day_to_day is None:
        return s.pieces
    mult = day_multipliers(rng, s.day_to_day.dist, s.day_to_day.cv, plan.days)
    return tuple(
        (a, b, r * float(mult[max(0, int((a - plan.count_from_s) // 86_400))]))
        for a, b, r in s.pieces
    )


# the day's first calls in blocks of 256 (under 3 minutes of the large Erlang-A day): a
# block's count of calls not yet ended stays a small int, which Python never allocates
_SHIFT: Final = 8
_MASK: Final = (1 << _SHIFT) - 1
_KIND_FIELDS: Final = 6  # a kind's row: stream, queue, priority, client, attempt, follow_up
T = TypeVar("T")
R = TypeVar("R")


class _Drawn:
    """A float per call, by call id (``calls.talk[cid]``): the day's first calls' values
    as drawn (numpy, 8 bytes a call), turned into Python floats a block of calls at a
    time when first read, and let go once every call of the block has ended (``drop``:
    no output reads them after); later calls' values appended."""

    __slots__ = ("_blocks", "_drawn", "_n", "_tail")

    def __init__(self, drawn: np.ndarray) -> None:
        self._drawn = drawn
        self._n: int = len(drawn)
        self._blocks: list[list[float] | None] = [None] * ((self._n + _MASK) >> _SHIFT)
        self._tail: list[float] = []

    def __getitem__(self, cid: int) -> float:
        if cid >= self._n:
            return self._tail[cid - self._n]
        block = self._blocks[cid >> _SHIFT]
        if block is None:
            block = self._fill(cid >> _SHIFT)
        return block[cid & _MASK]

    def __setitem__(self, cid: int, value: float) -> None:
        if cid >= self._n:
            self._tail[cid - self._n] = value
            return
        block = self._blocks[cid >> _SHIFT]
        if block is None:
            block = self._fill(cid >> _SHIFT)
        block[cid & _MASK] = value

    def __len__(self) -> int:
        return self._n + len(self._tail)

    def __bool__(self) -> bool:
        return self._n + len(self._tail) > 0

    def __iter__(self) -> Iterator[float]:
        return iter([self[cid] for cid in range(len(self))])

    def _fill(self, b: int) -> list[float]:
        block: list[float] = self._drawn[b << _SHIFT : (b + 1) << _SHIFT].tolist()
        self._blocks[b] = block
        return block

    def append(self, value: float) -> None:
        self._tail.append(value)

    def drop(self, b: int) -> None:
        self._blocks[b] = None


class _Kinds:
    """What calls share: stream, queue, priority, client, attempt and whether the call
    follows up a served one, one row per distinct combination (the day's first calls:
    their stream's row), and each call's row number: 8 bytes a call for all six.
    ``fields``: each field's value by row."""

    __slots__ = ("_index", "fields", "of_call", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], of_call: list[int]) -> None:
        self.rows = rows
        self.of_call = of_call
        self._index = {row: k for k, row in enumerate(rows)}
        self.fields: list[list[Any]] = [[row[i] for row in rows] for i in range(_KIND_FIELDS)]

    def kind(self, row: tuple[Any, ...]) -> int:
        k = self._index.get(row)
        if k is None:
            k = self._index[row] = len(self.rows)
            self.rows.append(row)
            for values, value in zip(self.fields, row, strict=True):
                values.append(value)
        return k


class _Shared(Generic[T]):
    """One field of the calls' kinds, by call id (``calls.queue[cid]``)."""

    __slots__ = ("_at", "_kinds", "_of_call", "_values")

    def __init__(self, kinds: _Kinds, at: int) -> None:
        self._kinds = kinds
        self._of_call = kinds.of_call  # the lists themselves, for one look-up less
        self._values = kinds.fields[at]
        self._at = at

    def __getitem__(self, cid: int) -> T:
        value: T = self._values[self._of_call[cid]]
        return value

    def __len__(self) -> int:
        return len(self._of_call)

    def __iter__(self) -> Iterator[T]:
        return iter([self._values[k] for k in self._of_call])

    def __setitem__(self, cid: int, value: T) -> None:
        row = list(self._kinds.rows[self._of_call[cid]])
        row[self._at] = value
        self._of_call[cid] = self._kinds.kind(tuple(row))


class Calls:
    """Everything the simulator knows of each call, by call id (0, 1, ...), in one place:
    the day's first calls drawn up front, in numpy, from named streams; each retrial
    appended as it happens (``retrial``). Columns, not objects, read as lists
    (``calls.talk[cid]``): a simulated day holds tens of thousands of calls, so what a
    call shares with others (its stream's queue, priority, client, ...) is held once
    (``_Kinds``), and its drawn times as Python floats only while its block of calls is
    in the centre (``_Drawn``; ``ended`` lets them go)."""

    __slots__ = (
        "_clients", "_kinds", "_open", "answered", "arrival", "arrived", "attempt", "client",
        "follow_up", "inbound", "n_first", "offered_work_s", "patience", "priority", "queue",
        "stream", "talk", "wrap",
    )  # fmt: skip

    def __init__(
        self,
        plan: SimPlan,
        arrivals: np.random.Generator,
        draws: dict[str, np.random.Generator],
        given: Sequence[tuple[float, int]] | None = None,
        *,
        rate_scale: float = 1.0,
        until: float = float("inf"),
    ) -> None:
        """``rate_scale``, ``until``: the arrival rates times this, none from ``until`` on
        (a load test's plan; a whole day at 1.0 draws the simulator's very calls)."""
        if given is not None:  # a recorded arrival trace: (time, stream index) per call
            t_all = np.array([t for t, _ in given], dtype=float)
            k_all = np.array([k for _, k in given], dtype=np.int32)
        else:
            times, stream_of = [], []
            for k, s in enumerate(plan.streams):
                pieces = _this_day(plan, s, draws["volume"])
                if rate_scale != 1.0 or until < plan.arrivals_end_s:
                    pieces = tuple(
                        (a, min(b, until), r * rate_scale) for a, b, r in pieces if a < until
                    )
                t = poisson_times(arrivals, pieces)
                times.append(t)
                stream_of.append(np.full(len(t), k, dtype=np.int32))
            t_all = np.concatenate(times) if times else np.empty(0)
            k_all = np.concatenate(stream_of) if stream_of else np.empty(0, dtype=np.int32)
        order = np.argsort(t_all, kind="stable")
        t_all, k_all = t_all[order], k_all[order]
        n = len(t_all)
        talk = np.empty(n)
        patience = np.full(n, np.inf)
        wrap = np.zeros(n)
        for k, s in enumerate(plan.streams):
            mask = k_all == k
            m = int(mask.sum())
            talk[mask] = s.talk(draws["talk"], m)
            if s.patience is not None:
                patience[mask] = s.patience(draws["patience"], m)
            if s.wrap_up is not None:
                wrap[mask] = s.wrap_up(draws["wrap_up"], m)
        # the day's first calls and their work as drawn, by quarter hour of the counted
        # intervals and stream: control variates, whose means the plan knows exactly
        # (``expected_calls``)
        slot = np.floor((t_all - plan.count_from_s) / CONTROL_STEP_S).astype(np.intp)
        day = (t_all >= plan.count_from_s) & (t_all < plan.counted_end_s)
        cell = slot[day] * len(plan.streams) + k_all[day]
        shape = (plan.slots(CONTROL_STEP_S), len(plan.streams))
        self.arrived = np.bincount(cell, None, shape[0] * shape[1]).reshape(shape).astype(float)
        work = np.bincount(cell, (talk + wrap)[day], shape[0] * shape[1])
        self.offered_work_s = work.reshape(shape)
        self.arrival = _Drawn(t_all)
        self.talk = _Drawn(talk)  # seconds
        self.patience = _Drawn(patience)  # inf once its timer is set
        self.wrap = _Drawn(wrap)  # wrap-up, seconds (a note adds to it)
        self.answered = [False] * n  # learnt from the core's Connect
        self.n_first = n
        # a first call's kind is its stream's (row k: stream k); attempt 0: a first call,
        # k: its k-th retrial; follow_up: a recall or a forward of a served call; client:
        # its index, -1: a queue's call
        rows = [(k, s.queue, s.priority, s.client, 0, False) for k, s in enumerate(plan.streams)]
        self._kinds = kinds = _Kinds(rows, k_all.tolist())
        self.stream: _Shared[int] = _Shared(kinds, 0)
        self.queue: _Shared[str] = _Shared(kinds, 1)
        self.priority: _Shared[int | None] = _Shared(kinds, 2)
        self.client: _Shared[int] = _Shared(kinds, 3)
        self.attempt: _Shared[int] = _Shared(kinds, 4)
        self.follow_up: _Shared[bool] = _Shared(kinds, 5)
        # the inbound flow's record of each client call (None for calls to a queue; no
        # list without clients)
        self._clients = bool(plan.clients)
        self.inbound: list[InboundCall | None] = [None] * n if self._clients else []
        # the first calls of each block not yet ended (their records not yet written)
        self._open = [1 << _SHIFT] * (n >> _SHIFT) + ([n & _MASK] if n & _MASK else [])

    def ended(self, records: list[CallRecord]) -> list[CallRecord]:
        """The calls of ``records`` have ended (``ended_ids``). Returns ``records``."""
        self.ended_ids([record.call for record in records])
        return records

    def ended_ids(self, ids: list[CallId]) -> None:
        """The calls ``ids`` have ended (a call's record is written once, when it and its
        wrap-up are over): a block of first calls all ended lets its drawn times go."""
        n, still = self.n_first, self._open  # by block: at most 256, small ints
        for cid in ids:
            if isinstance(cid, int) and cid < n:
                b = cid >> _SHIFT
                left: int = still[b] - 1
                still[b] = left
                if left == 0:
                    for column in (self.arrival, self.talk, self.patience, self.wrap):
                        column.drop(b)

    def facts(self) -> CallFacts:
        """What the inbound flow decided for each client call, by call id."""
        n = len(self.answered)
        inbound: list[InboundCall | None] = self.inbound if self._clients else [None] * n
        return CallFacts.of([self.client[cid] for cid in range(n)], inbound)

    def followed(self, of: int, queue: str, talk: float, patience: float, wrap: float) -> int:
        """After served call ``of``, its caller calls ``queue`` (again): a new call."""
        return self._append(
            0.0, self.stream[of], talk, patience, wrap, 0, True, queue, self.priority[of],
            self.client[of],
        )  # fmt: skip

    def outbound(self, stream: int, queue: str, at: float, talk: float, wrap: float) -> int:
        """A right-party call of the dialer, connected at ``at``: a new call (no
        follow-ups, no retrials)."""
        return self._append(at, stream, talk, float("inf"), wrap, 0, True, queue, None, -1)

    def retrial(self, of: int, at: float, talk: float, patience: float, wrap: float) -> int:
        """Call ``of`` again at ``at``, with its own talk, patience and wrap-up; its id."""
        return self._append(
            at, self.stream[of], talk, patience, wrap, self.attempt[of] + 1,
            self.follow_up[of], self.queue[of], self.priority[of], self.client[of],
        )  # fmt: skip

    def _append(
        self, at: float, stream: int, talk: float, patience: float, wrap: float, attempt: int,
        follow_up: bool, queue: str, priority: int | None, client: int,
    ) -> int:  # fmt: skip
        cid = len(self.answered)
        self.arrival.append(at)
        self.talk.append(talk)
        self.patience.append(patience)
        self.wrap.append(wrap)
        self.answered.append(False)
        row = (stream, queue, priority, client, attempt, follow_up)
        self._kinds.of_call.append(self._kinds.kind(row))
        if self._clients:
            self.inbound.append(None)
        return cid


class Replication:
    """Runs one replication of a plan and returns the ACD's call records.

    The simulator models people and the world only: when calls arrive, how long they
    talk and wait, which keys they press, whom they ask for, whether agents and forward
    targets pick up, and who calls back. What the service does with a call is decided by
    the core: the ACD (``Acd``) and, for answering-service clients, the inbound flow
    (``InboundFlow``), driven through events, commands and read-only views only.

    ``columns=True``: the core writes the calls' records as columns (``RecordColumns``),
    which ``run_columns`` hands over, and ``run`` returns no records.
    ``inputs=True`` keeps every input given to the inbound flow, in order, in
    ``flow_inputs`` (a replay of them through a fresh flow makes the same decisions);
    ``journal`` and ``trace`` keep the core's journal and decisions (``acd.journal``,
    ``acd.decisions``). ``arrivals``: the day's first calls as given (plan-clock time,
    stream index), not drawn: a recorded trace, such as the calls of a load test, whose
    callers then do not call back (the trace holds every call that was made)."""

    def __init__(
        self,
        plan: SimPlan,
        seed: int,
        replication: int,
        *,
        inputs: bool = False,
        journal: bool = False,
        trace: bool = False,
        arrivals: Sequence[tuple[float, int]] | None = None,
        antithetic: bool = False,
        columns: bool = False,
    ) -> None:
        self.plan = plan
        streams = Streams(seed, replication, antithetic)
        self.acd = Acd(
            plan.acd, streams.python("tie_break"), journal=journal, trace=trace, columns=columns
        )
        self.env = simpy.Environment()
        self._answer_rng = streams.python("answer")
        self._retrial_rng = streams.python("retrial")
        self._np = {
            name: streams.numpy(name)
            for name in ("talk", "patience", "wrap_up", "retrial", "volume")
        }
        self._delay_rng = streams.numpy("answer")
        self._p_answer = {t.agent: t.answer_probability for t in plan.timetables}
        self._delay_of = {t.agent: t.answer_delay or plan.answer_delay for t in plan.timetables}
        self.retrials = 0
        self.retrials_lost = 0  # would have come after the horizon: the centre is closed
        self._policy_rng = streams.python("policy")
        self._policy_np = streams.numpy("policy")
        self._success: dict[str, float] = {}  # the answering client's forward targets
        self.flow_inputs: list[tuple[Any, ...]] | None = [] if inputs else None
        self.calls = Calls(plan, streams.numpy("arrivals"), self._np, arrivals)
        self._recalls = arrivals is None
        self.recalls = self.forwarded = self.recalls_lost = self.served_first = 0
        self._follow_rng = streams.python("follow_up")
        self._follow_np = streams.numpy("follow_up")
        self._follow_ups = self._recalls and any(s.recall or s.transfer for s in plan.streams)
        self._served_by: dict[int, str] = {}
        self._balk_rng = streams.python("balk")
        self._balks = any(s.balking for s in plan.streams)
        self.balked = self.retrials_busy = 0
        self._callback_rng = streams.python("callback")
        self._callback_np = streams.numpy("callback")
        self._left: set[int] = set()  # callers who balked or asked for a callback
        self._called_back: set[int] = set()  # the calls to dial when an agent takes them
        self.callbacks_offered = 0
        self.next_day = [0] * plan.days  # retrials carried into each day
        self._outbound_rng = streams.python("outbound")
        self._outbound_np = streams.numpy("outbound")
        self.dialled = self.right_party = 0  # in the counted day
        self._levels: dict[tuple[str, str], int] = {}
        self._make_flow(streams.python("caller").random)
        self._queue: list[Any] = self.env._queue  # SimPy's event queue and ids, kept
        self._next_eid = self.env._eid.__next__  # for the life of the environment
        # the callbacks of each call's happenings, bound once for the day and held in the
        # tuple SimPy iterates (a method looked up per happening is a new object each
        # time; run() unbinds them: they refer back to this object). The core is called
        # as ``self.acd.handle``: compiled, a direct call (a bound method held in an
        # attribute is called through Python's calling convention, arguments parsed)
        self._on_arrive: tuple[Callable[[_At], None]] = (self._arrive,)
        self._on_talk_end: tuple[Callable[[_At], None]] = (self._talk_end,)
        self._on_give_up: tuple[Callable[[_At], None]] = (self._give_up,)
        self._then_due: Callable[[_At], None] = self._due_after
        # the day's next first call, held here until SimPy would take it (``_due``): its
        # id (n_first: none), time and place in SimPy's order (the event id it would have)
        self._next_call = 0
        self._next_at = 0.0
        self._next_id = 0
        self._held = False  # it is held here, not in SimPy's queue
        self._slowdown = tuple(s.slowdown for s in plan.streams)  # chats: () if none
        if not any(self._slowdown):
            self._slowdown = ()

    # -- calls ----------------------------------------------------------------------------

    def _new_retrial(self, of: int, at: float) -> int:
        """A caller who abandoned call ``of`` calls again at ``at``: a new call."""
        s = self.plan.streams[self.calls.stream[of]]
        rng = self._np
        talk = float(s.talk(rng["talk"], 1)[0])
        patience = float(s.patience(rng["patience"], 1)[0]) if s.patience else float("inf")
        wrap = float(s.wrap_up(rng["wrap_up"], 1)[0]) if s.wrap_up else 0.0
        self.retrials += 1
        return self.calls.retrial(of, at, talk, patience, wrap)

    # -- scheduling -----------------------------------------------------------------------

    def _at(self, at: float, fn: Callable[[Any], None], value: Any) -> None:
        """Call ``fn`` at time ``at`` (>= now); then the calls due arrive (``_due``)."""
        self._schedule(at, (fn, self._then_due), value)

    def _schedule(
        self, at: float, callbacks: tuple[Callable[[Any], None], ...], value: Any
    ) -> None:
        """Call the callbacks of ``callbacks`` at time ``at`` (>= now), in order:
        ``Environment.schedule`` inlined, into the same queue in the same order, without
        its attribute look-ups per happening."""
        _push(self._queue, (at, _NORMAL, self._next_eid(), _At(value, callbacks, at)))

    def run(self, take: Callable[[list[CallRecord]], None] | None = None) -> list[CallRecord]:
        """Simulate the day; the call records. With ``take``, the records are handed to it
        as they are written, an interval's at a time, and the last ones returned (a day's
        records need not be held at once)."""
        return self._paused(take, self._take_records, self.acd.take_records)

    def run_columns(self, take: Callable[[RecordColumns], None] | None = None) -> RecordColumns:
        """As ``run``, the records as the core's columns (created with ``columns=True``)."""
        return self._paused(take, self._take_columns, self.acd.take_columns)

    def _take_records(self) -> list[CallRecord]:
        """The records written so far (their calls' drawn times let go: ``Calls.ended``)."""
        return self.calls.ended(self.acd.take_records())

    def _take_columns(self) -> RecordColumns:
        """The columns written so far (their calls' drawn times let go)."""
        columns = self.acd.take_columns()
        self.calls.ended_ids(columns.call)
        return columns

    def _paused(
        self, take: Callable[[R], None] | None, taken: Callable[[], R], last: Callable[[], R]
    ) -> R:
        """Run the day (``_run``) with the cyclic garbage collector paused: calls and
        records form no reference cycles (reference counting frees them), and its scans
        of the growing record list otherwise make each call dearer the longer the day."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run(take, taken, last)
        finally:
            # break the cycles through the bound methods, so reference counting frees
            # this replication as soon as it is dropped (memory stays flat over many)
            self._on_arrive = self._on_talk_end = self._on_give_up = (_unbound,)
            self._then_due = _unbound
            if was_enabled:
                gc.enable()

    def _run(
        self, take: Callable[[R], None] | None, taken: Callable[[], R], last: Callable[[], R]
    ) -> R:
        env = self.env
        for timetable in self.plan.timetables:
            for at, kind in timetable.steps:
                self._at(at, self._agent_step, (timetable.agent, kind))
        if self.calls.arrival:
            self._schedule(self.calls.arrival[0], self._on_arrive, 0)
        else:
            self._next_call = self.calls.n_first
        if take is not None:  # SimPy's stop at each cut comes before the cut's happenings
            cut = self.plan.interval_s
            while cut < self.plan.run_end_s:
                env.run(until=cut)
                self._hand_over()
                take(taken())
                cut += self.plan.interval_s
        env.run(until=self.plan.run_end_s)
        self._event(ServiceStopped(), env.now)
        return last()

    def spans(self) -> list[StaffedSpan]:
        """The agents' staffed time as the core held it (after ``run``)."""
        return self.acd.take_spans()

    def facts(self) -> CallFacts:
        """What the inbound flow decided for each client call, by call id."""
        return self.calls.facts()

    # -- callbacks ------------------------------------------------------------------------

    def _arrive(self, ev: _At) -> None:
        """A first call whose event SimPy held (the day's first, or one handed over at a
        cut), and the ones due after it (``_arrivals``)."""
        self._arrivals(ev._value, ev.at)

    def _arrivals(self, cid: int, now: float) -> None:
        """The day's first calls from ``cid`` on, one after the other, while the next one
        comes before every happening SimPy holds (SimPy would pop it next: it arrives at
        once). The next one after those is held here, with the event id SimPy would have
        given it (its place among happenings at the same time), and arrives in whichever
        event comes before it (``_due``): the same order as its own event's, with no event
        pushed and popped per call."""
        calls, env, queue = self.calls, self.env, self._queue
        self._held = False
        while True:
            client = calls.client[cid]
            if client < 0:
                arrived = CallArrived(cid, calls.queue[cid], "", "", calls.priority[cid])
                self._event(arrived, now)
            else:
                self._client_call(cid, self.plan.clients[client], now)
            cid += 1
            if cid >= calls.n_first:
                self._next_call = cid
                return
            at = calls.arrival[cid]
            if not (queue and at < queue[0][0]):
                self._next_call, self._next_at, self._next_id = cid, at, self._next_eid()
                self._held = True
                return
            env._now = now = at

    def _due(self) -> None:
        """After a happening: the held call arrives now if SimPy would take its event
        next (before the head of SimPy's queue, by SimPy's own order: time, priority,
        event id), and the ones due after it."""
        if not self._held:
            return
        at = self._next_at
        queue = self._queue
        if queue:
            head = queue[0]
            t: float = head[0]
            if at > t:
                return
            if at == t:
                priority: int = head[1]
                if priority < _NORMAL or (priority == _NORMAL and head[2] < self._next_id):
                    return
        self.env._now = at
        self._arrivals(self._next_call, at)

    def _due_after(self, ev: _At) -> None:
        """The last callback of a happening (``_at``): the calls due arrive."""
        self._due()

    def _hand_over(self) -> None:
        """SimPy stopped at a cut (its own event, which calls nothing here): the held call
        goes into SimPy's queue as the event it would have been, with its id."""
        if self._held:
            self._held = False
            at = self._next_at
            _push(
                self._queue, (at, _NORMAL, self._next_id, _At(self._next_call, self._on_arrive, at))
            )

    # -- answering-service callers: people and the world ----------------------------------

    def _make_flow(self, caller_draw: Callable[[], float]) -> None:
        """The core's inbound flow over the clients and each client's known callers (the
        world's: ``Callers``, drawn from the caller stream)."""
        plan = self.plan
        self.book = ContactBook()
        self.callers = Callers(plan.clients, plan.contacts, caller_draw)
        self._caller_of: dict[int, Caller] = {}  # client calls not yet served
        for known in self.callers.known:
            for c in known:
                category = Category.VIP if c.vip else Category.REGULAR
                self.book.add([c.number], category=category, language=c.language)
        self.flow: InboundFlow | None = None
        if plan.clients:
            assert plan.calendar_start is not None
            self.flow = InboundFlow(
                ClientBook(pc.client for pc in plan.clients),
                self.book,
                plan.calendar_start,
                plan.caller_routing,
            )

    def _client_call(self, cid: int, pc: PlanClient, now: float) -> None:
        """A caller dials the client: an advertiser or not, a known contact or a new
        number (speaking a language), pressing keys in the voice menu, with a request
        (``world.Callers``, in call order); the flow decides."""
        c = self.callers.next(self.calls.client[cid])
        self._caller_of[cid] = c
        assert self.flow is not None
        inbound = self.flow.arrive(
            cid, c.ani, c.dnis, now, keys=c.keys, advertising=c.advertising, language=c.language
        )
        if self.flow_inputs is not None:
            self.flow_inputs.append(
                ("arrive", now, cid, c.ani, c.dnis, c.keys, c.advertising, c.language)
            )
        self.calls.inbound[cid] = inbound
        self._event(inbound.event, now)

    def _client_work(self, cid: int, pc: PlanClient, now: float, agent: str) -> float:
        """The agent serves a client call: the flow gives the instruction and decides the
        treatment from whom the caller asks for and whether the forward targets pick up;
        the talk time follows the tone and each forward tried, a note adds wrap-up."""
        flow, inbound, plan = self.flow, self.calls.inbound[cid], self.plan
        assert flow is not None
        assert inbound is not None
        assert plan.forward_s is not None
        assert plan.note_s is not None
        instruction = flow.answer(inbound, agent, now)
        c = self._caller_of.pop(cid)
        employee, faq = c.employee, c.faq
        self._success = pc.success
        result = flow.treat(inbound, employee=employee, faq=faq, answered=self._target_answers)
        attempts = inbound.forward.attempts if inbound.forward is not None else ()
        forward_s, draws = plan.forward_s, self._policy_np
        talk = talk_s(
            self.calls.talk[cid], instruction.tone, plan.formal_factor,
            [float(forward_s(draws, 1)[0]) for _ in attempts],
        )  # fmt: skip
        if writes_note(result):
            self.calls.wrap[cid] += float(plan.note_s(self._policy_np, 1)[0])
        if self.flow_inputs is not None:
            took = inbound.forward.target if inbound.forward is not None else None
            tried = {target: target == took for target in attempts}
            self.flow_inputs.append(("answer", now, cid, agent, employee, faq, tried))
        return talk

    def _target_answers(self, target: str) -> bool:
        """Whether a forward target picks up (the world; asked only for targets tried)."""
        return target_answers(self._success, target, self._policy_rng.random())

    # -- the caller's patience, retrials, talk -------------------------------------------

    def _arrive_retrial(self, ev: _At) -> None:
        cid: int = ev._value
        arrived = CallArrived(cid, self.calls.queue[cid], "", "", self.calls.priority[cid])
        self._event(arrived, self.env._now)

    def _give_up(self, ev: _At) -> None:
        cid: int = ev._value
        # unless answered (or to be called back) before the caller ran out of patience
        if not (self.calls.answered[cid] or cid in self._called_back):
            now = self.env._now
            out = self.acd.handle(CallerHungUp(cid), now)
            self._do(out, now)
            if any(type(c) is End and c.call == cid for c in out):  # abandoned
                self._call_again(cid, self.plan.streams[self.calls.stream[cid]].retrial_p)
        self._due()

    def _call_again(self, cid: int, p: float) -> bool:
        """The caller of call ``cid``, who abandoned, balked or heard busy, calls again
        later with chance ``p`` (at most the stream's retrial_max times); whether a
        retrial was made (one after the horizon's end is counted as lost)."""
        s = self.plan.streams[self.calls.stream[cid]]
        if not (self._recalls and self.calls.attempt[cid] < s.retrial_max):
            return False
        now, plan = self.env._now, self.plan
        day = max(0, int((now - plan.count_from_s) // 86_400))  # the horizon's day
        if self._retrial_rng.random() < p:
            assert s.retrial_delay is not None
            delay = float(s.retrial_delay(self._np["retrial"], 1)[0])
            if now + delay <= plan.count_from_s + day * 86_400 + plan.day_span_s:
                return self._retrial(cid, now + delay)
            if not s.retrial_next_day:
                self.retrials_lost += 1  # the centre is closed by then
                return False
        if not s.retrial_next_day or self._retrial_rng.random() >= s.retrial_next_day:
            return False
        if day + 1 >= plan.days:
            self.retrials_lost += 1  # the next day is past the horizon
            return False
        self.next_day[day + 1] += 1
        return self._retrial(cid, self._next_day_time(s, day + 1))

    def _retrial(self, cid: int, at: float) -> bool:
        retrial = self._new_retrial(cid, at)
        self._at(at, self._arrive_retrial, retrial)
        return True

    def _next_day_time(self, s: Stream, day: int) -> float:
        """A time on ``day`` drawn from the stream's arrival rates that day (a caller
        who calls the next day calls when the others do)."""
        start = self.plan.count_from_s + day * 86_400
        stop = start + self.plan.day_span_s
        spans = [(max(a, start), min(b, stop), r) for a, b, r in s.pieces if b > start and a < stop]
        weights = [(b - a) * r for a, b, r in spans]
        total = sum(weights)
        if total <= 0:  # no calls that day: any time in it
            return start + self._retrial_rng.random() * (stop - start)
        u = self._retrial_rng.random() * total
        for (a, b, _), w in zip(spans, weights, strict=True):
            if u < w:
                return a + (b - a) * u / w
            u -= w
        return spans[-1][1]

    def _busy(self, cid: int) -> None:
        """The caller heard busy (every line or queue position taken)."""
        s = self.plan.streams[self.calls.stream[cid]]
        if self._call_again(cid, s.retrial_busy_p):
            self.retrials_busy += 1

    def _balk(self, heard: Enqueue | Announce) -> bool:
        """On hearing the expected wait (on joining, or announced while waiting), the
        caller may hang up at once (balk): the stream's chance at that wait, linear
        between its points."""
        cid: int = heard.call  # type: ignore[assignment]
        table = self.plan.streams[self.calls.stream[cid]].balking
        if table is None or self.calls.answered[cid] or cid in self._left:
            return False
        if self._balk_rng.random() >= balk_chance(table, heard.expected_wait_s):
            return False
        self.balked += 1
        self._left.add(cid)
        self._schedule(self.env._now, self._on_give_up, cid)  # as an abandoner: may call again
        return True

    def _offered_callback(self, offer: OfferCallback) -> None:
        """The caller offered a callback accepts with the stream's chance, and hangs up."""
        cid: int = offer.call  # type: ignore[assignment]
        if self.plan.count_from_s <= self.calls.arrival[cid] < self.plan.arrivals_end_s:
            self.callbacks_offered += 1  # counted like the calls: in the counted day
        cb = self.plan.streams[self.calls.stream[cid]].callback
        if cb is None or cid in self._left or self._callback_rng.random() >= cb.accept:
            return
        self._left.add(cid)
        self._called_back.add(cid)
        self._at(self.env._now, self._accept_callback, cid)

    def _accept_callback(self, ev: _At) -> None:
        cid: int = ev._value
        if not self.calls.answered[cid]:
            self._event(CallbackRequested(cid), self.env._now)

    def _dial(self, cid: int, now: float) -> bool:
        """An agent took a callback and dials the caller: whether they answer (if not,
        the agent gives up after the ring time)."""
        cb = self.plan.streams[self.calls.stream[cid]].callback
        assert cb is not None
        if self._callback_rng.random() < cb.answer:
            return True
        self._at(now + float(cb.dial(self._callback_np, 1)[0]), self._unanswered, cid)
        return False

    def _unanswered(self, ev: _At) -> None:
        self._event(CallbackUnanswered(ev._value, 0.0), self.env._now)

    def _talk_end(self, ev: _At) -> None:
        cid: int = ev._value
        self._event(CallEnded(cid, Party.AGENT, self.calls.wrap[cid]), ev.at)
        if self._follow_ups and not self.calls.follow_up[cid]:
            self._follow(cid)
        self._due()

    def _level(self, agent: str, queue: str) -> int:
        """The agent's proficiency for a queue (the core's rule: 0 for a skill an overflow
        agent lacks)."""
        key = (agent, queue)
        if key not in self._levels:
            skills = next(a.skills for a in self.plan.acd.agents if a.name == agent)
            needs = next(q.skills for q in self.plan.acd.queues if q.name == queue)
            self._levels[key] = proficiency(skills, tuple(needs))
        return self._levels[key]

    def _follow(self, cid: int) -> None:
        """A served caller may be sent on to another queue at once, or call again later
        (one follow-up per call; the follow-up itself has none)."""
        s = self.plan.streams[self.calls.stream[cid]]
        agent = self._served_by.pop(cid, None)
        if agent is None:
            return
        self.served_first += 1
        level = self._level(agent, self.calls.queue[cid])
        now = self.env._now
        rng = self._follow_np  # its own stream: follow-ups leave the other draws alone

        def caller() -> tuple[float, float]:  # the new call's patience and wrap-up
            patience = float(s.patience(rng, 1)[0]) if s.patience else float("inf")
            return patience, float(s.wrap_up(rng, 1)[0]) if s.wrap_up else 0.0

        then = follow_up(s.transfer, s.recall, level, self._follow_rng.random)
        if then is FollowUp.TRANSFER:
            assert s.transfer is not None
            talk = float(s.transfer.talk(rng, 1)[0])
            new = self.calls.followed(cid, s.transfer.queue, talk, *caller())
            self.calls.arrival[new] = now
            self.calls.priority[new] = None
            self.forwarded += 1
            self._at(now, self._arrive_retrial, new)
        elif then is FollowUp.RECALL:
            assert s.recall is not None
            at = now + float(s.recall.delay(rng, 1)[0])
            if at > self.plan.arrivals_end_s:
                self.recalls_lost += 1  # the centre is closed by then
                return
            talk = float(s.talk(rng, 1)[0])
            new = self.calls.followed(cid, self.calls.queue[cid], talk, *caller())
            self.calls.arrival[new] = at
            self.recalls += 1
            self._at(at, self._arrive_retrial, new)

    # -- blended outbound: the world answers the dialer -----------------------------------

    def _dial_out(self, dial: Dial) -> None:
        """The dialer calls a number for the agent: after the dial time, the right party
        answers (a new call, of the outbound stream) or the agent is free again."""
        assert self.plan.outbound is not None
        stream, right_party, dial_s = self.plan.outbound
        now = self.env._now
        at = now + float(dial_s(self._outbound_np, 1)[0])
        reached = self._outbound_rng.random() < right_party
        if self.plan.count_from_s <= now < self.plan.arrivals_end_s:
            self.dialled += 1
            self.right_party += reached
        if not reached:
            self._at(at, self._no_party, dial.agent)
            return
        s = self.plan.streams[stream]
        talk = float(s.talk(self._outbound_np, 1)[0])
        wrap = float(s.wrap_up(self._outbound_np, 1)[0]) if s.wrap_up else 0.0
        cid = self.calls.outbound(stream, s.queue, at, talk, wrap)
        self._at(at, self._party, (cid, dial.agent))

    def _party(self, ev: _At) -> None:
        cid, agent = ev._value
        self._event(OutboundAnswered(cid, agent), self.env._now)

    def _no_party(self, ev: _At) -> None:
        self._event(OutboundUnanswered(ev._value), self.env._now)

    def _timer(self, ev: _At) -> None:
        self._event(TimerExpired(ev._value), self.env._now)

    # -- agents ---------------------------------------------------------------------------

    def _answer(self, ev: _At) -> None:
        cid, agent = ev._value
        self._event(AgentAnswered(agent, cid), self.env._now)

    def _ring_out(self, ev: _At) -> None:
        cid, agent = ev._value
        self._event(RingTimedOut(agent, cid), self.env._now)

    def _agent_step(self, ev: _At) -> None:
        """The timetable: log in, take a break, end it, log out (valid in any state)."""
        agent, kind = ev._value
        if kind is Step.LOGIN:
            event: Any = AgentLoggedIn(agent)
        elif kind is Step.LOGOUT:
            event = AgentLoggedOut(agent)
        elif kind is Step.PAUSE:
            event = AgentPaused(agent, BREAK)
        else:
            event = AgentReady(agent, BREAK)
        self._event(event, self.env._now)

    # -- commands -------------------------------------------------------------------------

    def _event(self, event: Any, now: float) -> None:
        """The core takes ``event`` at ``now``; its commands are carried out."""
        self._do(self.acd.handle(event, now), now)

    def _do(self, commands: list[Any], now: float) -> None:
        """Carry out the core's commands of an event at ``now`` (SimPy's clock)."""
        for cmd in commands:
            kind = type(cmd)
            if kind is Connect:
                connect: Connect = cmd  # typed: compiled, its fields are read directly
                cid: int = connect.call  # type: ignore[assignment]  # calls are numbered here
                calls = self.calls
                calls.answered[cid] = True
                if self._called_back and cid in self._called_back and not self._dial(cid, now):
                    continue
                if self._follow_ups:
                    self._served_by[cid] = connect.agent
                client = calls.client[cid]
                talk = (
                    calls.talk[cid]
                    if client < 0
                    else self._client_work(cid, self.plan.clients[client], now, connect.agent)
                )
                if self._slowdown and (slow := self._slowdown[calls.stream[cid]]):
                    held = len(self.acd.agent_view(connect.agent).chats)
                    talk = chat_talk_s(talk, held, slow)
                self._schedule(now + talk, self._on_talk_end, cid)
            elif kind is End:
                end: End = cmd  # typed: compiled, its field is read directly
                if end.outcome is _BUSY:
                    self._busy(cmd.call)
            elif kind is Ring:
                self._ring(cmd, now)
            elif kind is Enqueue:
                if not (self._balks and self._balk(cmd)):
                    self._start_patience(cmd.call, now)
            elif kind is StartTimer:
                self._at(now + cmd.delay_s, self._timer, cmd.timer)
            elif kind is Announce:
                if self._balks:
                    self._balk(cmd)
            elif kind is OfferCallback:
                self._offered_callback(cmd)
            elif kind is Dial:
                self._dial_out(cmd)
            elif kind not in _NOTHING_TO_DO:
                raise TypeError(f"the simulator cannot carry out {cmd!r}")

    def _start_patience(self, cid: int, now: float) -> None:
        """The caller hears hold music or ringing: their patience runs from the arrival
        (set once per call, when it first has to wait or ring; none for calls answered at
        once)."""
        patience = self.calls.patience[cid]
        if patience != _NEVER:
            at = max(now, self.calls.arrival[cid] + patience)
            self._schedule(at, self._on_give_up, cid)
            self.calls.patience[cid] = _NEVER

    def _ring(self, ring: Ring, now: float) -> None:
        """An offer rings (agents do not all answer at once, or the core would auto-answer):
        the agent answers after a delay, or the ring times out."""
        timeout = ring.timeout_s
        cid: int = ring.call  # type: ignore[assignment]  # the simulator's calls are numbered
        if self._answer_rng.random() < self._p_answer[ring.agent]:
            delay = 0.0
            pick_up = self._delay_of[ring.agent]
            if self.plan.handover is not None and now > self.calls.arrival[cid]:
                pick_up = self.plan.handover  # the call waited: handed over (handover_s)
            if pick_up is not None:
                delay = float(pick_up(self._delay_rng, 1)[0])
            if delay < timeout:
                if delay == 0.0:
                    self._event(AgentAnswered(ring.agent, ring.call), now)
                else:
                    self._start_patience(cid, now)
                    self._at(now + delay, self._answer, (ring.call, ring.agent))
                return
        self._start_patience(cid, now)
        self._at(now + timeout, self._ring_out, (ring.call, ring.agent))
