"""The ACD: a sans-I/O state machine. Events and the current time in; commands out.

Rule 1: everything that changes a call's or an agent's state lives in this module. What
is not a transition lives beside it: the inbound flow before the queue and the client's
treatment after the answer (``inbound``), record and journal types (``record``), the
journal's Asterisk format (``queue_log``), routing strategies (``strategy``).

It never reads a clock, sleeps, logs or opens files; the only randomness comes from the
injected ``random.Random`` (random strategies). The SimPy simulator and the live service
drive this same object, so they route identically. A shell drives it only through
``handle(event, now)``, the commands it returns and read-only views (``call_view``,
``offer_state``, ``handler``, ``agent_view``, ``roster``, ``knows``, ``queue_skills``,
``waiting``, the records and spans; frozen types in ``view``); the state objects below
are private.

Late and schedule events are harmless: an answer, rejection, ring timeout, hang-up or
end of talk for a call that has moved on returns no commands; pause, ready and log-out
are valid in any agent state (a pause or ready for a logged-out agent does nothing).
Events that contradict the state (an answer from an agent never offered the call) raise
``InvalidEventError`` naming the event.

Invariants kept after every event (and tested as properties):

- an agent holds at most one call (ringing, talking or in wrap-up), or else up to its
  ``chats`` chats and nothing more (``Channel.CHAT``: an agent holding a chat takes no
  call and no email);
- deferrable work (``Channel.EMAIL``) never starts while a call or chat the agent could
  take waits (``_best_waiting``, the one place that chooses what a free agent takes);
- a call that waits has no idle qualified agent (it would have been offered);
- within a queue and a priority, calls leave the queue in the order they entered;
- every call ends in exactly one ``Outcome`` and gets exactly one ``CallRecord``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any, Final

from callsim.core.agent import STATES, Agent, AgentState, state_index
from callsim.core.call import Call, CallState
from callsim.core.command import (
    Announce,
    CancelRing,
    Command,
    Connect,
    Dial,
    End,
    Enqueue,
    Forward,
    HoldPlace,
    OfferCallback,
    PauseAgent,
    PlayMessage,
    Ring,
    SendToVoicemail,
    StartTimer,
    TakeNote,
    Transferred,
)
from callsim.core.config import CLOSE, FINAL, AcdConfig, Action, ActionKind, qualified
from callsim.core.event import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentRejected,
    CallArrived,
    CallbackRequested,
    CallbackUnanswered,
    CallDiverted,
    CallEnded,
    CallerHungUp,
    CallId,
    CallTransferred,
    Event,
    OutboundAnswered,
    OutboundUnanswered,
    Party,
    RingTimedOut,
    ServiceStopped,
    SkillsChanged,
    Timer,
    TimerExpired,
    TimerKind,
)
from callsim.core.queue import QueueState
from callsim.core.record import (
    TRACE_TOP,
    CallRecord,
    Candidate,
    Decision,
    JournalEntry,
    JournalKind,
    Offer,
    OfferResult,
    Outcome,
    RecordColumns,
    StaffedSpan,
    Transfer,
    outcome_index,
)
from callsim.core.strategy import STRATEGIES
from callsim.core.view import AgentView, CallView, OfferView, QueueView
from callsim.errors import InvalidEventError, UnknownAgentError, UnknownQueueError

_TERMINAL = {
    ActionKind.VOICEMAIL: (Outcome.VOICEMAIL, JournalKind.VOICEMAIL),
    ActionKind.NOTE: (Outcome.NOTE, JournalKind.NOTE),
    ActionKind.FORWARD: (Outcome.FORWARDED, JournalKind.FORWARD),
    ActionKind.CLOSE: (Outcome.CLOSED, JournalKind.CLOSED),
    ActionKind.BUSY: (Outcome.BUSY, JournalKind.FULL),
}
_DIVERTED = frozenset((Outcome.BLOCKED, Outcome.DEFLECTED, Outcome.VOICEMAIL, Outcome.MESSAGE))
NO_ANSWER = "no_answer"  # the reason of the pause after missed offers
_AGENT_RULE = "agent became available: highest aged priority, then longest waiting"
_PREFERRED_RULE = "the caller's preferred agent first"
_TRANSFER_RULE = "transferred to this agent"
_CHAT_RULE = "agent holding chats with room: fewest chats held, then position"

Out = list[Command]
# NamedTuple's __new__ is a Python function; tuple.__new__ builds the same record in C
_tuple: Final = tuple.__new__
# compiled, a Final is a C static: a NamedTuple class (no native class) named directly is
# looked up in the module's dict at each use, once or twice per call
_RECORD: Final = CallRecord
_OFFER: Final = Offer


class Acd:
    """The routing and ACD engine. See the module docstring.

    ``journal=True`` keeps the typed event stream in ``self.journal`` (export it with
    ``callsim.core.queue_log``); ``trace=True`` keeps a ``Decision`` per offer in
    ``self.decisions``. Finished calls accumulate in ``self.records``; a long-running
    shell takes them with ``take_records()``. ``columns=True`` writes them into
    ``self.columns`` instead (``RecordColumns``: a list per field a day's statistics read,
    no record per call), taken with ``take_columns()``: for a shell that reads a day's
    calls as columns only (the simulator's replications).
    """

    def __init__(
        self,
        config: AcdConfig,
        rng: random.Random | None = None,
        *,
        journal: bool = False,
        trace: bool = False,
        columns: bool = False,
    ) -> None:
        config.check()
        self.config = config
        self.routing = config.routing
        self._auto_answer = config.routing.auto_answer
        self._rng = rng if rng is not None else random.Random(0)
        self._queues: dict[str, QueueState] = {}
        self._queues_by_skill: dict[str, list[QueueState]] = {}
        for i, qc in enumerate(config.queues):
            strategy = STRATEGIES[qc.strategy or self.routing.strategy]
            prefix = _proficiency_key(qc.skills) if self.routing.use_proficiency else None
            queue = QueueState(qc, strategy, strategy.make_pool(prefix, self._rng))
            queue.index = i  # its place in the configuration's order
            self._queues[qc.name] = queue
            for skill in qc.skills:
                self._queues_by_skill.setdefault(skill, []).append(queue)
        self._agents: dict[str, Agent] = {}
        self._next_position = 0
        for ac in config.agents:
            agent = self._create_agent(ac.name, ac.skills, ac.position, ac.weight, ac.extension)
            agent.ring_timeout_s = ac.ring_timeout_s
            agent.max_chats = ac.chats
        self._room: dict[str, Agent] = {}  # agents holding chats with room for more
        self._calls: dict[CallId, Call] = {}
        self._entries = 0  # entry numbers into queues: FIFO order within a priority
        self._arrivals = 0  # arrival order of calls: "longest waiting" across queues
        self._on_line = 0  # calls holding a line: in ``calls`` and not in wrap-up
        self._lines = config.routing.lines
        self._n_idle = 0  # agents in the idle pools
        blend = config.routing.blend
        self._blend = self._queues[blend.queue] if blend is not None else None
        self._reserve = blend.reserve if blend is not None else 0
        self.records: list[CallRecord] = []
        self.columns: RecordColumns | None = RecordColumns() if columns else None
        self.spans: list[StaffedSpan] = []
        self.journal: list[JournalEntry] | None = [] if journal else None
        self.decisions: list[Decision] | None = [] if trace else None
        self._handlers: dict[type, Callable[[Any, float, Out], None]] = {
            CallArrived: self._on_call_arrived,
            CallDiverted: self._on_call_diverted,
            AgentLoggedIn: self._on_logged_in,
            AgentReady: self._on_ready,
            AgentPaused: self._on_paused,
            AgentLoggedOut: self._on_logged_out,
            SkillsChanged: self._on_skills_changed,
            AgentAnswered: self._on_answered,
            AgentRejected: self._on_rejected,
            RingTimedOut: self._on_ring_timed_out,
            CallerHungUp: self._on_hung_up,
            CallEnded: self._on_call_ended,
            CallTransferred: self._on_transferred,
            TimerExpired: self._on_timer,
            ServiceStopped: self._on_stopped,
            OutboundAnswered: self._on_outbound_answered,
            OutboundUnanswered: self._on_outbound_unanswered,
            CallbackRequested: self._on_callback_requested,
            CallbackUnanswered: self._on_callback_unanswered,
        }

    # -- public surface -----------------------------------------------------------------

    def handle(self, event: Event, now: float) -> list[Command]:
        """Apply one event at time ``now`` (seconds, never decreasing); return commands."""
        out: Out = []
        if type(event) is CallArrived:  # each call's two events: direct (native) calls
            self._on_call_arrived(event, now, out)
        elif type(event) is CallEnded:
            self._on_call_ended(event, now, out)
        else:
            handler = self._handlers.get(type(event))
            if handler is None:
                raise InvalidEventError(f"event: {event!r} is not an ACD event")
            handler(event, now, out)
        return out

    def take_records(self) -> list[CallRecord]:
        """Return the call records written since the last call and forget them (an ACD
        that writes columns has none: asking is a shell's mistake, not zero calls)."""
        if self.columns is not None:
            raise RuntimeError("this ACD writes its records as columns: take_columns()")
        records, self.records = self.records, []
        return records

    def take_columns(self) -> RecordColumns:
        """Return the call records written since the last call as columns and forget them
        (``columns=True`` only: an ACD that writes records has no columns)."""
        columns = self.columns
        if columns is None:
            raise RuntimeError("this ACD writes CallRecords: take_records()")
        self.columns = RecordColumns()
        columns.queues = tuple(self._queues)
        columns.agents = tuple(self._agents)
        return columns

    def take_spans(self) -> list[StaffedSpan]:
        """Return the agents' staffed spans ended since the last call and forget them."""
        spans, self.spans = self.spans, []
        return spans

    def wrap_up_ends(self, agent: str) -> float | None:
        """When the agent's wrap-up ends by its timer (None: not in wrap-up, or open-ended
        until the agent says ready)."""
        a = self._agent(agent, None)
        return a.wrap_ends_s if a.state is AgentState.WRAP_UP else None

    def agent_state(self, agent: str) -> AgentState:
        """The agent's current state (a read-only view)."""
        return self._agent(agent, None).state

    def call_state(self, call: CallId) -> CallState | None:
        """The call's current state, or None once it has ended (a read-only view)."""
        found = self._calls.get(call)
        return found.state if found is not None else None

    def call_view(self, call: CallId) -> CallView | None:
        """The open call as a frozen view (state, queue, agent, offers), or None once it
        has ended. O(offers): for the shells' answers, not per event."""
        found = self._calls.get(call)
        if found is None:
            return None
        offers = [OfferView(o[1], o[0], self._ring_timeout(o[1]), o[2]) for o in found.offers]
        for name, start in found.ringing.items():
            offers.append(OfferView(name, start, self._ring_timeout(name), OfferResult.RINGING))
        offers.sort(key=_at)  # in the order they were made
        agent = found.agent.name if found.agent is not None else None
        return CallView(
            call,
            found.state,
            found.queue.name,
            agent,
            tuple(offers),
            found.callback_s,
            found.callback_failed,
            bool(found.transfers),
            found.answer_s,
            found.end_s if found.state is CallState.WRAP_UP else None,
            found.talk_s if found.state is CallState.WRAP_UP else None,
        )

    def _ring_timeout(self, agent: str) -> float:
        own = self._agents[agent].ring_timeout_s  # a personal device rings its own time
        return self.routing.ring_timeout_s if own is None else own

    def offer_result(self, call: CallId, agent: str, at_s: float) -> OfferResult | None:
        """The result so far of the offer of ``call`` to ``agent`` made at ``at_s`` (None: the
        call has ended or never made that offer)."""
        view = self.call_view(call)
        if view is None:
            return None
        for offer in view.offers:
            if offer.agent == agent and offer.at_s == at_s:
                return offer.result
        return None

    def handler(self, call: CallId) -> str | None:
        """Who may act on the call as its agent: the agent it is connected to (talking
        or in wrap-up); None while nobody holds it or once it has ended."""
        found = self._calls.get(call)
        return found.agent.name if found is not None and found.agent is not None else None

    def knows(self, agent: str) -> bool:
        """Whether the core knows ``agent`` (configured, or met when it logged in)."""
        return agent in self._agents

    def agent_view(self, agent: str) -> AgentView:
        """The agent as a frozen view (``UnknownAgentError`` if the core does not know it)."""
        a = self._agent(agent, None)
        wrap_ends = a.wrap_ends_s if a.state is AgentState.WRAP_UP else None
        chats = tuple(c.id for c in a.chats)
        return AgentView(a.name, a.state, dict(a.skills), a.pause_reason, a.call, wrap_ends, chats)

    def roster(self) -> list[AgentView]:
        """Every agent the core knows, as frozen views, in the order it met them."""
        return [self.agent_view(name) for name in self._agents]

    def queue_names(self) -> tuple[str, ...]:
        """The queues, in the configuration's order."""
        return tuple(self._queues)

    def queue_skills(self, queue: str) -> tuple[str, ...]:
        """The skills an agent needs for ``queue`` (all of them)."""
        state = self._queues.get(queue)
        if state is None:
            raise UnknownQueueError(f"queue {queue!r} does not exist", field="queue")
        return tuple(state.skills)

    def take_decisions(self) -> list[Decision]:
        """Return the decision traces written since the last call and forget them
        (``trace=True``; an empty list otherwise)."""
        if not self.decisions:
            return []
        decisions, self.decisions = self.decisions, []
        return decisions

    def waiting(self, queue: str) -> list[tuple[CallId, float]]:
        """The calls waiting in ``queue`` in the order they will be served, each with the
        time it started waiting there (a read-only view; O(n log n), for dashboards)."""
        state = self._queues.get(queue)
        if state is None:
            raise UnknownQueueError(f"queue {queue!r} does not exist", field="queue")
        live = sorted(e for e in state.heap if e[3].wait_token == e[2])
        return [(call.id, call.entered_s) for _, _, _, call in live]

    def queue_view(self, queue: str) -> QueueView:
        """``queue`` now (a read-only view): its agents by state are counted as they
        change, its longest wait found in one pass over the calls waiting (no sort)."""
        state = self._queues.get(queue)
        if state is None:
            raise UnknownQueueError(f"queue {queue!r} does not exist", field="queue")
        oldest = min((e[3].entered_s for e in state.heap if e[3].wait_token == e[2]), default=None)
        agents: dict[AgentState, int] = {
            s: n for s, n in zip(STATES, state.agents, strict=True) if s is not AgentState.OFFLINE
        }
        return QueueView(queue, state.n_waiting, oldest, agents)

    def staffed_now(self, now: float) -> list[StaffedSpan]:
        """The staffed spans still open, cut at ``now`` (a read-only view): with the
        spans taken so far, an agent's whole staffed time up to now."""
        return [
            StaffedSpan(a.name, tuple(q.name for q in a.queues), a.staffed_since, now)
            for a in self._agents.values()
            if a.staffed_since is not None
        ]

    # -- lookups ------------------------------------------------------------------------

    def _agent(self, name: str, event: Event | None) -> Agent:
        agent = self._agents.get(name)
        if agent is None:
            raise UnknownAgentError(_refused(event, f"agent {name!r} is not known"))
        return agent

    def _log(
        self,
        now: float,
        call: CallId | None,
        queue: str | None,
        agent: str | None,
        kind: JournalKind,
        *data: str | int | float,
    ) -> None:
        if self.journal is not None:
            self.journal.append(JournalEntry(now, call, queue, agent, kind, data))

    # -- agents: creation and skills ----------------------------------------------------

    def _create_agent(
        self,
        name: str,
        skills: Mapping[str, int],
        position: int | None = None,
        weight: float = 1.0,
        extension: str = "",
    ) -> Agent:
        _check_skills(name, skills)
        if position is None:
            position = self._next_position
        self._next_position = max(self._next_position, position + 1)
        agent = Agent(name, skills, position, weight, extension)
        agent.index = len(self._agents)
        self._agents[name] = agent
        self._index(agent)
        return agent

    def _index(self, agent: Agent) -> None:
        """Recompute the queues the agent qualifies for (all of a queue's skills); the
        agent's state is counted in its new queues, no longer in its old."""
        for q in agent.queues:
            q.agents[agent.state_index] -= 1
        found: dict[str, QueueState] = {}
        for skill in agent.skills:
            for q in self._queues_by_skill.get(skill, ()):
                if q.name not in found and qualified(agent.skills, q.skills):
                    found[q.name] = q
        agent.queues = sorted(found.values(), key=lambda q: q.index)
        agent.pools = [q.pool for q in agent.queues]
        for q in agent.queues:
            q.agents[agent.state_index] += 1

    def _become(self, agent: Agent, state: AgentState) -> None:
        """Every change of an agent's state, counted in its queues' ``agents``."""
        old, new = agent.state_index, state_index(state)
        agent.state, agent.state_index = state, new
        for q in agent.queues:
            counts = q.agents
            counts[old] = counts[old] - 1  # not -=: compiled, that is generic arithmetic
            counts[new] = counts[new] + 1

    def _staff(self, agent: Agent, now: float) -> None:
        """The agent starts a staffed span (logged in, not paused)."""
        agent.staffed_since = now

    def _unstaff(self, agent: Agent, now: float) -> None:
        """The agent's staffed span ends (a pause, a log-out, new skills, a stop)."""
        since = agent.staffed_since
        if since is not None:
            agent.staffed_since = None
            queues = tuple(q.name for q in agent.queues)
            self.spans.append(StaffedSpan(agent.name, queues, since, now))

    def _set_skills(self, agent: Agent, skills: Mapping[str, int], now: float, out: Out) -> None:
        _check_skills(agent.name, skills)
        was_idle = agent.in_pools
        self._leave_idle(agent)
        old = agent.queues
        staffed = agent.staffed_since is not None
        self._unstaff(agent, now)  # the span so far served the old queues
        agent.skills = dict(skills)
        agent.n_skills = len(agent.skills)
        self._index(agent)
        if staffed:
            self._staff(agent, now)
        if agent.state is not AgentState.OFFLINE:
            for q in old:
                q.n_logged_in -= 1
            for q in agent.queues:
                q.n_logged_in += 1
            for q in old:
                if q.n_logged_in == 0 and q.config.leave_when_empty:
                    self._empty(q, now, out)
        if was_idle:
            self._available(agent, now, out)

    # -- agents: availability -----------------------------------------------------------

    def _leave_idle(self, agent: Agent) -> None:
        if agent.in_pools:
            for pool in agent.pools:
                pool.discard(agent)
            agent.in_pools = False
            agent.idle_token += 1
            self._n_idle -= 1

    def _available(self, agent: Agent, now: float, out: Out) -> None:
        """The agent (not in any idle pool) can take a call: a call waiting for this agent
        alone, else the best waiting call across its queues (highest priority now, aging
        included, then the earliest arrival), else the agent becomes idle in its queues' pools."""
        reserved = agent.reserved
        while reserved:
            waiting, token = reserved.popleft()
            if waiting.wait_token == token and waiting.state is CallState.WAITING:
                self._ring(waiting, waiting.queue, [agent], now, out, _PREFERRED_RULE)
                return
        best, best_queue = self._best_waiting(agent, now, False)
        if best is not None and best_queue is not None:
            self._ring(best, best_queue, [agent], now, out, _AGENT_RULE)
            return
        blend = self._blend
        if blend is not None and self._n_idle >= self._reserve and blend in agent.queues:
            self._become(agent, AgentState.DIALLING)  # an outbound call, keeping the reserve idle
            out.append(Dial(agent.name, blend.name))
            return
        self._become(agent, AgentState.READY)
        agent.idle_since = now
        agent.idle_token += 1
        agent.in_pools = True
        self._n_idle += 1
        for pool in agent.pools:
            pool.add(agent)

    def _best_waiting(
        self, agent: Agent, now: float, chats: bool
    ) -> tuple[Call | None, QueueState | None]:
        """The waiting call a free agent takes across its queues (only chats with
        ``chats``): the highest priority now, aging included, then the earliest arrival;
        deferrable work (email) only when no call or chat it could take waits."""
        best: Call | None = None
        best_queue: QueueState | None = None
        best_score = 0.0
        deferred = False  # best is deferrable work
        for q in agent.queues:
            if q.n_waiting and (q.chat or not chats):
                call = q.head()
                if call is None:
                    continue
                score = q.score(call, now)
                later = q.deferrable
                if (
                    best is None
                    or (deferred and not later)
                    or (
                        later is deferred
                        and (score > best_score or (score == best_score and call.seq < best.seq))
                    )
                ):
                    best, best_queue, best_score, deferred = call, q, score, later
        return best, best_queue

    def _room_changed(self, agent: Agent) -> None:
        """Keep ``_room``: the agents holding chats that may take one more."""
        if (
            0 < len(agent.chats) < agent.max_chats
            and not agent.pending_logout
            and agent.pending_pause is None
        ):
            self._room[agent.name] = agent
        else:
            self._room.pop(agent.name, None)

    def _chat_room(self, agent: Agent, now: float, out: Out) -> None:
        """The agent holds chats and may have room for one more: it takes the best
        waiting chat of its queues, if any (each connect comes back here)."""
        self._room_changed(agent)
        if agent.name in self._room:
            best, best_queue = self._best_waiting(agent, now, True)
            if best is not None and best_queue is not None:
                self._ring(best, best_queue, [agent], now, out, _AGENT_RULE)

    def _roomiest(self, queue: QueueState, tried: set[str]) -> Agent | None:
        """The agent holding chats to push a new chat of ``queue`` to: the fewest chats
        held, then the lowest position (idle agents, holding none, are offered first)."""
        best: Agent | None = None
        for a in self._room.values():
            if (
                queue in a.queues
                and a.name not in tried
                and not a.pending_logout
                and a.pending_pause is None
                and (
                    best is None
                    or len(a.chats) < len(best.chats)
                    or (len(a.chats) == len(best.chats) and a.position < best.position)
                )
            ):
                best = a
        return best

    def _drop_chat(self, call: Call, agent: Agent) -> bool:
        """The chat leaves the agent; whether the agent now holds no chat."""
        agent.chats.remove(call)
        if agent.chats:
            agent.call = agent.chats[-1].id
        self._room_changed(agent)
        return not agent.chats

    def _release(self, agent: Agent, now: float, out: Out) -> None:
        """The agent is done with its ring or call: pending logout, pending pause, or work."""
        agent.call = None
        if agent.pending_logout:
            self._go_offline(agent, now, out)
        elif agent.pending_pause is not None:
            self._pause(agent, agent.pending_pause, now)
        else:
            self._available(agent, now, out)

    def _pause(self, agent: Agent, reason: str, now: float) -> None:
        """The agent (in no idle pool) starts a pause."""
        self._become(agent, AgentState.PAUSED)
        agent.pause_reason, agent.pending_pause = reason, None
        agent.pause_token += 1
        self._unstaff(agent, now)
        self._log(now, None, None, agent.name, JournalKind.PAUSE, reason)

    def _go_offline(self, agent: Agent, now: float, out: Out) -> None:
        self._unstaff(agent, now)
        self._become(agent, AgentState.OFFLINE)
        while agent.reserved:  # nobody waits for an agent who has left
            call, token = agent.reserved.popleft()
            if call.wait_token == token and call.state is CallState.WAITING:
                self._stop_reserving(call, now, out)
        agent.pending_logout = False
        agent.pending_pause = None
        agent.pause_reason = None
        self._log(now, None, None, agent.name, JournalKind.AGENTLOGOFF)
        for q in agent.queues:
            q.n_logged_in -= 1
            if q.n_logged_in == 0 and q.config.leave_when_empty:
                self._empty(q, now, out)

    # -- calls: queueing, hunting, offering ---------------------------------------------

    def _enter(self, call: Call, queue: QueueState, now: float, out: Out) -> None:
        """The call joins ``queue`` as its primary queue."""
        call.queue = queue
        if len(call.queues) != 1 or call.queues[0] is not queue:  # on arrival it is
            call.queues = [queue]
        call.entered_s = now
        call.queue_token += 1
        call.timers_started = False
        call.orig_position = queue.n_waiting + 1
        self._entries += 1  # the place in line is taken on entry and kept while ringing
        call.entries[queue.name] = self._entries
        if self.journal is not None:
            self._log(now, call.id, queue.name, None, JournalKind.ENTERQUEUE, "", call.ani)
        if not queue.config.join_empty and queue.n_logged_in == 0:
            self._log(now, call.id, queue.name, None, JournalKind.JOINEMPTY)
            self._apply(call, queue.config.on_empty, now, out, FINAL["on_empty"])
        elif call.preferred is not None and self._prefer(call, now, out):
            return
        elif not self._hunt(call, now, out):
            full = queue.config.max_waiting
            if full is not None and queue.n_waiting >= full:
                self._apply(call, queue.config.on_full, now, out, FINAL["on_full"])
            else:
                self._wait(call, now, out)

    def _prefer(self, call: Call, now: float, out: Out) -> bool:
        """Offer the call to its preferred agent, or let it wait for that agent alone."""
        agent = call.preferred
        assert agent is not None
        call.preferred = None  # one shot
        if agent.in_pools:
            self._ring(call, call.queue, [agent], now, out, _PREFERRED_RULE)
            return True
        if call.preferred_wait_s <= 0 or agent.state is AgentState.OFFLINE:
            return False
        call.state = CallState.WAITING
        call.wait_token += 1
        call.reserved_for = agent
        agent.reserved.append((call, call.wait_token))
        out.append(Enqueue(call.id, call.queue.name, 1, call.queue.expected_wait(1)))
        timer = Timer(TimerKind.PREFERRED, call.id, call.queue_token)
        out.append(StartTimer(timer, call.preferred_wait_s))
        self._start_timers(call, now, out)
        return True

    def _stop_reserving(self, call: Call, now: float, out: Out) -> None:
        """A call waiting for one agent now waits for any qualified agent, in its place."""
        self._unwait(call)
        call.state = CallState.NEW  # in no queue until it is offered or waits again
        if not self._hunt(call, now, out):
            self._wait(call, now, out)

    def _entry(self, call: Call, queue: QueueState) -> int:
        """The call's entry number into ``queue``: new on first entry, kept on requeue."""
        entry = call.entries.get(queue.name)
        if entry is None:
            self._entries += 1
            entry = call.entries[queue.name] = self._entries
        return entry

    def _wait(self, call: Call, now: float, out: Out) -> None:
        call.state = CallState.WAITING
        call.wait_token += 1
        call.tried.clear()
        position = 0
        for q in call.queues:
            p = q.push(call, self._entry(call, q))
            if q is call.queue:
                position = p
        queue = call.queue
        # QueueState.expected_wait, written out: once per waiting call
        expected = position * queue.handle_s / max(1, queue.n_logged_in)
        out.append(Enqueue(call.id, queue.name, position, expected))
        if queue.config.callback_above_s is not None:
            self._offer_callback(call, expected, out)
        self._start_timers(call, now, out)

    def _offer_callback(self, call: Call, expected_wait_s: float, out: Out) -> None:
        """Offer a callback once, when the expected wait is above the queue's threshold."""
        above = call.queue.config.callback_above_s
        if above is not None and expected_wait_s > above and not call.callback_offered:
            call.callback_offered = True
            out.append(OfferCallback(call.id, expected_wait_s))

    def _start_timers(self, call: Call, now: float, out: Out) -> None:
        """The queue's max-wait and overflow timers, once per queue entry."""
        if call.timers_started:
            return
        call.timers_started = True
        cfg = call.queue.config
        waited = now - call.entered_s
        if cfg.max_wait_s is not None:
            timer = Timer(TimerKind.MAX_WAIT, call.id, call.queue_token)
            out.append(StartTimer(timer, max(0.0, cfg.max_wait_s - waited)))
        if cfg.overflow_after_s is not None and cfg.overflow_to:
            timer = Timer(TimerKind.OVERFLOW, call.id, call.queue_token)
            out.append(StartTimer(timer, max(0.0, cfg.overflow_after_s - waited)))
        if cfg.announce_every_s is not None:
            timer = Timer(TimerKind.ANNOUNCE, call.id, call.queue_token)
            out.append(StartTimer(timer, cfg.announce_every_s))

    def _unwait(self, call: Call) -> None:
        call.wait_token += 1
        if call.reserved_for is not None:  # it waited for one agent, in no queue
            call.reserved_for = None
            return
        for q in call.queues:
            q.left(call)

    def _hunt(self, call: Call, now: float, out: Out) -> bool:
        """Offer the call to the best untried idle agent of its queues, primary first."""
        for q in call.queues:
            pool = q.pool
            if pool.live > 0:
                if q.strategy.rings_all:
                    agents = [a for a in pool.members() if a.name not in call.tried]
                    if agents:
                        self._ring(call, q, agents, now, out)
                        return True
                else:
                    agent = pool.pick(call.tried)
                    if agent is not None:
                        self._ring(call, q, [agent], now, out)
                        return True
            if q.chat and self._room:  # idle agents first, then those holding chats
                held = self._roomiest(q, call.tried)
                if held is not None:
                    self._ring(call, q, [held], now, out, _CHAT_RULE)
                    return True
        return False

    def _ring(
        self,
        call: Call,
        queue: QueueState,
        agents: list[Agent],
        now: float,
        out: Out,
        rule: str | None = None,
    ) -> None:
        if self.decisions is not None:
            self._decide(call, queue, agents, now, rule)
        if call.state is CallState.WAITING:
            self._unwait(call)
        if self._auto_answer or queue.pushed:  # chats and emails are pushed: no ringing
            self._connect(call, agents[0], now, now, out)
            return
        call.state = CallState.RINGING
        timeout = self.routing.ring_timeout_s
        for agent in agents:
            self._leave_idle(agent)
            self._become(agent, AgentState.RINGING)
            agent.call = call.id
            call.ring(agent.name, now)
            own = agent.ring_timeout_s  # an offer forwarded to a personal device rings longer
            out.append(Ring(call.id, agent.name, timeout if own is None else own))

    def _connect(self, call: Call, agent: Agent, rang_s: float, now: float, out: Out) -> None:
        """The agent answers the call (offered since ``rang_s``)."""
        self._leave_idle(agent)
        call.offers += ((rang_s, agent.name, OfferResult.ANSWERED, now - rang_s),)
        call.state = CallState.TALKING
        if call.answer_s is None:  # a transferred call keeps its first answer
            call.answer_s = now
        call.connected_s = now
        call.agent = agent
        self._become(agent, AgentState.TALKING)
        agent.call = call.id
        agent.misses = 0
        agent.calls_taken += 1
        out.append(Connect(call.id, agent.name))
        if self.journal is not None:
            hold = round(now - call.entered_s)
            ring = round(now - rang_s)
            self._log(
                now, call.id, call.queue.name, agent.name, JournalKind.CONNECT, hold, "", ring
            )
        if call.queue.chat:
            agent.chats.append(call)
            self._chat_room(agent, now, out)

    def _decide(
        self, call: Call, queue: QueueState, agents: list[Agent], now: float, rule: str | None
    ) -> None:
        assert self.decisions is not None
        pool = queue.pool
        held = [self._agents[name] for name in call.tried]
        tried = sorted(a.name for a in held if a.in_pools and pool in a.pools)
        if rule is None:  # the pool's order decided
            best, count = pool.best(TRACE_TOP, call.tried), pool.live - len(tried)
        else:  # a rule named these agents
            best, count = agents[:TRACE_TOP], len(agents)
        self.decisions.append(
            Decision(
                at_s=now,
                call=call.id,
                queue=queue.name,
                strategy=queue.strategy.name,
                candidates=tuple(Candidate(a.name, pool.score(a)) for a in best),
                n_candidates=count,
                excluded=tuple((a, "already offered in this hunt") for a in tried[:TRACE_TOP]),
                chosen=tuple(a.name for a in agents),
                rule=rule or queue.strategy.rule,
            )
        )

    def _cancel_rings(self, call: Call, now: float, out: Out) -> list[Agent]:
        """Stop every ring of the call; returns the agents to release."""
        freed = []
        for name, start in call.ringing.items():
            out.append(CancelRing(call.id, name))
            call.offers += ((start, name, OfferResult.CANCELLED, now - start),)
            self._log(now, call.id, call.queue.name, name, JournalKind.RINGCANCELED)
            freed.append(self._agents[name])
        call.rings_over()
        return freed

    def _after_miss(self, call: Call, now: float, out: Out) -> None:
        """Nobody rings for the call any more: hunt on, else the exhausted-hunt action."""
        if self._hunt(call, now, out):
            return
        action = self.routing.on_hunt_exhausted
        if action.kind is ActionKind.REQUEUE:
            call.tried.clear()  # a new round: every idle agent may be offered again
            if not self._hunt(call, now, out):
                self._wait(call, now, out)  # back in its place: entry order is kept
        else:
            self._apply(call, action, now, out)

    def _apply(
        self, call: Call, action: Action, now: float, out: Out, final: Action = CLOSE
    ) -> None:
        """Take the call out of the queue flow: to another queue or to an end.

        A move to another queue is a routing loop when the call has already left as many
        queues as there are at this instant (a chain without a loop leaves each queue at
        most once): the call takes ``final`` instead, the end of the field that moved it
        (``FINAL``), and the decision trace says why."""
        if action.kind is ActionKind.QUEUE and self._looping(call, action, final, now):
            action = final
        freed: list[Agent] = []
        if call.state is CallState.WAITING:
            self._unwait(call)
        elif call.state is CallState.RINGING:
            freed = self._cancel_rings(call, now, out)
        call.state = CallState.DONE
        if action.message:
            out.append(PlayMessage(call.id, action.message))
        if action.kind is ActionKind.QUEUE:
            assert action.target is not None  # AcdConfig.check
            call.state = CallState.NEW
            self._enter(call, self._queues[action.target], now, out)
        else:
            outcome, kind = _TERMINAL[action.kind]
            self._log(now, call.id, call.queue.name, None, kind, action.target or "")
            if action.kind is ActionKind.VOICEMAIL:
                out.append(SendToVoicemail(call.id, call.queue.name))
            elif action.kind is ActionKind.NOTE:
                out.append(TakeNote(call.id, call.queue.name))
            elif action.kind is ActionKind.FORWARD:
                out.append(Forward(call.id, action.target or ""))
            self._finish(call, outcome, now, out)
        for agent in freed:
            self._release(agent, now, out)

    def _looping(self, call: Call, action: Action, final: Action, now: float) -> bool:
        """Count the call's move out of its queue; True when it is one too many."""
        if call.moved_s != now:
            call.moved_s = now
            call.moves = ()
        call.moves += (call.queue.name,)
        if len(call.moves) <= len(self._queues):
            return False
        if self.decisions is not None:
            path = " -> ".join([*call.moves, action.target or ""])
            queue = call.queue
            self.decisions.append(
                Decision(
                    at_s=now,
                    call=call.id,
                    queue=queue.name,
                    strategy=queue.strategy.name,
                    candidates=(),
                    n_candidates=0,
                    excluded=(),
                    chosen=(),
                    rule=f"routing loop: move {len(call.moves)} at this instant ({path}) is "
                    f"more than the {len(self._queues)} queues allow; {final.kind.value} instead",
                )
            )
        return True

    def _finish(self, call: Call, outcome: Outcome, now: float, out: Out) -> None:
        """A call ends before an agent talks with it (again, after a transfer)."""
        if call.transfers and outcome is not Outcome.INTERRUPTED:
            outcome = Outcome.ANSWERED  # its first queue answered it
        call.state = CallState.DONE
        call.end_s = now
        del self._calls[call.id]
        if call.callback_s is None:
            self._on_line -= 1
        out.append(End(call.id, outcome))
        self._record(call, outcome, 0.0)

    def _record(self, call: Call, outcome: Outcome, wrap_up_s: float) -> None:
        """The call's record, written once when it is over: the one place its fields are
        decided, appended to ``records`` as a ``CallRecord`` or, with ``columns``, to the
        columns (the fields a day's statistics read)."""
        answered = call.answer_s is not None
        stop = call.answer_s if call.answer_s is not None else call.end_s
        ring_s = 0.0
        for offer in call.offers:
            ring_s += offer[3]
        wait_s = stop - call.queued_s
        talk_s = call.talk_s if answered else 0.0
        agent = call.agent
        columns = self.columns
        if columns is not None:
            columns.call.append(call.id)
            columns.queue.append(self._queues[call.first_queue].index)
            columns.final_queue.append(call.queue.index)
            columns.outcome.append(outcome_index(outcome))
            columns.agent.append(agent.index if agent is not None else -1)
            columns.arrival_s.append(call.arrival_s)
            columns.queued_s.append(call.queued_s)
            columns.wait_s.append(wait_s)
            columns.ring_s.append(ring_s)
            columns.talk_s.append(talk_s)
            columns.wrap_up_s.append(wrap_up_s)
            columns.callback_s.append(call.callback_s)
            columns.overflowed.append(call.overflowed)
            return
        self.records.append(
            _tuple(
                _RECORD,
                (
                    call.id,
                    call.first_queue,
                    call.queue.name,
                    call.ani,
                    call.dnis,
                    call.priority,
                    call.arrival_s,
                    call.queued_s,
                    tuple([_tuple(_OFFER, offer) for offer in call.offers]),
                    call.answer_s,
                    call.end_s,
                    outcome,
                    agent.name if agent is not None else None,
                    wait_s,
                    ring_s,
                    talk_s,
                    wrap_up_s,
                    call.ended_by,
                    call.overflowed,
                    call.transfers,
                    call.callback_s,
                ),
            )
        )

    def _end_talk(
        self, call: Call, by: Party, wrap_up_s: float | None, now: float, out: Out
    ) -> None:
        agent = call.agent
        assert agent is not None
        assert call.answer_s is not None
        call.state = CallState.WRAP_UP
        if call.callback_s is None:
            self._on_line -= 1
        call.end_s = now
        call.ended_by = by
        talk = self._leg_over(call, agent, now)
        out.append(
            End(call.id, Outcome.CALLBACK_FAILED if call.callback_failed else Outcome.ANSWERED)
        )
        if self.journal is not None:
            kind = JournalKind.COMPLETEAGENT if by is Party.AGENT else JournalKind.COMPLETECALLER
            hold = round(call.answer_s - call.entered_s)
            self._log(
                now,
                call.id,
                call.queue.name,
                agent.name,
                kind,
                hold,
                round(talk),
                call.orig_position,
            )
        if call.queue.chat:  # a chat has no wrap-up: it is over, the agent goes on
            del self._calls[call.id]
            call.state = CallState.DONE
            call.queue.handled(call.talk_s)
            self._record(call, Outcome.ANSWERED, 0.0)
            if self._drop_chat(call, agent):
                self._release(agent, now, out)
            else:
                self._chat_room(agent, now, out)
            return
        self._start_wrap(agent, wrap_up_s, call.queue, now, out)

    def _leg_over(self, call: Call, agent: Agent, now: float) -> float:
        """The current agent's talk with the call ends now; returns its length."""
        talk = now - call.connected_s
        agent.talk_s_total += talk
        call.talk_s += talk
        return talk

    def _start_wrap(
        self, agent: Agent, wrap_up_s: float | None, queue: QueueState, now: float, out: Out
    ) -> None:
        wrap = wrap_up_s if wrap_up_s is not None else queue.config.wrap_up_s
        if wrap is None or wrap > 0:  # none: the agent's wrap-up ends at once, and its
            self._become(agent, AgentState.WRAP_UP)  # state changes once, on release
        agent.wrap_started_s = now
        agent.wrap_ends_s = None if wrap is None else now + max(wrap, 0.0)
        agent.wrap_token += 1
        if wrap is None:
            return  # open-ended: the agent says when they are ready
        if wrap <= 0:
            self._end_wrap(agent, now, out)
        else:
            out.append(StartTimer(Timer(TimerKind.WRAP_UP, agent.name, agent.wrap_token), wrap))

    def _end_wrap(self, agent: Agent, now: float, out: Out) -> None:
        assert agent.call is not None
        call = self._calls.get(agent.call)
        wrap = now - agent.wrap_started_s
        ours = call is not None and call.agent is agent and call.state is CallState.WRAP_UP
        if self.journal is not None and wrap > 0:
            queue = call.queue.name if call is not None else None
            self._log(now, agent.call, queue, agent.name, JournalKind.WRAPUPEND, round(wrap))
        if ours:  # the call ends with its last agent's wrap-up (not after a transfer)
            assert call is not None
            del self._calls[call.id]
            call.state = CallState.DONE
            if call.callback_failed:
                self._record(call, Outcome.CALLBACK_FAILED, wrap)
            else:
                call.queue.handled(call.talk_s + wrap)
                self._record(call, Outcome.ANSWERED, wrap)
        self._release(agent, now, out)

    def _overflow(self, call: Call, now: float, out: Out) -> None:
        """The call is also offered to the agents of the overflow queues."""
        added = [
            self._queues[name]
            for name in call.queue.config.overflow_to
            if self._queues[name] not in call.queues
        ]
        if not added:
            return
        self._log(
            now,
            call.id,
            call.queue.name,
            None,
            JournalKind.OVERFLOW,
            ",".join(q.name for q in added),
        )
        call.queues.extend(added)
        call.overflowed += tuple(q.name for q in added)
        if call.state is CallState.WAITING and call.reserved_for is None:
            for q in added:
                q.push(call, self._entry(call, q))
            self._hunt(call, now, out)

    def _empty(self, queue: QueueState, now: float, out: Out) -> None:
        """The queue's last agent left: waiting calls with no staffed queue get on_empty."""
        calls = [
            e[3]
            for e in sorted(queue.heap)
            if e[3].wait_token == e[2] and all(q.n_logged_in == 0 for q in e[3].queues)
        ]
        for call in calls:
            if self.journal is not None:
                pos = queue.position(call)
                waited = round(now - call.entered_s)
                self._log(
                    now,
                    call.id,
                    queue.name,
                    None,
                    JournalKind.EXITEMPTY,
                    pos,
                    call.orig_position,
                    waited,
                )
            self._apply(call, queue.config.on_empty, now, out, FINAL["on_empty"])

    # -- event handlers -----------------------------------------------------------------

    def _new_call_queue(self, ev: Event, call: CallId, name: str) -> QueueState:
        """The queue ``name`` of ``call``, about to start by ``ev``; its id must be free."""
        if call in self._calls:
            raise InvalidEventError(_refused(ev, f"call {call!r} is already in progress"))
        queue = self._queues.get(name)
        if queue is None:
            known = ", ".join(self._queues)
            raise InvalidEventError(
                _refused(ev, f"queue {name!r} is not configured (queues: {known})")
            )
        return queue

    def _on_call_arrived(self, ev: CallArrived, now: float, out: Out) -> None:
        queue = self._new_call_queue(ev, ev.call, ev.queue)
        priority = ev.priority if ev.priority is not None else queue.config.priority
        call = Call(ev.call, queue, ev.ani, ev.dnis, priority, now)
        if ev.preferred_agent is not None:
            preferred = self._agents.get(ev.preferred_agent)
            if preferred is not None and queue in preferred.queues:
                call.preferred = preferred
                call.preferred_wait_s = ev.preferred_wait_s
        self._arrivals += 1
        call.seq = self._arrivals
        self._calls[ev.call] = call
        self._on_line += 1
        if self._lines is not None and self._on_line > self._lines:
            self._log(now, call.id, queue.name, None, JournalKind.FULL, "lines")
            self._finish(call, Outcome.BUSY, now, out)
            return
        self._enter(call, queue, now, out)

    def _on_call_diverted(self, ev: CallDiverted, now: float, out: Out) -> None:
        queue = self._new_call_queue(ev, ev.call, ev.queue)
        if ev.outcome not in _DIVERTED:
            allowed = ", ".join(sorted(o.value for o in _DIVERTED))
            raise InvalidEventError(_refused(ev, f"outcome {ev.outcome!r} is not one of {allowed}"))
        call = Call(ev.call, queue, ev.ani, ev.dnis, queue.config.priority, now)
        self._calls[ev.call] = call
        self._on_line += 1
        self._finish(call, ev.outcome, now, out)

    def _ringing(self, ev: AgentAnswered | AgentRejected | RingTimedOut) -> Call | None:
        """The call that rings ``ev.agent``, or None if the offer is over (a late event:
        answered elsewhere, cancelled, timed out, or the call ended)."""
        call = self._calls.get(ev.call)
        if call is not None and ev.agent in call.ringing:
            return call
        self._agent(ev.agent, ev)
        if call is not None and not any(o[1] == ev.agent for o in call.offers):
            raise InvalidEventError(
                _refused(ev, f"call {ev.call!r} was never offered to agent {ev.agent!r}")
            )
        return None

    def _on_answered(self, ev: AgentAnswered, now: float, out: Out) -> None:
        call = self._ringing(ev)
        if call is None:
            return
        self._connect(call, self._agents[ev.agent], call.ringing.pop(ev.agent), now, out)
        if call.ringing:  # ring_all: the others stop ringing
            for other in self._cancel_rings(call, now, out):
                self._release(other, now, out)

    def _on_rejected(self, ev: AgentRejected, now: float, out: Out) -> None:
        call = self._ringing(ev)
        if call is not None:
            self._missed(call, self._agents[ev.agent], OfferResult.REJECTED, now, out)

    def _on_ring_timed_out(self, ev: RingTimedOut, now: float, out: Out) -> None:
        call = self._ringing(ev)
        if call is not None:
            self._missed(call, self._agents[ev.agent], OfferResult.NO_ANSWER, now, out)

    def _missed(self, call: Call, agent: Agent, result: OfferResult, now: float, out: Out) -> None:
        start = call.ringing.pop(agent.name)
        call.offers += ((start, agent.name, result, now - start),)
        if self.journal is not None:
            self._log(
                now,
                call.id,
                call.queue.name,
                agent.name,
                JournalKind.RINGNOANSWER,
                round((now - start) * 1000),
            )
        agent.misses += 1
        limit = self.routing.max_no_answer
        self._become(agent, AgentState.PAUSED)  # off the pools until released below
        agent.call = None
        paused = bool(limit) and agent.misses >= limit and not agent.pending_logout
        if paused:
            agent.misses = 0
            agent.pending_pause = None
            self._pause(agent, NO_ANSWER, now)
            out.append(PauseAgent(agent.name, NO_ANSWER))
            pause_s = self.routing.no_answer_pause_s
            if pause_s is not None:
                timer = Timer(TimerKind.NO_ANSWER, agent.name, agent.pause_token)
                out.append(StartTimer(timer, pause_s))
        if not call.ringing:
            self._after_miss(call, now, out)
        if not paused:
            self._release(agent, now, out)

    def _on_hung_up(self, ev: CallerHungUp, now: float, out: Out) -> None:
        call = self._calls.get(ev.call)
        if call is None:
            return  # late: the call ended already
        state = call.state
        if state is CallState.TALKING:
            self._end_talk(call, Party.CALLER, None, now, out)
            return
        if state is CallState.WRAP_UP or call.callback_s is not None:
            return  # the talk is over, or the caller hung up when asking for a callback
        if self.journal is not None:
            pos = call.queue.position(call) if state is CallState.WAITING else 0
            waited = round(now - call.entered_s)
            self._log(
                now,
                call.id,
                call.queue.name,
                None,
                JournalKind.ABANDON,
                pos,
                call.orig_position,
                waited,
            )
        freed: list[Agent] = []
        if state is CallState.WAITING:
            self._unwait(call)
        elif state is CallState.RINGING:
            freed = self._cancel_rings(call, now, out)
        self._finish(call, Outcome.ABANDONED, now, out)
        for agent in freed:
            self._release(agent, now, out)

    def _on_callback_requested(self, ev: CallbackRequested, now: float, out: Out) -> None:
        call = self._calls.get(ev.call)
        if call is None or call.callback_s is not None:
            return  # late: it ended, or asked already
        if call.state is not CallState.WAITING:
            state = call.state.value
            raise InvalidEventError(_refused(ev, f"call {ev.call!r} is not waiting ({state})"))
        call.callback_s = now  # keeps its place; the caller's line is free
        self._on_line -= 1
        self._log(now, call.id, call.queue.name, None, JournalKind.CALLBACK)
        out.append(HoldPlace(call.id, call.queue.name))

    def _on_callback_unanswered(self, ev: CallbackUnanswered, now: float, out: Out) -> None:
        call = self._calls.get(ev.call)
        if call is None or call.state is CallState.WRAP_UP:
            return  # late
        if call.callback_s is None or call.state is not CallState.TALKING:
            raise InvalidEventError(
                _refused(ev, f"call {ev.call!r} is not a connected callback ({call.state.value})")
            )
        call.callback_failed = True
        self._end_talk(call, Party.AGENT, ev.wrap_up_s, now, out)

    def _dialling(self, ev: OutboundAnswered | OutboundUnanswered) -> Agent:
        agent = self._agent(ev.agent, ev)
        if agent.state is not AgentState.DIALLING:
            raise InvalidEventError(
                _refused(ev, f"agent {ev.agent!r} is not dialling ({agent.state.value})")
            )
        return agent

    def _on_outbound_answered(self, ev: OutboundAnswered, now: float, out: Out) -> None:
        agent = self._dialling(ev)
        assert self._blend is not None
        queue = self._new_call_queue(ev, ev.call, self._blend.name)
        call = Call(ev.call, queue, "", "", queue.config.priority, now)
        self._arrivals += 1
        call.seq = self._arrivals
        self._calls[ev.call] = call
        self._on_line += 1
        self._log(now, call.id, queue.name, agent.name, JournalKind.DIAL)
        self._connect(call, agent, now, now, out)

    def _on_outbound_unanswered(self, ev: OutboundUnanswered, now: float, out: Out) -> None:
        self._release(self._dialling(ev), now, out)

    def _on_call_ended(self, ev: CallEnded, now: float, out: Out) -> None:
        call = self._calls.get(ev.call)
        if call is None or call.state is CallState.WRAP_UP:
            return  # late: the talk ended already (the caller hung up first)
        if call.state is not CallState.TALKING:
            raise InvalidEventError(
                _refused(ev, f"call {ev.call!r} is not connected (it is {call.state.value})")
            )
        self._end_talk(call, ev.ended_by, ev.wrap_up_s, now, out)

    def _on_transferred(self, ev: CallTransferred, now: float, out: Out) -> None:
        call = self._calls.get(ev.call)
        if call is None or call.state is not CallState.TALKING:
            state = "over" if call is None else call.state.value
            raise InvalidEventError(_refused(ev, f"call {ev.call!r} is not connected ({state})"))
        if (ev.queue is None) == (ev.agent is None):
            raise InvalidEventError(_refused(ev, "name a queue or an agent to transfer to"))
        if call.queue.chat:
            raise InvalidEventError(_refused(ev, f"call {ev.call!r} is a chat: not transferred"))
        queue = self._queues.get(ev.queue) if ev.queue is not None else None
        if ev.queue is not None and queue is None:
            raise UnknownQueueError(f"{ev.queue!r} does not exist", field="queue")
        target = self._agent(ev.agent, ev) if ev.agent is not None else None
        if target is not None and not target.in_pools:
            raise InvalidEventError(
                _refused(ev, f"{target.name!r} is not ready to take it ({target.state.value})")
            )
        agent = call.agent
        assert agent is not None
        talk = self._leg_over(call, agent, now)
        call.transfers += (Transfer(now, agent.name, ev.queue, ev.agent),)
        out.append(Transferred(call.id, agent.name, ev.queue, ev.agent))
        if self.journal is not None:
            hold = round(call.connected_s - call.entered_s)
            to = ev.queue or ev.agent or ""
            self._log(
                now, call.id, call.queue.name, agent.name, JournalKind.BLINDTRANSFER, to, "",
                hold, round(talk), call.orig_position,
            )  # fmt: skip
        origin = call.queue
        call.tried.clear()
        call.entries.clear()  # a new stint: it joins every queue at the back
        call.state = CallState.NEW
        if queue is not None:
            self._enter(call, queue, now, out)
        else:
            assert target is not None
            self._ring(call, call.queue, [target], now, out, _TRANSFER_RULE)
        # routed first: the transferring agent, busy until now, is not offered it back
        self._start_wrap(agent, ev.wrap_up_s, origin, now, out)

    def _on_timer(self, ev: TimerExpired, now: float, out: Out) -> None:
        timer = ev.timer
        kind = timer.kind
        if kind is TimerKind.WRAP_UP or kind is TimerKind.NO_ANSWER:  # the agent's timers
            agent = self._agents.get(str(timer.subject))
            if agent is None:
                return
            if kind is TimerKind.WRAP_UP:
                if agent.state is AgentState.WRAP_UP and agent.wrap_token == timer.token:
                    self._end_wrap(agent, now, out)
            elif agent.state is AgentState.PAUSED and agent.pause_token == timer.token:
                self._unpause(agent, now, out)
            return
        call = self._calls.get(timer.subject)
        if call is None or call.queue_token != timer.token:
            return
        if call.state not in (CallState.WAITING, CallState.RINGING):
            return
        if timer.kind is TimerKind.PREFERRED:
            if call.reserved_for is not None and call.state is CallState.WAITING:
                self._stop_reserving(call, now, out)
            return
        if timer.kind is TimerKind.ANNOUNCE:
            every = call.queue.config.announce_every_s
            assert every is not None
            out.append(StartTimer(timer, every))  # the next one (dropped when it leaves)
            if call.state is CallState.WAITING and call.callback_s is None:
                position = 1 if call.reserved_for is not None else call.queue.position(call)
                expected = call.queue.expected_wait(position)
                out.append(Announce(call.id, call.queue.name, position, expected))
                self._offer_callback(call, expected, out)
            return
        if timer.kind is TimerKind.MAX_WAIT:
            if self.journal is not None:
                pos = call.queue.position(call) if call.state is CallState.WAITING else 0
                waited = round(now - call.entered_s)
                self._log(
                    now,
                    call.id,
                    call.queue.name,
                    None,
                    JournalKind.EXITWITHTIMEOUT,
                    pos,
                    call.orig_position,
                    waited,
                )
            self._apply(call, call.queue.config.on_max_wait, now, out, FINAL["on_max_wait"])
        else:
            self._overflow(call, now, out)

    def _on_logged_in(self, ev: AgentLoggedIn, now: float, out: Out) -> None:
        agent = self._agents.get(ev.agent)
        if agent is None:
            if ev.skills is None:
                raise UnknownAgentError(
                    _refused(ev, f"agent {ev.agent!r} is not known; give skills to create it")
                )
            if ev.chats < 1:
                raise InvalidEventError(_refused(ev, f"chats {ev.chats} is not >= 1"))
            agent = self._create_agent(ev.agent, ev.skills)
            agent.ring_timeout_s = ev.ring_timeout_s
            agent.max_chats = ev.chats
        elif ev.skills is not None:
            self._set_skills(agent, ev.skills, now, out)
        if agent.state is not AgentState.OFFLINE:
            agent.pending_logout = False
            if agent.chats:  # staying on: room for chats again
                self._chat_room(agent, now, out)
            return
        for q in agent.queues:
            q.n_logged_in += 1
        self._log(now, None, None, agent.name, JournalKind.AGENTLOGIN)
        if ev.paused_reason is not None:
            self._pause(agent, ev.paused_reason, now)
        else:
            self._staff(agent, now)
            self._available(agent, now, out)

    def _unpause(self, agent: Agent, now: float, out: Out) -> None:
        agent.pause_reason = None
        agent.misses = 0
        self._log(now, None, None, agent.name, JournalKind.UNPAUSE)
        self._staff(agent, now)
        self._available(agent, now, out)

    def _on_ready(self, ev: AgentReady, now: float, out: Out) -> None:
        agent = self._agent(ev.agent, ev)
        state = agent.state
        reason = ev.reason
        if reason is None or agent.pending_pause == reason:
            agent.pending_pause = None
        if state is AgentState.PAUSED:
            if reason is None or agent.pause_reason == reason:
                self._unpause(agent, now, out)
        elif state is AgentState.WRAP_UP and reason is None:
            self._end_wrap(agent, now, out)
        elif agent.chats:  # no pause to come: room for chats again
            self._chat_room(agent, now, out)

    def _on_paused(self, ev: AgentPaused, now: float, out: Out) -> None:
        agent = self._agent(ev.agent, ev)
        state = agent.state
        if state is AgentState.OFFLINE:
            return  # a scheduled pause of an agent who is not logged in
        if state is AgentState.READY:
            self._leave_idle(agent)
            self._pause(agent, ev.reason, now)
        elif state is AgentState.PAUSED:
            self._pause(agent, ev.reason, now)  # a new pause (reason) replaces the old one
        else:
            agent.pending_pause = ev.reason

    def _on_logged_out(self, ev: AgentLoggedOut, now: float, out: Out) -> None:
        agent = self._agent(ev.agent, ev)
        state = agent.state
        if state is AgentState.READY:
            self._leave_idle(agent)
            self._go_offline(agent, now, out)
        elif state is AgentState.PAUSED:
            self._go_offline(agent, now, out)
        elif state is AgentState.RINGING:
            assert agent.call is not None
            call = self._calls[agent.call]
            start = call.ringing.pop(agent.name)
            call.offers += ((start, agent.name, OfferResult.CANCELLED, now - start),)
            out.append(CancelRing(call.id, agent.name))
            agent.call = None
            self._go_offline(agent, now, out)
            if not call.ringing and call.state is CallState.RINGING:
                self._after_miss(call, now, out)
        elif state is not AgentState.OFFLINE:
            agent.pending_logout = True

    def _on_skills_changed(self, ev: SkillsChanged, now: float, out: Out) -> None:
        self._set_skills(self._agent(ev.agent, ev), ev.skills, now, out)

    def _on_stopped(self, ev: ServiceStopped, now: float, out: Out) -> None:
        freed: list[Agent] = []
        for call in list(self._calls.values()):
            state = call.state
            if state is CallState.WAITING:
                self._unwait(call)
            elif state is CallState.RINGING:
                freed.extend(self._cancel_rings(call, now, out))
            elif state is CallState.TALKING:
                assert call.agent is not None
                self._leg_over(call, call.agent, now)
                if not call.queue.chat or self._drop_chat(call, call.agent):
                    freed.append(call.agent)  # a chat's agent: once its last chat ends
            else:
                continue  # wrap-up: the call is over, its record comes below
            self._log(now, call.id, call.queue.name, None, JournalKind.INTERRUPTED)
            self._finish(call, Outcome.INTERRUPTED, now, out)
        for agent in freed:
            self._release(agent, now, out)
        for agent in list(self._agents.values()):  # wrap-ups end now: the records keep
            if agent.state is AgentState.WRAP_UP:  # their outcome, the wrap-up is cut short
                agent.pending_logout = True
                self._end_wrap(agent, now, out)
        for agent in self._agents.values():  # staffed time ends with the service
            if agent.staffed_since is not None:
                self._unstaff(agent, now)
                self._staff(agent, now)


def _refused(event: Event | None, reason: str) -> str:
    """An error message that names the event the core refused."""
    return reason if event is None else f"{type(event).__name__} refused: {reason}"


def _proficiency_key(skills: tuple[str, ...]) -> Callable[[Agent], tuple[float, ...]]:
    def key(agent: Agent) -> tuple[float, ...]:
        return (-agent.proficiency(skills),)

    return key


def _check_skills(agent: str, skills: Mapping[str, int]) -> None:
    for skill, level in skills.items():
        if not isinstance(level, int) or not 1 <= level <= 5:
            raise InvalidEventError(
                f"agent {agent!r}: skill {skill!r} has proficiency {level!r}; expected 1-5"
            )


def _at(offer: OfferView) -> float:
    return offer.at_s
