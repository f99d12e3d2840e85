"""Contact-centre metrics of call records, one definition for both shells: from one
replication's (or one live day's) records to per-interval, per-queue counts and sums, and
from many replications to means with 95 % confidence half-widths. The ratios themselves
are ``analytics.kpi``'s; the live service's first-contact resolution is here too, and is
not the simulator's ``recall_free_share`` (two measures, two names).

Definitions (each call counts in the interval it arrived in; warm-up calls are out):
service_level = answered within the threshold / offered; abandon_rate = abandoned /
offered; asa_s = mean wait of answered calls; aht_s = mean talk + wrap-up of answered
calls; p_wait = share of offered calls that waited in queue (time ringing an agent
does not count: with auto-answer it is the Erlang P(wait)); occupancy = agent time
busy with calls (talk + wrap-up) / agent time staffed (logged in and not paused, as the
core's staffed spans say), by clock time; for a queue, of the agents serving it, on any
of their calls (what a planner reads: how busy the people who take its calls are).
Abandons quicker than ``short_abandon_s`` are not offered calls. Calls that a client's
policy ended before the queue (blocked, deflected, voicemail, message) are not the
queue's calls.
"""

from __future__ import annotations

import bisect
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from callsim.analytics import kpi
from callsim.core import CallRecord, Outcome, RecordColumns, StaffedSpan, Status
from callsim.core.inbound import Identification, InboundCall, PolicyResult

OUTCOMES = [o.value for o in Outcome]
_OUTCOME_INDEX = {o: i for i, o in enumerate(Outcome)}
_OUTCOME_BY_ID = {id(o): i for i, o in enumerate(Outcome)}
_RESULTS = [r for r in PolicyResult if r is not PolicyResult.NONE]
_RESULT_INDEX = {r: i for i, r in enumerate(PolicyResult)}
# ended before the queue: not the queue's calls
_DIVERTED = [
    _RESULT_INDEX[r]
    for r in (PolicyResult.BLOCKED, PolicyResult.DEFLECTED, PolicyResult.VOICEMAIL,
              PolicyResult.MESSAGE)
]  # fmt: skip
CLIENT_FIELDS = (
    "calls", "answered", "abandoned", *(r.value for r in _RESULTS), "off_hours",
    "vip_calls", "new_callers", "served_by_last_agent",
    "offered", "abandoned_offered", "within_sl", "wait_answered_s",  # to the queue: SL, ASA
    # and the abandon rate (of offered calls: a short abandon is neither)
)  # fmt: skip
WAIT_BINS = np.concatenate([np.arange(0, 300, 5.0), np.arange(300, 1800, 30.0), [1800, np.inf]])


@dataclass(frozen=True, slots=True)
class Frame:
    """Where calls are counted: ``n_intervals`` intervals of ``interval_s`` from
    ``count_from_s`` (seconds on the records' clock), by queue, agent and client."""

    count_from_s: float
    interval_s: float
    n_intervals: int
    queues: tuple[str, ...]
    agents: tuple[str, ...]
    n_clients: int
    sl_threshold_s: float
    short_abandon_s: float

    def interval_of(self, arrival: np.ndarray) -> np.ndarray:
        """Each call's counted interval by its arrival (outside 0..n_intervals - 1: not
        in the counted day)."""
        return np.floor((arrival - self.count_from_s) / self.interval_s).astype(np.intp)


@dataclass(frozen=True, slots=True)
class ReplicationStats:
    """Everything a replication contributes; arrays are [interval, queue]."""

    offered: np.ndarray
    answered: np.ndarray
    abandoned: np.ndarray
    within: np.ndarray
    waited: np.ndarray
    wait_answered_s: np.ndarray
    wait_abandoned_s: np.ndarray  # the waits of callers who hung up
    short_abandoned: np.ndarray  # hung up within short_abandon_s: not counted as offered
    handle_s: np.ndarray
    outcomes: np.ndarray  # [interval, queue, outcome]
    busy_s: np.ndarray
    staffed_s: np.ndarray
    busy_total_s: np.ndarray  # [interval]
    staffed_total_s: np.ndarray  # [interval]
    wait_hist: np.ndarray  # [queue, bin]: answered calls' waits over WAIT_BINS
    wait_atoms: np.ndarray  # [k, 3] rows (queue, wait_s, count): of them, the atoms
    agent_calls: np.ndarray  # [agent], over the counted day
    agent_talk_s: np.ndarray
    agent_wrap_s: np.ndarray
    agent_busy_s: np.ndarray
    agent_staffed_s: np.ndarray
    calls_simulated: int
    retrials: int
    client_counts: np.ndarray  # [client, CLIENT_FIELDS]
    overflowed: np.ndarray  # [from queue, to queue]: calls also offered to its agents
    overflowed_answered: np.ndarray  # [from, to]: of those, answered
    moved: np.ndarray  # [from queue, to queue]: calls sent on (on_max_wait, on_empty)
    retrials_lost: int = 0  # would have come after the horizon's end
    served_first: int = 0  # served calls that were no follow-up (may be followed up)
    recalls: int = 0  # of them, the callers who called again
    recalls_lost: int = 0  # would have called again after the horizon's end
    forwarded: int = 0  # sent on to another queue after service
    balked: int = 0  # hung up on hearing the expected wait
    retrials_busy: int = 0  # of the retrials, those after a busy signal
    next_day: tuple[int, ...] = ()  # by day: retrials carried over from the day before
    dialled: int = 0  # blended outbound: numbers dialled in the counted day
    right_party: int = 0  # of them, right-party contacts
    callbacks_offered: int = 0  # callers offered a callback (virtual hold)
    # by first queue: [accepted, connected, failed (dialled, unanswered), the summed delay
    # from accepting to the agent taking it (connected and failed)]; none: no callbacks
    callbacks: np.ndarray | None = None
    # the controls (``control_samples``): the day's first calls as drawn before the day is
    # run, by quarter hour of the counted intervals and stream [slot, stream], and their
    # drawn talk + wrap-up
    arrived: np.ndarray | None = None
    offered_work_s: np.ndarray | None = None
    # per channel (``analytics.channels.channel_day``): the day's figures [channel, figure]
    # and email backlog [interval]; None: a voice-only scenario
    channels: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True, slots=True)
class CallColumns:
    """Call records as typed columns (``call_columns``), all a replication's reduction
    reads of them: a day's records can be turned into columns as they are written and
    dropped (the calls of a day cost a tenth of their records' memory this way). Ids and
    indexes are int32 (half the memory of a day's index columns; a day's calls, queues and
    agents are far fewer than 2**31)."""

    call: np.ndarray
    queue: np.ndarray  # index in the frame's queues
    final_queue: np.ndarray
    outcome: np.ndarray  # index in OUTCOMES
    agent: np.ndarray  # index in the frame's agents, -1: none
    overflowed: np.ndarray  # bool: also offered to other queues' agents
    arrival_s: np.ndarray
    queued_s: np.ndarray
    wait_s: np.ndarray
    ring_s: np.ndarray
    talk_s: np.ndarray
    wrap_up_s: np.ndarray
    callback_s: np.ndarray | None  # NaN: no callback asked; None: not read
    overflowed_to: dict[int, tuple[str, ...]]  # by row, the calls that overflowed: where

    def __len__(self) -> int:
        return len(self.call)

    @classmethod
    def joined(cls, parts: list[CallColumns]) -> CallColumns:
        """The columns of ``parts``, one after the other."""
        rows = np.cumsum([0, *map(len, parts)])
        arrays: dict[str, Any] = {
            f: np.concatenate([getattr(p, f) for p in parts])
            if parts and getattr(parts[0], f) is not None
            else None
            for f in _ARRAYS
        }
        overflowed_to = {
            int(at + i): to
            for at, p in zip(rows, parts, strict=False)  # rows: one more
            for i, to in p.overflowed_to.items()
        }
        return cls(**arrays, overflowed_to=overflowed_to)


_ARRAYS = tuple(f for f in CallColumns.__dataclass_fields__ if f != "overflowed_to")


def call_columns(records: list[CallRecord], frame: Frame, callbacks: bool = True) -> CallColumns:
    """The records as typed columns, without a Python loop per record: the records are
    transposed at C level (``zip``) and each field read into its array by ``np.fromiter``
    (no list in between); names become indexes through dict look-ups (an enum member by
    its identity: ``Enum.__hash__`` is Python code). ``callbacks``: read ``callback_s``
    too."""
    qidx = {q: i for i, q in enumerate(frame.queues)}
    agents: dict[Any, int] = {None: -1, **{a: i for i, a in enumerate(frame.agents)}}
    n = len(records)
    # one tuple per field (a record is a tuple of them)
    fields: list[tuple[Any, ...]] = list(zip(*records, strict=True)) if n else [()] * len(_FIELD)

    def column(name: str, dtype: Any, table: dict[Any, int] | None = None) -> np.ndarray:
        values: Any = fields[_FIELD[name]]
        if name == "outcome":
            values = map(id, values)
        if table is not None:
            values = map(table.__getitem__, values)
        return np.fromiter(values, dtype, n)

    overflowed = np.fromiter(map(bool, fields[_FIELD["overflowed"]]), bool, n)
    return CallColumns(
        call=column("call", np.int32),
        queue=column("queue", np.int32, qidx),
        final_queue=column("final_queue", np.int32, qidx),
        outcome=column("outcome", np.int32, _OUTCOME_BY_ID),
        agent=column("agent", np.int32, agents),
        overflowed=overflowed,
        **{name: column(name, float) for name in _TIMES},
        callback_s=_or_nan(fields[_FIELD["callback_s"]]) if callbacks else None,
        overflowed_to={int(i): records[i].overflowed for i in np.flatnonzero(overflowed)},
    )


def record_columns(got: RecordColumns, frame: Frame, callbacks: bool = True) -> CallColumns:
    """The core's record columns (``Acd(columns=True)``) as typed columns: the same as
    ``call_columns`` of the same calls' records, with no record built nor transposed:
    each list packed into its array (``_packed``), and the core's queue and agent indexes
    (``got.queues``, ``got.agents``: its names in its order) turned into the frame's by
    one take each."""
    n = len(got.call)
    qidx = {q: i for i, q in enumerate(frame.queues)}
    aidx = {a: i for i, a in enumerate(frame.agents)}
    queue_of = np.array([qidx[q] for q in got.queues], np.int32)
    # the core's agents in the frame's order; its -1 (no agent) reads the last: -1
    agent_of = np.array([*(aidx[a] for a in got.agents), -1], np.int32)
    # most calls overflow nowhere: their () is one object, counted at C speed
    if got.overflowed.count(()) == n:
        overflowed = np.zeros(n, bool)
    else:
        overflowed = np.fromiter(map(bool, got.overflowed), bool, n)
    return CallColumns(
        call=_packed(got.call, "i", np.int32),
        queue=queue_of[_packed(got.queue, "i", np.int32)],
        final_queue=queue_of[_packed(got.final_queue, "i", np.int32)],
        outcome=_packed(got.outcome, "i", np.int32),  # Outcome's order, as OUTCOMES
        agent=agent_of[_packed(got.agent, "i", np.int32)],
        overflowed=overflowed,
        **{name: _packed(getattr(got, name), "d", float) for name in _TIMES},
        callback_s=_or_nan(got.callback_s) if callbacks else None,
        overflowed_to={int(i): got.overflowed[i] for i in np.flatnonzero(overflowed)},
    )


def _packed(values: Sequence[Any], code: str, dtype: Any) -> np.ndarray:
    """A list of floats (``code`` ``d``) or ints (``i``) as an array of ``dtype``: packed
    into it by ``struct`` (a C loop reading each value directly; numpy's own conversion,
    ``np.fromiter`` or ``np.array``, costs about twice the instructions a value)."""
    out = np.empty(len(values), dtype)
    struct.pack_into(f"{len(values)}{code}", out.data, 0, *values)
    return out


_FIELD = {name: i for i, name in enumerate(CallRecord._fields)}
_TIMES = ("arrival_s", "queued_s", "wait_s", "ring_s", "talk_s", "wrap_up_s")


def _or_nan(values: Iterable[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], float)


def union(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping spans merged (an agent's time holding at least one chat)."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def held_once(
    start: np.ndarray, stop: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each owner's overlapping [start, stop) spans merged (``union``): an agent holding
    two chats is one agent busy, not two. (start, stop, owner) of the merged spans."""
    by: dict[int, list[tuple[float, float]]] = {}
    for a, b, o in zip(start.tolist(), stop.tolist(), owner.tolist(), strict=True):
        by.setdefault(o, []).append((a, b))
    merged = [(a, b, o) for o, spans in by.items() for a, b in union(spans)]
    if not merged:
        return start, stop, owner
    a, b, o = (np.array(x) for x in zip(*merged, strict=True))
    return a.astype(float), b.astype(float), o.astype(np.intp)


def _spread(
    start: np.ndarray, stop: np.ndarray, bounds: np.ndarray, owner: np.ndarray, n_owner: int
) -> np.ndarray:
    """Time each [start, stop) spends in each interval of ``bounds`` (equal steps), summed
    per owner: [owner, interval] (``_spread_into``, ``_spread_sum``)."""
    passes: list[np.ndarray] = []
    _spread_into(passes, start, stop, bounds, owner, n_owner)
    return _spread_sum(passes, bounds, n_owner)


def _spread_into(
    passes: list[np.ndarray],
    start: np.ndarray,
    stop: np.ndarray,
    bounds: np.ndarray,
    owner: np.ndarray,
    n_owner: int,
) -> None:
    """The time of some spans in each interval, per owner, added to ``passes``: pass d
    holds the time spans spend in the d-th interval they reach into (a call: one or two
    passes), added span by span in their order (``np.add.at``), so spans given a part at
    a time sum to the same bits as all at once. No dense spans x intervals matrix."""
    n_int = len(bounds) - 1
    if not len(start) or not n_int:
        return
    step = bounds[1] - bounds[0]
    k0 = np.clip(np.floor((start - bounds[0]) / step), 0, n_int - 1).astype(np.intp)
    k1 = np.clip(np.floor((stop - bounds[0]) / step), 0, n_int - 1).astype(np.intp)
    for d in range(int((k1 - k0).max()) + 1):
        if d == len(passes):
            passes.append(np.zeros(n_owner * n_int))
        k = k0 + d
        on = k <= k1
        kk = k[on]
        part = np.minimum(stop[on], bounds[kk + 1]) - np.maximum(start[on], bounds[kk])
        np.add.at(passes[d], owner[on] * n_int + kk, np.clip(part, 0.0, None))


def _spread_sum(passes: list[np.ndarray], bounds: np.ndarray, n_owner: int) -> np.ndarray:
    """[owner, interval]: the ``passes`` of ``_spread_into`` summed, in order."""
    out = np.zeros(n_owner * (len(bounds) - 1))
    for times in passes:
        out += times
    return out.reshape(n_owner, len(bounds) - 1)


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the inbound flow decided for each call beyond its record, by call id."""

    client: np.ndarray  # client index or -1
    result: np.ndarray  # PolicyResult index (_RESULT_INDEX)
    off_hours: np.ndarray  # answered outside the client's business hours
    vip: np.ndarray
    new_caller: np.ndarray
    by_last_agent: np.ndarray  # served by the contact's last agent

    @classmethod
    def of(cls, client: list[int], inbound: list[InboundCall | None]) -> CallFacts:
        n = len(client)
        result = np.zeros(n, dtype=np.intp)
        flags = np.zeros((4, n), dtype=bool)
        for i, c in enumerate(inbound):
            if c is not None:
                result[i] = _RESULT_INDEX[c.result]
                flags[:, i] = (
                    c.off_hours,
                    c.vip,
                    c.identification is Identification.NEW,
                    c.served_by_last_agent,
                )
        return cls(np.asarray(client, dtype=np.intp), result, *flags)


def facts_of_results(client: list[int], results: list[str]) -> CallFacts:
    """The facts of calls known only by their client index and stored policy result
    (the live service's records); the flags the records do not keep are False."""
    n = len(client)
    index = np.array([_RESULT_INDEX[PolicyResult(r)] for r in results], dtype=np.intp)
    flags = np.zeros((4, n), dtype=bool)
    return CallFacts(np.asarray(client, dtype=np.intp), index, *flags)


@dataclass(frozen=True, slots=True)
class Counted:
    """Which calls count where, per call: its (interval, queue) ``cell``; ``in_day``: it
    arrived in the counted day; ``short``: it abandoned quicker than ``short_abandon_s``;
    ``diverted``: a client's policy ended it before the queue; ``counted``: an offered
    call (in the day and none of those, nor a caller who asked for a callback, counted
    apart); ``code``: its policy result; ``asked``: when it asked for a callback (None:
    no caller could)."""

    cell: np.ndarray
    in_day: np.ndarray
    short: np.ndarray
    diverted: np.ndarray
    counted: np.ndarray
    code: np.ndarray
    asked: np.ndarray | None


def counted_cells(
    frame: Frame,
    callback_s: np.ndarray | None,
    queue: np.ndarray,
    outcome: np.ndarray,
    wait: np.ndarray,
    arrival: np.ndarray,
    ids: np.ndarray,
    facts: CallFacts | None,
) -> Counted:
    """Which calls count where: the one rule (see ``Counted``); ``callback_s`` each
    call's (``CallColumns.callback_s``: NaN, none asked), None when no caller was offered a
    callback."""
    n = len(queue)
    k = frame.interval_of(arrival)
    in_day = (k >= 0) & (k < frame.n_intervals)
    short = (outcome == _OUTCOME_INDEX[Outcome.ABANDONED]) & (wait < frame.short_abandon_s)
    code = facts.result[ids] if facts else np.zeros(n, dtype=np.intp)
    diverted = np.isin(code, _DIVERTED)
    counted = in_day & ~short & ~diverted
    if callback_s is not None:
        counted &= np.isnan(callback_s)
    return Counted(
        k * len(frame.queues) + queue, in_day, short, diverted, counted, code, callback_s
    )


def reduce_replication(
    frame: Frame,
    records: list[CallRecord] | CallColumns,
    spans: list[StaffedSpan],
    retrials: int,
    facts: CallFacts | None = None,
    retrials_lost: int = 0,
    callbacks: bool = False,
    held: np.ndarray | None = None,
) -> ReplicationStats:
    """Sum one replication up (its records, or their columns): ``DaySums`` given them at
    once. With ``callbacks`` (some caller asked for one), the calls of callers who asked
    are not counted as offered: they are counted apart. ``held``: which of the frame's
    queues are chat queues (an agent may hold several of their contacts at once); when
    any was answered, each agent's overlapping busy spans count once (``held_once``) in
    the occupancy."""
    c = records if isinstance(records, CallColumns) else call_columns(records, frame, callbacks)
    day = DaySums(frame, facts, callbacks, held)
    day.add(c)
    return day.stats(spans, retrials, retrials_lost)


class DaySums:
    """A replication's sums, built from its calls' columns a part at a time (``add``,
    the parts in record order) so that a day's columns need never be held at once:
    counts and histograms are summed exactly, and each sum of times adds its calls one
    by one in record order (``np.add.at``), as a ``bincount`` over the whole day does:
    the same bits however the day was cut. Kept to the day's end (``stats``): the
    answered calls' waits other than zero (a wait that recurs anywhere in the day is an
    atom of the distribution) and, with chat queues, their busy spans (an agent's chats
    are merged over the day)."""

    def __init__(
        self,
        frame: Frame,
        facts: CallFacts | None = None,
        callbacks: bool = False,
        held: np.ndarray | None = None,
    ) -> None:
        self.frame, self.facts, self.callbacks, self.held = frame, facts, callbacks, held
        n_int, n_q = frame.n_intervals, len(frame.queues)
        self.qidx = {q: i for i, q in enumerate(frame.queues)}
        self.bounds = frame.count_from_s + frame.interval_s * np.arange(n_int + 1)
        self.n = 0
        cells = n_int * n_q
        # [offered, answered, abandoned, within, waited, short abandoned]: counts by cell
        self.counts = np.zeros((6, cells), dtype=np.int64)
        self.times = np.zeros((3, cells))  # wait answered, wait abandoned, handle: by cell
        self.outcomes = np.zeros(cells * len(OUTCOMES), dtype=np.int64)
        n_agents = len(frame.agents)
        self.agent_calls = np.zeros(n_agents, dtype=np.int64)
        self.agent_times = np.zeros((2, n_agents))  # talk, wrap-up
        self.flows = np.zeros((3, n_q, n_q))  # overflowed, of them answered, moved
        self.callback_counts = np.zeros((3, n_q), dtype=np.int64)  # called, connected, failed
        self.callback_delay = np.zeros(n_q)
        self.wait_hist = np.zeros(n_q * (len(WAIT_BINS) - 1), dtype=np.int64)
        self.client_counts = np.zeros((frame.n_clients, len(CLIENT_FIELDS)))
        none, no_index = np.empty(0), np.empty(0, dtype=np.int32)
        # the answered calls' busy time by agent and interval (``_spread_into``); with
        # chat queues, their spans (start, stop, agent) to the day's end: an agent's
        # overlapping chats are merged over the whole day
        self.busy_passes: list[np.ndarray] = []
        self.merge = held is not None and bool(held.any())
        self.busy = [(none, none, no_index)]
        self.waits = [(none, no_index)]  # counted answered calls' wait, queue
        # of the waits of zero (most, where most calls are answered at once), only the
        # first of each queue is kept (it stands for its run) and the others counted
        self.zeros = np.zeros(n_q, dtype=np.int64)
        self.zero_seen = np.zeros(n_q, dtype=bool)
        self.chats = False  # a chat was answered
        self.asked = False  # the calls' callback times were read (callbacks: counted)
        self.read = False  # ``stats`` was called: the sums are the day's, and final

    def add(self, c: CallColumns) -> None:
        """The sums of some of the day's calls (the next in record order) added."""
        if self.read:
            raise RuntimeError("a day's sums were read: no call can be added after")
        frame, n_q = self.frame, len(self.frame.queues)
        self.n += len(c)
        queue, outcome, wait, talk, wrap, agent = (
            c.queue,
            c.outcome,
            c.wait_s,
            c.talk_s,
            c.wrap_up_s,
            c.agent,
        )
        queued = wait - c.ring_s > 1e-9  # waited in queue (ringing time is not queueing)
        answered = outcome == _OUTCOME_INDEX[Outcome.ANSWERED]
        abandoned = outcome == _OUTCOME_INDEX[Outcome.ABANDONED]
        answer = np.where(answered, c.queued_s + wait, np.nan)
        ids = c.call
        asked = c.callback_s if self.callbacks else None
        cc = counted_cells(frame, asked, queue, outcome, wait, c.arrival_s, ids, self.facts)
        cell, in_day, short, diverted = cc.cell, cc.in_day, cc.short, cc.diverted
        counted, code, asked = cc.counted, cc.code, cc.asked
        if asked is not None:
            self.asked = True
            called = in_day & ~np.isnan(asked)
            connected = called & answered
            failed = called & (outcome == _OUTCOME_INDEX[Outcome.CALLBACK_FAILED])
            taken = connected | failed  # an agent took it and dialled
            delay = c.queued_s + wait - asked  # to the agent's answer
            for j, m in enumerate((called, connected, failed)):
                self.callback_counts[j] += np.bincount(queue[m], None, n_q)
            np.add.at(self.callback_delay, queue[taken], delay[taken])

        ok = counted & answered
        for j, mask in enumerate(
            (counted, ok, counted & abandoned, ok & (wait <= frame.sl_threshold_s),
             counted & queued, in_day & short & ~diverted)
        ):  # fmt: skip
            self.counts[j] += np.bincount(cell[mask], None, self.counts.shape[1])
        for j, (mask, weights) in enumerate(
            ((ok, wait), (counted & abandoned, wait), (ok, talk + wrap))
        ):
            np.add.at(self.times[j], cell[mask], weights[mask])
        n_o = len(OUTCOMES)
        self.outcomes += np.bincount(cell[counted] * n_o + outcome[counted], None,
                                     len(self.outcomes))  # fmt: skip

        # busy time by clock, over every answered call (warm-up calls keep agents busy too)
        start = answer[answered]
        stop = start + talk[answered] + wrap[answered]
        ans_agent = agent[answered]
        if self.merge:
            self.busy.append((start, stop, ans_agent))
        else:
            n_agents = len(self.agent_calls)
            _spread_into(self.busy_passes, start, stop, self.bounds, ans_agent, n_agents)
        if self.held is not None and not self.chats:
            self.chats = bool(self.held[queue[answered]].any())
        ans_in_day = (start >= self.bounds[0]) & (start < self.bounds[-1])
        self.agent_calls += np.bincount(ans_agent[ans_in_day], minlength=len(self.agent_calls))
        np.add.at(self.agent_times[0], ans_agent[ans_in_day], talk[answered][ans_in_day])
        np.add.at(self.agent_times[1], ans_agent[ans_in_day], wrap[answered][ans_in_day])

        overflowed, overflowed_answered, moved = self.flows
        for i in np.flatnonzero(counted & c.overflowed):
            for to in c.overflowed_to[int(i)]:  # only the calls that overflowed: few
                overflowed[queue[i], self.qidx[to]] += 1
                overflowed_answered[queue[i], self.qidx[to]] += answered[i]
        sent_on = np.flatnonzero(counted & (c.final_queue != queue))
        np.add.at(moved, (queue[sent_on], c.final_queue[sent_on]), 1.0)
        waits, wait_queue = np.round(wait[ok], 6), queue[ok]  # to the µs: clock noise off
        self.wait_hist += _wait_hist(waits, wait_queue, n_q)
        zero = np.flatnonzero(waits == 0)
        queues, first = np.unique(wait_queue[zero], return_index=True)
        new = ~self.zero_seen[queues]
        self.zero_seen[queues] = True
        keep = waits != 0
        keep[zero[first[new]]] = True
        self.zeros += np.bincount(wait_queue[~keep], minlength=n_q)
        self.waits.append((waits[keep], wait_queue[keep]))
        _client_counts(
            self.client_counts, frame, ids, in_day, counted, answered, abandoned, wait, code,
            self.facts,
        )  # fmt: skip

    def stats(
        self, spans: list[StaffedSpan], retrials: int, retrials_lost: int = 0
    ) -> ReplicationStats:
        """The day's ``ReplicationStats``, with the agents' staffed ``spans``: once (its
        arrays are the sums' own)."""
        if self.read:
            raise RuntimeError("a day's sums are read once")
        self.read = True
        frame = self.frame
        n_int, n_q = frame.n_intervals, len(frame.queues)
        bounds = self.bounds
        aidx = {a: i for i, a in enumerate(frame.agents)}
        n_agents = len(frame.agents)
        if self.merge:
            busy_spans = tuple(np.concatenate(x) for x in zip(*self.busy, strict=True))
            if self.chats:  # chats: merged (days with none, calls only, skip this loop)
                busy_spans = held_once(*busy_spans)
            busy_from, busy_to, busy_agent = busy_spans
            _spread_into(self.busy_passes, busy_from, busy_to, bounds, busy_agent, n_agents)
        agent_busy_iv = _spread_sum(self.busy_passes, bounds, n_agents)
        span_start = np.array([s.start_s for s in spans])
        span_end = np.array([s.end_s for s in spans])
        per_span = _spread(span_start, span_end, bounds, np.arange(len(spans)), len(spans))
        span_agent = np.array([aidx[s.agent] for s in spans], dtype=np.intp)
        agent_staffed_iv = np.zeros((n_agents, n_int))
        np.add.at(agent_staffed_iv, span_agent, per_span)  # a few spans per agent
        # a queue's agents: staffed while serving it, busy on any call meanwhile (an agent's
        # busy time shared among its spans in an interval by their staffed time)
        busy = np.zeros((n_int, n_q))
        staffed = np.zeros((n_int, n_q))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.nan_to_num(per_span / agent_staffed_iv[span_agent])
        for j, span in enumerate(spans):  # a few per agent and day
            for q in span.queues:
                staffed[:, self.qidx[q]] += per_span[j]
                busy[:, self.qidx[q]] += agent_busy_iv[span_agent[j]] * share[j]
        waits, wait_queue = (np.concatenate(x) for x in zip(*self.waits, strict=True))
        counts = self.counts.reshape(6, n_int, n_q)
        times = self.times.reshape(3, n_int, n_q)
        callbacks = None
        if self.asked:  # as a whole day's reduction: only where callback times were read
            callbacks = np.column_stack([*self.callback_counts, self.callback_delay]).astype(float)
        return ReplicationStats(
            offered=counts[0],
            answered=counts[1],
            abandoned=counts[2],
            within=counts[3],
            waited=counts[4],
            wait_answered_s=times[0],
            wait_abandoned_s=times[1],
            short_abandoned=counts[5].astype(float),
            handle_s=times[2],
            outcomes=self.outcomes.reshape(n_int, n_q, len(OUTCOMES)).astype(float),
            busy_s=busy,
            staffed_s=staffed,
            busy_total_s=agent_busy_iv.sum(axis=0),
            staffed_total_s=agent_staffed_iv.sum(axis=0),
            wait_hist=self.wait_hist.reshape(n_q, -1).astype(float),
            wait_atoms=_wait_atoms(waits, wait_queue, self.zeros),
            agent_calls=self.agent_calls.astype(float),
            agent_talk_s=self.agent_times[0],
            agent_wrap_s=self.agent_times[1],
            agent_busy_s=agent_busy_iv.sum(axis=1),
            agent_staffed_s=agent_staffed_iv.sum(axis=1),
            calls_simulated=self.n,
            retrials=retrials,
            client_counts=self.client_counts,
            overflowed=self.flows[0],
            overflowed_answered=self.flows[1],
            moved=self.flows[2],
            callbacks=callbacks,
            retrials_lost=retrials_lost,
        )


def _client_counts(
    out: np.ndarray,
    frame: Frame,
    ids: np.ndarray,
    in_day: np.ndarray,
    counted: np.ndarray,
    answered: np.ndarray,
    abandoned: np.ndarray,
    wait: np.ndarray,
    code: np.ndarray,
    facts: CallFacts | None,
) -> None:
    """Some calls' counts by client added to ``out`` [client, CLIENT_FIELDS]."""
    if not frame.n_clients or facts is None:
        return
    client = facts.client[ids]
    mine = in_day & (client >= 0)
    columns = (
        mine,
        mine & answered,
        mine & abandoned,
        *(mine & (code == _RESULT_INDEX[r]) for r in _RESULTS),
        mine & answered & facts.off_hours[ids],
        mine & facts.vip[ids],
        mine & facts.new_caller[ids],
        mine & answered & facts.by_last_agent[ids],
        mine & counted,
        mine & counted & abandoned,
        mine & counted & answered & (wait <= frame.sl_threshold_s),
    )
    for j, mask in enumerate(columns):
        out[:, j] += np.bincount(client[mask], minlength=frame.n_clients)
    waited = mine & counted & answered
    column = out[:, -1]  # a view: added to in place
    np.add.at(column, client[waited], wait[waited])


# -- across replications ------------------------------------------------------------------


# Student's t quantile 0.975 for 1..30 degrees of freedom (published tables, 9 digits)
_T975 = (
    12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
    2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
    2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
    2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
    2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
)  # fmt: skip
_Z975 = 1.959963984540054


def _t975(dof: np.ndarray) -> np.ndarray:
    """Student's t quantile 0.975: the table up to 30 degrees of freedom, then the
    Cornish-Fisher expansion in 1/dof (Abramowitz and Stegun 26.7.5; error below 1e-7
    from 30 on). Written here so that a run does not import scipy (a third of a second)."""
    z = _Z975
    g = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    v = np.maximum(np.asarray(dof, dtype=float), 1.0)
    far = z + g[0] / v + g[1] / v**2 + g[2] / v**3 + g[3] / v**4
    near = np.asarray(_T975)[np.clip(v.astype(np.intp), 1, 30) - 1]
    return np.asarray(np.where(v <= 30, near, far))


def mean_ci(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and 95 % confidence half-width over axis 0 (replications), ignoring NaN
    (an interval without calls has no service level); NaN where undefined."""
    ok = ~np.isnan(samples)
    valid = ok.sum(axis=0)
    filled = np.where(ok, samples, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid > 0, filled.sum(axis=0) / np.maximum(valid, 1), np.nan)
        dev = np.where(ok, samples - mean, 0.0)
        var = (dev**2).sum(axis=0) / np.maximum(valid - 1, 1)
        t = _t975(np.maximum(valid - 1, 1))
        half = np.where(valid > 1, t * np.sqrt(var / np.maximum(valid, 1)), np.nan)
    return mean, half


@dataclass(frozen=True, slots=True)
class Controlled:
    """A figure's control-variate estimate (``controlled``): ``mean`` and 95 % ``ci95``;
    ``variance_ratio``, the plain mean's estimated variance over this one's (above 1:
    the controls narrowed the CI; NaN: undefined); ``controls``, how many were used."""

    mean: float
    ci95: float
    variance_ratio: float
    controls: int


def controlled(samples: np.ndarray, controls: np.ndarray) -> Controlled:
    """The mean of ``samples`` (one figure's per-replication values) corrected by
    ``controls`` ([replication, control]: quantities minus their exactly known means), with
    its 95 % CI: the intercept of the least-squares fit of the samples on the controls,
    its standard error that fit's, Student's t on n - 1 - (controls) degrees of freedom
    (Lavenberg and Welch 1981; exact when samples and controls are jointly normal, which
    sums over a day of calls nearly are). Replications without a value (NaN) are left
    out; controls that do not vary (or repeat others) are not counted; with fewer than
    two degrees of freedom left, the plain mean and CI (no control used)."""
    y = np.asarray(samples, dtype=float)
    ok = ~np.isnan(y)
    y, c = y[ok], np.asarray(controls, dtype=float)[ok]
    n = len(y)
    mean, half = (float(v[0]) for v in mean_ci(y[:, None]))
    plain_var = float(np.var(y, ddof=1)) / n if n > 1 else math.nan
    spread = c.std(axis=0) if n else np.zeros(c.shape[1])
    c = c[:, spread > 0] / spread[spread > 0]  # to one scale (the intercept is unchanged)
    x = np.column_stack([np.ones(n), c])
    rank = int(np.linalg.matrix_rank(x)) if n else 0
    dof = n - rank
    if n < 2 or rank < 2 or dof < 2:
        return Controlled(mean, half, 1.0 if n > 1 else math.nan, 0)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ beta
    sigma2 = float(residual @ residual) / dof
    var = sigma2 * float(np.linalg.pinv(x.T @ x)[0, 0])
    ratio = plain_var / var if var > 0 else (1.0 if plain_var == 0 else math.nan)
    return Controlled(float(beta[0]), float(_t975(np.array(dof))) * math.sqrt(var), ratio,
                      rank - 1)  # fmt: skip


def control_samples(
    arrived: np.ndarray,
    offered_work_s: np.ndarray,
    expected_calls: np.ndarray,
    mean_work_s: np.ndarray,
    work_moment2_s2: np.ndarray,
    volume_cv: np.ndarray,
) -> np.ndarray:
    """[replication, 3]: the controls of each replication minus their exact means. Of
    the day's first calls as drawn before the day is run (``arrived`` and their talk +
    wrap-up ``offered_work_s``, each [replication, slot, stream]): how many arrived,
    their work (the offered work), and that work's spread, the sum over slots of its
    squared deviation from the slot's mean. The means, from ``expected_calls`` ([slot,
    stream]: Λ, the calls a slot brings on average), each stream's mean work a call
    ``mean_work_s`` (m) and mean squared work a call ``work_moment2_s2`` (m2), and its
    day-to-day volume's ``volume_cv`` (c): Λ, Λ m and Λ m2 + (c Λ m)² (a compound
    Poisson sum's variance, with the day's multiplier's; streams draw independently). A
    day with more calls or work than that, or more unevenly spread, is a busier day."""
    mean = expected_calls * mean_work_s
    spread = (expected_calls * work_moment2_s2 + (volume_cv * mean) ** 2).sum()
    work = offered_work_s.sum(axis=2)  # [replication, slot]
    return np.column_stack(
        [
            arrived.sum(axis=(1, 2)) - expected_calls.sum(),
            work.sum(axis=1) - mean.sum(),
            ((work - mean.sum(axis=1)) ** 2).sum(axis=1) - spread,
        ]
    )


METRICS = (
    "offered",
    "answered",
    "abandoned",
    "service_level",
    "abandon_rate",
    "asa_s",
    "aht_s",
    "occupancy",
    "p_wait",
)


def metric_samples(
    reps: list[ReplicationStats], axis: tuple[int, ...] | None, queues: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Per-replication values of every metric, summed over ``axis`` of [interval, queue]
    first (None: keep both), over the ``queues`` picked by that mask only (None: all).
    Occupancy uses busy and staffed time."""

    def stack(name: str) -> np.ndarray:
        arr = np.stack([getattr(r, name) for r in reps])
        if queues is not None:
            arr = arr[:, :, queues]
        return arr.sum(axis=tuple(a + 1 for a in axis)) if axis else arr

    offered, answered, abandoned = stack("offered"), stack("answered"), stack("abandoned")
    if axis == (0, 1):
        busy = np.stack([r.busy_total_s.sum() for r in reps])
        staffed = np.stack([r.staffed_total_s.sum() for r in reps])
    else:
        busy, staffed = stack("busy_s"), stack("staffed_s")
    within, wait_answered = stack("within"), stack("wait_answered_s")
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "service_level": kpi.service_level(within, offered),
        "abandon_rate": kpi.abandon_rate(abandoned, offered),
        "asa_s": kpi.asa_s(wait_answered, answered),
        "mean_wait_s": kpi.mean_wait_s(
            wait_answered, stack("wait_abandoned_s"), answered, abandoned
        ),
        # the other two service-level definitions (the one above: of offered calls, the
        # short abandons not counted as offered)
        "service_level_of_answered": kpi.service_level(within, answered),
        "service_level_all_offered": kpi.service_level(within, offered + stack("short_abandoned")),
        "aht_s": kpi.aht_s(stack("handle_s"), answered),
        "occupancy": kpi.occupancy(busy, staffed),
        "p_wait": kpi.p_wait(stack("waited"), offered),
    }


PERCENTILES = (50, 80, 90, 95)


def hist_percentile(hist: np.ndarray, q: float, atoms: np.ndarray | None = None) -> float:
    """The ``q`` percentile of answered calls' waits from their histogram over
    ``WAIT_BINS`` and its ``atoms`` ([value, count] rows, counted in ``hist`` too): the
    share of waits at or below it is at least ``q`` %. The distribution jumps at each atom
    (a wait of zero is one) and rises evenly within a bin by the bin's other waits, so a
    percentile that falls on an atom is its value, and one inside the rest is interpolated
    within its bin (5 s wide up to 300 s, 30 s to 1,800 s; waits in the last, open bin
    count as 1,800 s). NaN without calls."""
    total = hist.sum()
    if total <= 0:
        return math.nan
    values, counts = (np.empty(0), np.empty(0)) if atoms is None else atoms.T
    spread = hist - np.bincount(_bin_of(values), counts, len(hist))
    cap = WAIT_BINS[-2]  # the open bin's waits, atoms or not, as one atom at its start
    values, where = np.unique(np.append(np.minimum(values, cap), cap), return_inverse=True)
    counts = np.bincount(where, np.append(counts, spread[-1]))
    spread[-1] = 0.0
    points = np.union1d(WAIT_BINS[:-1], values)  # between two: no atom, one bin
    i = _bin_of(points)
    even = np.append(0.0, np.cumsum(spread))[i] + spread[i] * (
        (points - WAIT_BINS[i]) / (WAIT_BINS[i + 1] - WAIT_BINS[i])
    )
    jumps = np.append(0.0, np.cumsum(counts))
    below = even + jumps[np.searchsorted(values, points, side="left")]
    upto = even + jumps[np.searchsorted(values, points, side="right")]
    goal = total * q / 100
    reached = goal - 1e-9 * total  # counts summed in floats
    k = int(np.argmax(upto >= reached))
    if k and below[k] >= reached:  # reached by the spread waits before points[k]
        share = min(1.0, (goal - upto[k - 1]) / (below[k] - upto[k - 1]))
        return float(points[k - 1] + (points[k] - points[k - 1]) * share)
    return float(points[k])  # an atom holds it


def or_none(x: float) -> float | None:
    """A figure for JSON: NaN (undefined) as None."""
    return kpi.shown(x)


def ci_of(samples: np.ndarray) -> dict[str, float | None]:
    """``{"mean", "ci95"}`` of one figure's per-replication values (NaN ignored)."""
    mean, half = mean_ci(np.asarray(samples, dtype=float)[:, None])
    return {"mean": or_none(mean[0]), "ci95": or_none(half[0])}


def _bin_of(wait: np.ndarray) -> np.ndarray:
    """Each wait's bin of ``WAIT_BINS``."""
    return np.searchsorted(WAIT_BINS, wait, side="right") - 1


def _wait_hist(wait: np.ndarray, queue: np.ndarray, n_q: int) -> np.ndarray:
    """[queue, bin] counts of waits over ``WAIT_BINS``, flat (queue by queue)."""
    n_bins = len(WAIT_BINS) - 1
    return np.bincount(queue * n_bins + _bin_of(wait), minlength=n_q * n_bins)


def _wait_atoms(wait: np.ndarray, queue: np.ndarray, zeros: np.ndarray | None = None) -> np.ndarray:
    """[k, 3] rows (queue, wait_s, count) of the waits that are points of their queue's
    distribution, not spread: zero (answered at once) and every wait that recurs exactly
    (a constant answer delay, a ring timeout); a wait drawn from a continuum does not.
    ``zeros``: by queue, waits of zero given apart (counted only, each queue's run of
    zeros standing in ``wait`` by its first)."""
    order = np.lexsort((wait, queue))  # by queue, then wait: runs of equal waits
    q, w = queue[order], wait[order]
    first = np.ones(len(w), dtype=bool)
    first[1:] = (q[1:] != q[:-1]) | (w[1:] != w[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(w)))
    zero = w[starts] == 0
    if zeros is not None:
        counts[zero] += zeros[q[starts][zero]]
    atom = (counts > 1) | zero
    return np.column_stack([q[starts][atom], w[starts][atom], counts[atom]]).astype(float)


def wait_percentiles(
    reps: list[ReplicationStats], queues: int | np.ndarray | None = None
) -> dict[str, dict[str, float | None]]:
    """p50, p80, p90, p95 of answered calls' waits (of one queue, or of those a mask
    picks, else of all): ``mean`` and ``ci95`` of each replication's percentile, and
    ``pooled``, the percentile of all replications' waits together."""
    n_q = reps[0].wait_hist.shape[0]
    if queues is None:
        pick = np.ones(n_q, dtype=bool)
    elif isinstance(queues, int):
        pick = np.arange(n_q) == queues
    else:
        pick = np.asarray(queues, dtype=bool)
    hists = [r.wait_hist[pick].sum(axis=0) for r in reps]
    atoms = [r.wait_atoms[pick[r.wait_atoms[:, 0].astype(np.intp)], 1:] for r in reps]
    pooled_hist, pooled_atoms = np.sum(hists, axis=0), np.concatenate(atoms)
    out: dict[str, dict[str, float | None]] = {}
    for q in PERCENTILES:
        each = [hist_percentile(h, q, a) for h, a in zip(hists, atoms, strict=True)]
        pooled = hist_percentile(pooled_hist, q, pooled_atoms)
        out[f"p{q}"] = ci_of(np.array(each)) | {"pooled": or_none(pooled)}
    return out


# a call whose ticket is left in one of these states is not resolved
LEFT_OPEN = frozenset({Status.OPEN, Status.NEEDS_FOLLOW_UP})


@dataclass(frozen=True, slots=True)
class FirstContactResolution:
    """The live service's first-contact resolution of a day's answered calls from
    identified callers. (The simulator's follow-up figure, with no window and no tickets,
    is ``kpi.recall_free_share``: another measure under another name.)"""

    answered_identified: int
    called_again: int  # the same contact called again within the window
    ticket_left_open: int  # else: the call's ticket is still open or needs follow-up
    first_contact_resolution: float | None  # the rest, as a share (None: no calls)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answered_identified": self.answered_identified,
            "called_again": self.called_again,
            "ticket_left_open": self.ticket_left_open,
            "first_contact_resolution": self.first_contact_resolution,
        }


def first_contact_resolution(
    answered: list[tuple[int, int, float]],
    calls_of: Mapping[int, list[float]],
    unresolved: set[int],
    window_s: float,
) -> FirstContactResolution:
    """First-contact resolution of a day's answered calls from identified callers
    (``answered``: call, contact, time): resolved unless the same contact called again
    within ``window_s`` (``calls_of``: each contact's call times, sorted) or the call left
    a ticket open or needing follow-up (``unresolved``: those calls, whose ticket is in a
    ``LEFT_OPEN`` state)."""
    again = 0
    ticket_open = 0
    for call, contact, at in answered:
        times = calls_of.get(contact, [])
        i = bisect.bisect_right(times, at)
        if i < len(times) and times[i] <= at + window_s:
            again += 1
        elif call in unresolved:
            ticket_open += 1
    n = len(answered)
    resolved = kpi.shown(kpi.ratio(n - again - ticket_open, n), 6)
    return FirstContactResolution(n, again, ticket_open, resolved)
