"""The live routing service without HTTP: a scenario's centre on the wall clock, its calls,
agents, offers, contacts, notes, tickets and event stream, kept in a database.

Every change goes the same way: an event for the core (``LiveCentre.handle`` or the
inbound flow), then the bookkeeping of what the core answered (``_watch``: rows, offer
names, records, staffed spans, decisions, events), staged in the batch of the event
loop's turn (``unit``). When the turn ends, everything it staged commits in one
transaction (``flush``: group commit, one transaction for all the requests and timers of
a turn rather than one each). Answers wait for it (``settled``: the API holds every
response until then), so an answer the API gives is durable; events are published after
it. Reads of the database commit what is staged first. Everything runs on the event
loop's thread: the core is never entered twice at a time. A call's status and an offer's
state are the core's (``status_of`` a ``CallView``, ``Acd.offer_state``); before an
accept or reject the timers due are fed first, so the core decides whether the ring
timed out.

On start, calls a previous run left open (it was killed) are closed ``interrupted`` and
agents start logged out; contacts, tickets and agents added over the API come back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson
from sqlalchemy import func, select, update

from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.analytics.metrics import (
    CallFacts,
    Frame,
    facts_of_results,
    first_contact_resolution,
    reduce_replication,
)
from callsim.core import (
    OFFER_STATE,
    Acd,
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentRejected,
    AgentState,
    Announce,
    CallArrived,
    CallbackRequested,
    CallbackUnanswered,
    CallEnded,
    CallerHungUp,
    CallRecord,
    CallState,
    CallTransferred,
    CallView,
    CancelRing,
    ClientBook,
    Command,
    Connect,
    Contact,
    ContactBook,
    Dial,
    End,
    Enqueue,
    Event,
    Forward,
    HoldPlace,
    InboundCall,
    InboundFlow,
    Offer,
    OfferCallback,
    OfferResult,
    OfferState,
    OutboundAnswered,
    OutboundUnanswered,
    Outcome,
    Party,
    PauseAgent,
    PlayMessage,
    Ring,
    SendToVoicemail,
    SkillsChanged,
    StaffedSpan,
    StartTimer,
    Status,
    TakeNote,
    TicketBook,
    Transfer,
    Transferred,
    check_callback,
    instruction_for,
    qualified,
    writes_note,
)
from callsim.core.contact import Interaction, Order
from callsim.core.inbound import Identification, PolicyResult
from callsim.core.practice import score_handling
from callsim.core.ticket import ALLOWED, Change, Ticket
from callsim.errors import (
    InputError,
    InvalidEventError,
    NotFoundError,
    PolicyError,
    RoutingError,
    UnknownAgentError,
    UnknownCallError,
    UnknownClientError,
    UnknownContactError,
    UnknownQueueError,
)
from callsim.live.driver import LiveCentre
from callsim.live.roles import ROLES
from callsim.scenario import Scenario, scenario_hash
from callsim.scenario.centre import acd_config, caller_routing, centre_zone, clients, queue_means
from callsim.store import Store, tables

EVENT_BUFFER = 100_000  # the stream's recent events kept in memory for resuming
MAX_WAIT_POLL_S = 60.0
LAG_PROBE_S = 0.05  # the event loop's timer lag is sampled this often
LAG_SAMPLES = 1200  # the last minute of samples


class GoneError(RoutingError):
    """An offer that rang out or whose caller left: it can no longer be accepted."""

    http_status = 410


@dataclasses.dataclass(frozen=True, slots=True)
class OfferKey:
    """The API's name for one offer of the core (``{call}-{k}``, k counting the call's
    rings) and the offer it names: the call, the agent rung and when. Its state is the
    core's (``Acd.offer_state``)."""

    id: str
    call: int
    agent: str
    at_s: float


@dataclasses.dataclass(slots=True)
class OpenCall:
    """A call while it is open, as the shell keeps it: its row (as stored), what the inbound
    flow decided, the names of its offers, the note being written and a practice card. Its
    state is the core's (``Acd.call_view``)."""

    id: int
    row: dict[str, Any]
    inbound: InboundCall | None = None
    offers: list[OfferKey] = dataclasses.field(default_factory=list)
    draft: str = ""  # the note as the agent is writing it (for a supervisor to follow)
    practice: Mapping[str, Any] | None = None  # a practice call's card


def status_of(view: CallView) -> str:
    """An open call's status as the API and the store say it, from the core's state."""
    state = view.state
    if state is CallState.WAITING:
        return "queued" if view.callback_s is None else "callback"
    if state is CallState.NEW:
        return "transferred" if view.transferred else "arriving"
    if state is CallState.WRAP_UP and view.callback_failed:  # over: the agent wraps up
        return Outcome.CALLBACK_FAILED.value
    return str(state.value)  # ringing, talking, wrap_up


class _Day:
    """One calendar day's ended calls as records on the day's clock (seconds since its
    midnight), numbered 0, 1, ... in the order they were recorded, with each call's
    policy result and client; and running call counts per client key (None: every call),
    each with how many records it has counted. Kept for today as calls are recorded, so
    statistics never read the day back from the database."""

    __slots__ = ("clients", "counts", "date", "end", "midnight", "records", "results")

    def __init__(self, date: Any, midnight: float, end: float) -> None:
        self.date = date
        self.midnight = midnight
        self.end = end  # the next midnight (a day of 23 or 25 hours when the clocks change)
        self.records: list[CallRecord] = []
        self.results: list[str] = []
        self.clients: list[str | None] = []
        self.counts: dict[str | None, tuple[int, dict[str, np.ndarray]]] = {}

    def add(self, row: Any) -> None:
        self.records.append(record_of(row, self.midnight)._replace(call=len(self.records)))
        self.results.append(row.policy_result)
        self.clients.append(row.client)

    def facts(self, picked: Sequence[int]) -> CallFacts:
        return facts_of_results([-1] * len(picked), [self.results[i] for i in picked])


class _Batch:
    """What one unit of work writes."""

    __slots__ = ("agent_events", "calls", "contacts", "decisions", "events", "extra", "spans")

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}  # the rows of calls changed (live dicts)
        self.events: list[dict[str, Any]] = []
        self.agent_events: list[dict[str, Any]] = []
        self.spans: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        self.contacts: set[int] = set()
        self.extra: list[tuple[Any, list[dict[str, Any]], bool]] = []  # (table, rows, upsert)

    def __bool__(self) -> bool:
        return bool(
            self.calls or self.events or self.agent_events or self.spans or self.decisions
            or self.contacts or self.extra
        )  # fmt: skip

    def take(self) -> _Batch:
        """A batch holding what this one holds; this one is left empty."""
        taken = _Batch()
        for name in self.__slots__:
            value = getattr(self, name)
            setattr(self, name, getattr(taken, name))
            setattr(taken, name, value)
        return taken


class Service:
    """One routing centre on the wall clock. Create it inside the running event loop."""

    def __init__(
        self,
        scenario: Scenario,
        store: Store,
        *,
        speedup: float = 1.0,
        scenario_name: str = "",
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.scenario = scenario
        self.store = store
        self._wall = wall
        self.zone = centre_zone(scenario)
        self.clients = ClientBook(clients(scenario))
        self._client_by_name = {c.name: c for c in self.clients.clients.values()}
        self.queues = tuple(q.name for q in scenario.queues)
        self.interval_s = scenario.horizon.interval_min * 60.0
        self._recover()
        started = wall()
        self.epoch_unix = started
        with store.transaction() as conn:
            self.run = int(
                conn.execute(
                    tables.runs.insert().values(
                        started_unix=started,
                        epoch_unix=started,
                        speedup=speedup,
                        scenario=scenario_name[:200],
                        scenario_hash=scenario_hash(scenario),
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
        self.agent_skills = self._load_agents()
        config = acd_config(scenario, wrap_up_s=queue_means(scenario, "wrap_up_s"))
        # agents on a personal device: the number their offers go to, and the ring time
        self.devices = {a.name: (a.device, a.ring_timeout_s) for a in config.agents if a.device}
        config = dataclasses.replace(config, agents=())
        self.acd = Acd(config, trace=True)
        self.contacts = self._load_contacts()
        self.tickets = self._load_tickets()
        epoch = datetime.fromtimestamp(started, self.zone)
        self.flow = InboundFlow(self.clients, self.contacts, epoch, caller_routing(scenario))
        self.centre = LiveCentre(self.acd, self.flow, speedup=speedup)
        self.centre.watch(self._watch)
        self.calls: dict[int, OpenCall] = {}
        self.offers: dict[str, OfferKey] = {}  # the open calls' offers by name
        self.agent_since: dict[str, float] = {}  # when each agent's state last changed
        self.agent_reason: dict[str, str | None] = {}
        self._offer_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._next_call = int(store.scalar(select(func.max(tables.calls.c.id))) or 0) + 1
        self._next_event = int(store.scalar(select(func.max(tables.events.c.id))) or 0) + 1
        self.recent: deque[dict[str, Any]] = deque(maxlen=EVENT_BUFFER)
        self._subscribers: list[asyncio.Queue[dict[str, Any]]] = []
        self._loop = asyncio.get_running_loop()
        self._staged = _Batch()  # what this turn of the event loop changed
        self._flush_due = False
        self._waiters: list[asyncio.Future[None]] = []
        self._counters: dict[str, int] = {}  # next ids of notes (max + 1 on first use)
        self._today: _Day | None = None  # today's records, from the first statistics asked
        self.stopped = False
        self.lag_s: deque[float] = deque(maxlen=LAG_SAMPLES)
        self._probe(asyncio.get_running_loop().time())

    # -- start and stop -----------------------------------------------------------------

    def _recover(self) -> None:
        """Close what a killed run left open: its live calls end ``interrupted``."""
        c = tables.calls.c
        with self.store.transaction() as conn:
            conn.execute(
                update(tables.calls)
                .where(c.outcome.is_(None))
                .values(outcome=Outcome.INTERRUPTED.value, status=Outcome.INTERRUPTED.value)
            )

    def _load_agents(self) -> dict[str, dict[str, int]]:
        """Every agent: the scenario's, then those added or changed over the API."""
        skills = {
            f"{g.name}-{k}": g.skill_levels()
            for g in self.scenario.agents
            for k in range(1, g.count + 1)
        }
        for row in self.store.rows(select(tables.agents)):
            skills[row.id] = json.loads(row.skills)
        return skills

    def _load_contacts(self) -> ContactBook:
        book = ContactBook()
        for row in self.store.rows(select(tables.contacts).order_by(tables.contacts.c.id)):
            book.restore(_contact(json.loads(row.data)))
        return book

    def _load_tickets(self) -> TicketBook:
        book = TicketBook()
        for row in self.store.rows(select(tables.tickets).order_by(tables.tickets.c.id)):
            book.restore(_ticket(json.loads(row.data)))
        return book

    def stop(self) -> None:
        """The graceful shutdown: open calls end ``interrupted`` (recorded), timers stop."""
        if self.stopped:
            return
        self.centre.stop()
        self.flush()
        self.stopped = True
        with self.store.transaction() as conn:
            conn.execute(
                update(tables.runs)
                .where(tables.runs.c.id == self.run)
                .values(stopped_unix=self._wall())
            )
        for waiters in self._offer_waiters.values():
            for w in waiters:
                if not w.done():
                    w.set_result(None)

    # -- time -------------------------------------------------------------------------------

    def _probe(self, due: float) -> None:
        """Sample how late the event loop runs a timer (what every core timer suffers)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.lag_s.append(max(now - due, 0.0))
        if not self.stopped:
            loop.call_at(now + LAG_PROBE_S, self._probe, now + LAG_PROBE_S)

    def timer_lag_ms(self) -> dict[str, float]:
        """The timer lag's p50, p99 and maximum over the last minute, milliseconds."""
        if not self.lag_s:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0}
        p50, p99 = np.percentile(np.array(self.lag_s), [50, 99])
        return {
            "p50": round(p50 * 1e3, 3),
            "p99": round(p99 * 1e3, 3),
            "max": round(max(self.lag_s) * 1e3, 3),
        }

    def now(self) -> float:
        return self.centre.now()

    def unix(self, at_s: float) -> float:
        """The calendar time (Unix seconds) of ``at_s`` on this run's scenario clock."""
        return self.epoch_unix + at_s

    # -- units of work ----------------------------------------------------------------------

    def unit(self) -> _Batch:
        """What this turn of the event loop stages: every change made in the turn commits
        in one transaction when the turn ends (group commit; see ``flush``)."""
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self.flush)
        return self._staged

    def flush(self) -> None:
        """Commit what is staged, then wake those waiting in ``settled`` (an answer leaves
        only after its changes committed) and publish the events."""
        self._flush_due = False
        waiters, self._waiters = self._waiters, []
        try:
            if self._staged:
                self._commit(self._staged.take())
        except Exception as exc:  # the store failed: every waiting answer reports it
            for w in waiters:
                if not w.done():
                    w.set_exception(exc)
            if not waiters:
                raise
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)

    async def settled(self) -> None:
        """Return once everything staged so far has committed (at once if nothing is)."""
        if self._flush_due or self._staged:
            self.unit()
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            await waiter

    def read(self, query: Any) -> list[Any]:
        """Read the database after committing what is staged, so reads see every change."""
        if self._staged:
            self.flush()
        return self.store.rows(query)

    def _commit(self, batch: _Batch) -> None:
        store = self.store
        with store.transaction() as conn:
            store.upsert(conn, tables.calls, list(batch.calls.values()))  # rows as they are
            store.insert(conn, tables.events, [self._event_row(e) for e in batch.events])
            store.insert(conn, tables.agent_events, batch.agent_events)
            store.insert(conn, tables.spans, batch.spans)
            store.insert(conn, tables.decisions, batch.decisions)
            store.upsert(conn, tables.contacts, [self._contact_row(i) for i in batch.contacts])
            for table, rows, upsert in batch.extra:
                (store.upsert if upsert else store.insert)(conn, table, rows)
        for event in batch.events:  # published once durable
            self.recent.append(event)
            for queue in self._subscribers:
                queue.put_nowait(event)

    def _event_row(self, event: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": event["id"],
            "type": event["type"],
            "at_s": event["at_s"],
            "at_unix": self.unix(event["at_s"]),
            "data": dumps(event),
        }

    def _contact_row(self, contact_id: int) -> dict[str, Any]:
        contact = self.contacts.contacts[contact_id]
        return {
            "id": contact_id,
            "data": dumps(jsonable(contact)),
            "updated_unix": self._wall(),
        }

    def _emit(self, batch: _Batch, kind: str, at_s: float, **fields: Any) -> None:
        event = {"id": self._next_event, "type": kind, "at_s": round(at_s, 3), **fields}
        self._next_event += 1
        batch.events.append(event)

    # -- what the core answered -------------------------------------------------------------

    def _watch(self, event: Event, commands: list[Command], now: float) -> None:
        batch = self.unit()
        touched: dict[int, None] = {}  # the calls the commands named, in order
        for command in commands:
            self._apply(batch, command, now, touched)
        for record in self.acd.take_records():
            self._record(batch, record)
        for call_id in touched:
            call = self.calls.get(call_id)
            view = self.acd.call_view(call_id) if call is not None else None
            if call is not None and view is not None:
                self._set(batch, call, status=status_of(view))
        for span in self.acd.take_spans():
            batch.spans.append(
                {
                    "run": self.run,
                    "agent": span.agent,
                    "queues": dumps(span.queues),
                    "start_s": span.start_s,
                    "end_s": span.end_s,
                    "start_unix": self.unix(span.start_s),
                    "end_unix": self.unix(span.end_s),
                }
            )
        for d in self.acd.take_decisions():
            batch.decisions.append({"call": int(d.call), "data": dumps(jsonable(d))})

    def _apply(self, batch: _Batch, command: Command, now: float, touched: dict[int, None]) -> None:
        kind = type(command)
        if kind is StartTimer:
            return
        call = self.calls.get(int(command.call)) if hasattr(command, "call") else None
        fields: dict[str, Any] = {}
        if call is not None:
            touched[call.id] = None
            fields = {"call_id": call.id, "queue": call.row["queue"], "client": call.row["client"]}
        if kind is Enqueue:
            assert isinstance(command, Enqueue)
            if call is not None:
                self._set(batch, call, queue=command.queue)
                call.row["position"] = command.position
                fields["queue"] = command.queue
            self._emit(batch, "queued", now, **fields, position=command.position,
                       expected_wait_s=round(command.expected_wait_s, 1))  # fmt: skip
        elif kind is Ring:
            assert isinstance(command, Ring)
            if call is not None:
                offer = OfferKey(f"{call.id}-{len(call.offers) + 1}", call.id, command.agent, now)
                call.offers.append(offer)
                self.offers[offer.id] = offer
                self._wake(command.agent)
                fields["offer_id"] = offer.id
            self._agent_changed(command.agent, now)
            device = (
                {"device": self.devices[command.agent][0]} if command.agent in self.devices else {}
            )
            self._emit(
                batch, "ring", now, **fields, agent=command.agent, timeout_s=command.timeout_s,
                **device,
            )  # fmt: skip
        elif kind is CancelRing:
            assert isinstance(command, CancelRing)
            self._agent_changed(command.agent, now)
            self._emit(batch, "ring_cancelled", now, **fields, agent=command.agent)
        elif kind is Connect:
            assert isinstance(command, Connect)
            if call is not None:
                self._set(batch, call, agent=command.agent)
            self._agent_changed(command.agent, now)
            self._emit(batch, "connected", now, **fields, agent=command.agent)
        elif kind is End:
            assert isinstance(command, End)
            if call is not None:
                agent = call.row["agent"]
                if agent is not None:
                    self._agent_changed(agent, now)
            self._emit(batch, "ended", now, **fields, outcome=command.outcome.value)
        elif kind is Transferred:
            assert isinstance(command, Transferred)
            if call is not None:
                done = json.loads(call.row["transfers"])
                done.append(jsonable(Transfer(now, command.agent, command.queue, command.to_agent)))
                queue = command.queue or call.row["queue"]  # where it is now (the record
                # keeps its first queue)
                self._set(batch, call, agent=None, queue=queue, transfers=dumps(done))
            self._agent_changed(command.agent, now)
            self._emit(
                batch, "transferred", now, **fields, agent=command.agent,
                to_queue=command.queue, to_agent=command.to_agent,
            )  # fmt: skip
        elif kind is PauseAgent:
            assert isinstance(command, PauseAgent)
            self._agent_event(batch, command.agent, "pause", command.reason, now)
        elif kind is Dial:
            assert isinstance(command, Dial)
            self._agent_changed(command.agent, now)
            self._emit(batch, "dial", now, agent=command.agent, queue=command.queue)
        elif kind is HoldPlace:
            if call is not None:
                self._set(batch, call, callback_s=now)
            self._emit(batch, "callback_requested", now, **fields)
        else:
            assert isinstance(
                command, PlayMessage | SendToVoicemail | TakeNote | Forward | Announce
                | OfferCallback
            )  # fmt: skip
            names = {
                PlayMessage: "message",
                SendToVoicemail: "voicemail",
                TakeNote: "note",
                Forward: "forward",
                Announce: "announcement",
                OfferCallback: "callback_offered",
            }
            extra = {k: v for k, v in jsonable(command).items() if k != "call"}
            self._emit(batch, names[kind], now, **fields, **extra)

    def _set(self, batch: _Batch, call: OpenCall, **values: Any) -> None:
        call.row.update(values)
        batch.calls[call.id] = call.row  # stored at the commit, in its state then

    def _record(self, batch: _Batch, record: CallRecord) -> None:
        call = self.calls.pop(int(record.call), None)
        if call is None:  # not a call of this run: nothing to write
            return
        for offer in call.offers:
            self.offers.pop(offer.id, None)
        if record.agent is not None and record.agent == call.row["agent"]:
            self._agent_changed(record.agent, record.end_s)
        self._set(
            batch,
            call,
            status=record.outcome.value,
            outcome=record.outcome.value,
            queue=record.queue,  # the first queue (a live call shows where it is now)
            final_queue=record.final_queue,
            priority=record.priority,
            queued_s=record.queued_s,
            answer_s=record.answer_s,
            end_s=record.end_s,
            agent=record.agent,
            wait_s=record.wait_s,
            ring_s=record.ring_s,
            talk_s=record.talk_s,
            wrap_up_s=record.wrap_up_s,
            ended_by=record.ended_by.value if record.ended_by else None,
            overflowed=dumps(record.overflowed),
            offers=dumps([jsonable(o) for o in record.offers]),
            transfers=dumps([jsonable(t) for t in record.transfers]),
            callback_s=record.callback_s,
        )
        self._emit(
            batch,
            "recorded",
            record.end_s + record.wrap_up_s,
            call_id=call.id,
            queue=record.queue,
            client=call.row["client"],
            outcome=record.outcome.value,
            agent=record.agent,
        )  # fmt: skip  (the record is final: statistics count it from now)
        day = self._today
        if day is not None and day.midnight <= call.row["arrived_unix"] < day.end:
            day.add(SimpleNamespace(**call.row))

    def _agent_changed(self, agent: str, now: float) -> None:
        self.agent_since[agent] = now

    def _agent_event(
        self, batch: _Batch, agent: str, kind: str, reason: str | None, now: float
    ) -> None:
        self.agent_since[agent] = now
        self.agent_reason[agent] = reason
        batch.agent_events.append(
            {
                "run": self.run,
                "agent": agent,
                "kind": kind,
                "reason": reason,
                "at_s": now,
                "at_unix": self.unix(now),
            }
        )
        self._emit(batch, f"agent_{kind}", now, agent=agent, reason=reason)

    def _wake(self, agent: str) -> None:
        for waiter in self._offer_waiters.pop(agent, []):
            if not waiter.done():
                waiter.set_result(None)

    # -- calls ------------------------------------------------------------------------------

    def arrive(
        self,
        ani: str,
        dnis: str,
        *,
        ivr_digits: str = "",
        language: str | None = None,
        advertising: bool = False,
        queue: str | None = None,
        practice: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A call comes in: to a client's dialed number (the inbound flow decides), or
        straight to ``queue`` (an in-house line). ``practice``: a practice call, with the
        card it re-enacts (dated by it) and the trainee it rings alone."""
        self._running()
        dated, trainee = self._practice(practice, queue)
        if queue is not None:
            self._known_queue(queue)
        if queue is None and not dnis.strip():
            raise InputError("a call needs its dialed number, or a queue", field="dnis")
        if queue is None:
            client = self.clients.for_dnis(dnis)  # unknown number: 404 before any change
        call_id = self._next_call
        self._next_call += 1
        now = self.now()
        row = self._new_row(
            call_id, now, None if queue else client.name, ani, dnis, queue or client.queue,
            language=language,
            practice=dumps({"card": practice["card"], "agent": trainee, "score": None})
            if practice
            else None,
        )  # fmt: skip
        call = OpenCall(call_id, row, practice=practice["card"] if practice else None)
        self.calls[call_id] = call
        batch = self.unit()
        batch.calls[call_id] = row
        if queue is not None:
            self._emit(
                batch,
                "call_arrived",
                now,
                call_id=call_id,
                queue=queue,
                client=None,
                ani=ani,
                dnis=dnis,
            )
            self.centre.handle(CallArrived(call_id, queue, ani, dnis))
        else:
            inbound = self.flow.arrive(
                call_id,
                ani,
                dnis,
                now,
                keys=ivr_digits,
                advertising=advertising,
                language=language,
                dated=dated,
                for_agent=trainee,
            )
            call.inbound = inbound
            row.update(
                queue=inbound.event.queue,
                policy_result=inbound.result.value,
                identification=inbound.identification.value,
                contact=inbound.contact.id if inbound.contact else None,
                vip=inbound.vip,
                ivr_path="".join(inbound.ivr_path),
            )
            if inbound.contact is not None:
                batch.contacts.add(inbound.contact.id)
            self._emit(
                batch,
                "call_arrived",
                now,
                call_id=call_id,
                queue=row["queue"],
                client=row["client"],
                ani=ani,
                dnis=dnis,
            )
            self.centre.handle(inbound.event)
        return self.call_view(call_id)

    def _new_row(
        self,
        call_id: int,
        now: float,
        client: str | None,
        ani: str,
        dnis: str,
        queue: str,
        *,
        language: str | None = None,
        practice: str | None = None,
    ) -> dict[str, Any]:
        """A new call's row, as stored."""
        return {
            "id": call_id,
            "run": self.run,
            "client": client,
            "ani": ani,
            "dnis": dnis,
            "queue": queue,
            "final_queue": None,
            "status": "arriving",
            "outcome": None,
            "policy_result": PolicyResult.NONE.value,
            "identification": Identification.WITHHELD.value,
            "contact": None,
            "vip": False,
            "ivr_path": "",
            "language": language,
            "priority": None,
            "arrived_unix": self.unix(now),
            "arrival_s": now,
            "queued_s": None,
            "answer_s": None,
            "end_s": None,
            "agent": None,
            "wait_s": None,
            "ring_s": None,
            "talk_s": None,
            "wrap_up_s": None,
            "ended_by": None,
            "overflowed": "[]",
            "offers": "[]",
            "transfers": "[]",
            "instruction": None,
            "practice": practice,
            "callback_s": None,
            "position": None,
        }

    def dial_result(self, agent: str, *, reached: bool, number: str = "") -> dict[str, Any]:
        """What the dialer got for ``agent`` (blended outbound, a ``dial`` event): the
        right party (``reached``: an outbound call of the campaign, connected to the agent,
        which ends as any call) or not (the agent is free again)."""
        self._running()
        self._known_agent(agent)
        campaign = self.scenario.outbound.queue if self.scenario.outbound else None
        if campaign is None:
            raise InvalidEventError("dial-result refused: the scenario has no outbound campaign")
        if not self.acd.knows(agent) or self.acd.agent_state(agent) is not AgentState.DIALING:
            raise InvalidEventError(f"dial-result refused: agent {agent!r} is not dialling")
        if not reached:
            self.centre.handle(OutboundUnanswered(agent))
            return self.agent_view(agent)
        call_id = self._next_call
        self._next_call += 1
        now = self.now()
        row = self._new_row(call_id, now, None, number, "", campaign)
        self.calls[call_id] = OpenCall(call_id, row)
        batch = self.unit()
        batch.calls[call_id] = row
        self._emit(batch, "call_arrived", now, call_id=call_id, queue=campaign, client=None,
                   ani=number, dnis="", direction="outbound")  # fmt: skip
        self.centre.handle(OutboundAnswered(call_id, agent))
        return self.call_view(call_id)

    def _practice(
        self, practice: Mapping[str, Any] | None, queue: str | None
    ) -> tuple[datetime | None, str | None]:
        """A practice call's date (its card's, aware) and trainee, checked."""
        if practice is None:
            return None, None
        if queue is not None:
            raise InputError("a practice call dials its card's client, not a queue",
                             field="practice")  # fmt: skip
        card = practice["card"]
        needed = ("id", "at", "expected", "request", "screen_pop", "forward_answers")
        missing = [k for k in needed if k not in card]
        if missing:
            raise InputError(f"the card has no {missing[0]!r} (cards come from callsim "
                             "practice generate)", field="practice.card")  # fmt: skip
        try:
            dated = datetime.fromisoformat(str(card["at"]))
        except ValueError:
            raise InputError(f"{card['at']!r} is not an ISO date and time",
                             field="practice.card.at") from None  # fmt: skip
        if dated.tzinfo is None:
            raise InputError(f"{card['at']!r} has no time zone", field="practice.card.at")
        trainee = practice.get("agent")
        if trainee is not None:
            self._known_agent(trainee)
        return dated, trainee

    def transfer(
        self,
        call_id: int,
        *,
        queue: str | None = None,
        agent: str | None = None,
        by: str | None = None,
    ) -> dict[str, Any]:
        """The agent on the call sends it on: into ``queue`` or to ``agent`` (the core
        decides; it refuses a call not connected or an agent not ready with 409).
        ``by``: the agent that asks (an agent may transfer only its own call)."""
        self._running()
        call = self._live(call_id)
        self._handled_by(call, by, "transfer")
        if agent is not None:
            self._known_agent(agent)  # 404 if nobody has that name
            if not self.acd.knows(agent):  # the core meets agents when they log in
                raise InvalidEventError(f"transfer refused: {agent!r} is not logged in")
        if queue is not None:
            self._known_queue(queue)
        self.centre.handle(CallTransferred(call_id, queue=queue, agent=agent))
        return self.call_view(call_id)

    def draft(self, call_id: int, text: str, *, by: str | None = None) -> dict[str, Any]:
        """The note as the agent is writing it: kept with the open call and sent on the
        event stream (``note_draft``), so a supervisor monitoring the call reads along."""
        self._running()
        call = self._live(call_id)
        self._handled_by(call, by, "draft")
        call.draft = text
        self._emit(
            self.unit(), "note_draft", self.now(), call_id=call.id, queue=call.row["queue"],
            client=call.row["client"], agent=call.row["agent"], text=text,
        )  # fmt: skip
        return {"call_id": call.id, "draft": text}

    def queue_list(self) -> list[dict[str, Any]]:
        """The queues, with the skills an agent needs for each (transfer targets)."""
        return [{"queue": q.name, "skills": list(q.skills)} for q in self.scenario.queues]

    def open_calls(self, client: str | None = None) -> list[dict[str, Any]]:
        """The calls open now (arriving, queued, ringing, talking, in wrap-up), oldest
        first: what a wallboard lists for monitoring."""
        return [
            {
                "call_id": c.id,
                "status": c.row["status"],
                "client": c.row["client"],
                "queue": c.row["queue"],
                "agent": c.row["agent"],
                "ani": c.row["ani"],
                "arrival_s": c.row["arrival_s"],
                "recording": _recording(c.inbound),
            }
            for c in self.calls.values()
            if client is None or c.row["client"] == client
        ]

    def records(self, after: int, limit: int, client: str | None = None) -> list[dict[str, Any]]:
        """The stored records of ended calls with ids above ``after``, by id: the columns
        as stored (an export for audits and analyses; ``record_of`` reads one back)."""
        c = tables.calls.c
        query = select(tables.calls).where(c.id > after, c.outcome.is_not(None))
        if client is not None:
            query = query.where(c.client == client)
        rows = self.read(query.order_by(c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def hang_up(self, call_id: int) -> dict[str, Any]:
        self._running()
        self._live(call_id)
        self.centre.handle(CallerHungUp(call_id))
        return self.call_view(call_id)

    def request_callback(self, call_id: int) -> dict[str, Any]:
        """The waiting caller accepts a callback and hangs up: the call keeps its place
        (status ``callback``) and rings an agent, who dials the caller, in its turn."""
        self._running()
        self._live(call_id)
        self.centre.handle(CallbackRequested(call_id))
        return self.call_view(call_id)

    def callback_unanswered(self, call_id: int, *, agent: str | None = None) -> dict[str, Any]:
        """The agent dialled the callback and nobody answered: it ends
        ``callback_failed`` and the agent wraps up."""
        self._running()
        call = self._live(call_id)
        self._handled_by(call, agent, "callback-unanswered")
        self.centre.handle(CallbackUnanswered(call_id))
        return self.call_view(call_id)

    def complete(
        self,
        call_id: int,
        *,
        agent: str | None = None,
        note: str | None = None,
        callback_number: str | None = None,
        ticket: Mapping[str, Any] | None = None,
        employee: str | None = None,
        faq: Sequence[str] = (),
        forward_answered: Mapping[str, bool] | None = None,
    ) -> dict[str, Any]:
        """The agent ends the call: the client's treatment is carried out (the core's
        ``treat``), the note and ticket are written, wrap-up starts."""
        self._running()
        call = self._live(call_id)
        if call.row["status"] != "talking":
            raise InvalidEventError(
                f"complete refused: call {call_id} is {call.row['status']}, not talking"
            )
        self._handled_by(call, agent, "complete")
        inbound = call.inbound
        result = PolicyResult.NONE
        if callback_number is not None:
            if inbound is not None:
                try:
                    callback_number = check_callback(inbound.client, callback_number)
                except PolicyError as exc:
                    raise PolicyError(exc.reason, field="callback_number") from None
            elif not callback_number.strip():
                raise PolicyError("an empty callback number", field="callback_number")
        contact = inbound.contact.id if inbound and inbound.contact else None
        if ticket is not None:  # refused before anything is written
            self._check_ticket(contact, ticket)
        if call.practice is not None and forward_answered is None:
            forward_answered = call.practice["forward_answers"]  # the card's world
        if inbound is not None:
            result = self.flow.treat(
                inbound, employee=employee, faq=faq, answered=forward_answered or {}
            )
            if writes_note(result) and not (note or "").strip():
                raise PolicyError(
                    f"{inbound.client.name}'s instruction is a call note ({result.value}): "
                    "write one",
                    field="note",
                )
        at = self._wall()
        now = self.now()
        ticket_out = None
        batch = self.unit()
        self._set(batch, call, policy_result=result.value)
        if call.practice is not None:
            score = score_handling(call.practice, result=result.value, employee=employee,
                                   note=note, callback_number=callback_number)  # fmt: skip
            stored = json.loads(call.row["practice"])
            self._set(batch, call, practice=dumps({**stored, "score": score}))
            self._emit(batch, "practice_scored", self.now(), call_id=call.id,
                       agent=call.row["agent"], card=score["card"],
                       score=score["score"])  # fmt: skip
        note_id = None
        if note:
            note_id = self._add_note(batch, call, note, callback_number, result, at)
        if ticket is not None:
            ticket_out = self._ticket_for_call(batch, call, contact, ticket, now)
        self.centre.handle(CallEnded(call_id, Party.AGENT))
        view = self.call_view(call_id)
        view["note_id"] = note_id
        view["ticket"] = ticket_out
        return view

    def _add_note(
        self,
        batch: _Batch,
        call: OpenCall,
        text: str,
        callback: str | None,
        result: PolicyResult,
        at: float,
    ) -> int:
        note_id = self._next_id("notes")
        batch.extra.append(
            (
                tables.notes,
                [
                    {
                        "id": note_id,
                        "call": call.id,
                        "client": call.row["client"],
                        "contact": call.row["contact"],
                        "agent": call.row["agent"] or "",
                        "text": text,
                        "callback_number": callback,
                        "policy_result": result.value,
                        "at_unix": at,
                    }
                ],
                False,
            )
        )
        self._emit(
            batch,
            "note",
            self.now(),
            call_id=call.id,
            client=call.row["client"],
            agent=call.row["agent"],
            note_id=note_id,
        )
        return note_id

    def _next_id(self, table: str) -> int:
        counters = self._counters
        if table not in counters:
            t = getattr(tables, table)
            counters[table] = (
                int(self.store.scalar(select(func.max(t.c.id))) or 0) + 1
            )  # committed: ids staged come from here
        value: int = counters[table]
        counters[table] = value + 1
        return value

    def call_view(self, call_id: int, *, current_position: bool = False) -> dict[str, Any]:
        """A call as the API shows it: live state, or the stored record once it ended."""
        call = self.calls.get(call_id)
        staged = self._staged.calls.get(call_id)
        if call is not None:
            row = dict(call.row)
        elif staged is not None:  # ended in this turn: its row is not committed yet
            row = {**staged, "position": None}
        else:
            found = self.store.rows(select(tables.calls).where(tables.calls.c.id == call_id))
            if not found:
                raise UnknownCallError(f"call {call_id} does not exist", field="call_id")
            row = dict(found[0]._mapping)
            row["position"] = None
        out = {
            k: v
            for k, v in row.items()
            if k not in ("run", "offers", "overflowed", "transfers", "practice")
        }
        out["practice"] = json.loads(row["practice"]) if row.get("practice") else None
        out["call_id"] = out.pop("id")
        out["offers"] = (
            json.loads(row["offers"])
            if call is None
            else [
                {
                    "offer_id": o.id,
                    "agent": o.agent,
                    "at_s": o.at_s,
                    "state": self._offer_state(o).value,
                }
                for o in call.offers
            ]
        )
        out["overflowed"] = _list(row["overflowed"])
        out["transfers"] = _list(row["transfers"])
        out["instruction"] = json.loads(row["instruction"]) if row["instruction"] else None
        if call is not None and call.row["status"] == "queued" and current_position:
            out["position"] = self._position(call)  # O(n log n): not on the hot path
        out["draft"] = call.draft if call is not None else None
        if call is not None and call.inbound is not None:
            inbound = call.inbound
            out["screen_pop"] = jsonable(self.flow.screen_pop(inbound))
            out["policy_result"] = inbound.result.value
            contact = inbound.contact
            out["tickets"] = (  # the caller's tickets not closed: update, not open anew
                [_ticket_view(t) for t in self.tickets.open_for(contact.id)] if contact else []
            )
            if out["instruction"] is None:  # before the answer: what it would be now
                out["instruction"] = jsonable(instruction_for(inbound.client, self._calendar()))
        return out

    def _position(self, call: OpenCall) -> int | None:
        for i, (cid, _) in enumerate(self.acd.waiting(call.row["queue"]), start=1):
            if cid == call.id:
                return i
        return None

    def _handled_by(self, call: OpenCall, agent: str | None, action: str) -> None:
        """Refuse (409) when ``agent`` asks for ``action`` on a call it is not handling."""
        if agent is not None and self.acd.handler(call.id) != agent:
            raise InvalidEventError(f"{action} refused: call {call.id} is not {agent}'s call")

    def _live(self, call_id: int) -> OpenCall:
        call = self.calls.get(call_id)
        if call is None:
            self.call_view(call_id)  # 404 if it never existed
            raise InvalidEventError(f"call {call_id} has ended")
        return call

    def decisions(self, call_id: int) -> list[dict[str, Any]]:
        self.call_view(call_id)
        d = tables.decisions.c
        rows = self.read(select(d.data).where(d.call == call_id).order_by(d.id))
        return [json.loads(r.data) for r in rows]

    # -- agents and offers ------------------------------------------------------------------

    def agent_names(self) -> list[str]:
        return sorted(set(self.agent_skills) | {a.name for a in self.acd.roster()})

    def _known_queue(self, queue: str) -> None:
        if queue not in self.acd.queue_names():
            raise UnknownQueueError(
                f"{queue!r} does not exist (queues: {', '.join(self.queues)})", field="queue"
            )

    def _known_agent(self, agent: str) -> None:
        if agent not in self.agent_skills and not self.acd.knows(agent):
            raise UnknownAgentError(f"agent {agent!r} does not exist", field="agent")

    def login(self, agent: str, paused_reason: str | None = None) -> dict[str, Any]:
        self._running()
        self._known_agent(agent)
        skills = None if self.acd.knows(agent) else self.agent_skills[agent]
        batch = self.unit()
        self._agent_event(batch, agent, "login", paused_reason, self.now())
        timeout = self.devices[agent][1] if agent in self.devices else None
        self.centre.handle(AgentLoggedIn(agent, skills, paused_reason, timeout))
        return self.agent_view(agent)

    def ready(self, agent: str) -> dict[str, Any]:
        return self._agent_do(agent, "ready", None, AgentReady(agent))

    def pause(self, agent: str, reason: str) -> dict[str, Any]:
        return self._agent_do(agent, "pause", reason, AgentPaused(agent, reason))

    def logout(self, agent: str) -> dict[str, Any]:
        return self._agent_do(agent, "logout", None, AgentLoggedOut(agent))

    def _agent_do(self, agent: str, kind: str, reason: str | None, event: Event) -> dict[str, Any]:
        self._running()
        self._known_agent(agent)
        if not self.acd.knows(agent):  # never logged in: nothing to change
            raise InvalidEventError(f"{kind} refused: agent {agent!r} is not logged in")
        batch = self.unit()
        self._agent_event(batch, agent, kind, reason, self.now())
        self.centre.handle(event)
        return self.agent_view(agent)

    def set_skills(self, agent: str, skills: Mapping[str, int]) -> dict[str, Any]:
        """Replace an agent's skills; an unknown agent is created (logged out)."""
        self._running()
        skills = dict(skills)
        batch = self.unit()
        if self.acd.knows(agent):
            self.centre.handle(SkillsChanged(agent, skills))
        self.agent_skills[agent] = skills
        batch.extra.append(
            (
                tables.agents,
                [
                    {
                        "id": agent,
                        "skills": dumps(skills),
                        "extension": "",
                        "updated_unix": self._wall(),
                    }
                ],
                True,
            )
        )
        self._emit(batch, "agent_skills", self.now(), agent=agent, skills=skills)
        return self.agent_view(agent)

    def agent_view(self, agent: str) -> dict[str, Any]:
        self._known_agent(agent)
        core = self.acd.agent_view(agent) if self.acd.knows(agent) else None
        state = core.state if core is not None else AgentState.OFFLINE
        since = self.agent_since.get(agent)
        offer = self._ringing_offer(agent)
        now = self.now()
        wrap_ends = core.wrap_ends_s if core is not None else None
        holds = core is not None and core.state in (AgentState.TALKING, AgentState.WRAP_UP)
        call = core.call if holds and core is not None else None
        return {
            "agent": agent,
            "state": state.value,
            "reason": self.agent_reason.get(agent) if state is AgentState.PAUSED else None,
            "skills": self.agent_skills.get(agent, {}),
            "in_state_s": None if since is None else round(now - since, 3),
            "wrap_up_left_s": None if wrap_ends is None else round(max(wrap_ends - now, 0), 3),
            "call_id": call if call is not None and self.acd.handler(call) == agent else None,
            "offer_id": offer.id if offer else None,
        }

    def agents_view(self) -> list[dict[str, Any]]:
        return [self.agent_view(a) for a in self.agent_names()]

    async def wait_offers(self, agent: str, wait_s: float) -> list[dict[str, Any]]:
        """The agent's ringing offer, waiting up to ``wait_s`` for one (a long poll)."""
        self._known_agent(agent)
        if self._ringing_offer(agent) is None and wait_s > 0 and not self.stopped:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._offer_waiters.setdefault(agent, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, min(wait_s, MAX_WAIT_POLL_S))
            except TimeoutError:
                pass
            finally:
                waiters = self._offer_waiters.get(agent, [])
                if waiter in waiters:
                    waiters.remove(waiter)
        offer = self._ringing_offer(agent)
        return [] if offer is None else [self.offer_view(offer)]

    def _ringing_offer(self, agent: str) -> OfferKey | None:
        """The offer ringing ``agent`` now (the core's), by its name."""
        core = self.acd.agent_view(agent) if self.acd.knows(agent) else None
        if core is None or core.state is not AgentState.RINGING or core.call is None:
            return None
        call = self.calls.get(int(core.call))
        rung = [o for o in call.offers if o.agent == agent] if call is not None else []
        return rung[-1] if rung else None  # the latest ring of the agent for the call

    def _offer_state(self, offer: OfferKey) -> OfferState:
        """The offer's state: the core's while its call is open, else its record's."""
        state = self.acd.offer_state(offer.call, offer.agent, offer.at_s)
        if state is not None:
            return state
        if offer.call not in self.calls:  # ended: its record has the offer's result
            for o in self.call_view(offer.call)["offers"]:
                if o["agent"] == offer.agent and o["at_s"] == offer.at_s:
                    return OFFER_STATE[OfferResult(o["result"])]
        return OfferState.CANCELLED

    def offer_view(self, offer: OfferKey) -> dict[str, Any]:
        call = self.calls.get(offer.call)
        view = self.acd.call_view(offer.call)
        timeout = next(
            (o.timeout_s for o in view.offers if o.agent == offer.agent and o.at_s == offer.at_s),
            0.0,
        ) if view is not None else 0.0  # fmt: skip
        left = offer.at_s + timeout - self.now()
        out: dict[str, Any] = {
            "offer_id": offer.id,
            "call_id": offer.call,
            "agent": offer.agent,
            "state": self._offer_state(offer).value,
            "at_s": offer.at_s,  # when it started ringing, on the service's clock
            "expires_in_s": round(max(left, 0.0), 3),
        }
        if offer.agent in self.devices:  # forwarded to the agent's personal device
            out["device"] = self.devices[offer.agent][0]
        if call is not None:
            out.update(queue=call.row["queue"], client=call.row["client"], ani=call.row["ani"],
                       practice=call.practice is not None,
                       callback=call.row["callback_s"] is not None)  # fmt: skip
            if call.inbound is not None:
                out["screen_pop"] = jsonable(self.flow.screen_pop(call.inbound))
        return out

    def offer(self, offer_id: str) -> OfferKey:
        offer = self.offers.get(offer_id)
        if offer is None:
            call_part = offer_id.split("-", 1)[0]
            if call_part.isdigit() and int(call_part) < self._next_call:
                raise GoneError(f"offer {offer_id!r} is over (its call has ended)")
            raise NotFoundError(f"offer {offer_id!r} does not exist", field="offer_id")
        return offer

    def accept(self, offer_id: str) -> dict[str, Any]:
        self._running()
        offer = self._ringing(offer_id)
        batch = self.unit()
        self.centre.handle(AgentAnswered(offer.agent, offer.call))
        call = self.calls.get(offer.call)
        if call is not None and call.inbound is not None:
            instruction = self.flow.answer(call.inbound, offer.agent, self.now())
            self._set(batch, call, instruction=dumps(jsonable(instruction)))
            if call.inbound.contact is not None:
                batch.contacts.add(call.inbound.contact.id)
        return self.call_view(offer.call)

    def reject(self, offer_id: str) -> dict[str, Any]:
        self._running()
        offer = self._ringing(offer_id)
        self.centre.handle(AgentRejected(offer.agent, offer.call))
        return self.offer_view(offer)

    def _ringing(self, offer_id: str) -> OfferKey:
        """The offer, if it still rings: the timers due now are fed first, so a ring
        time-out that came before the answer is the core's decision, not a guess here."""
        offer = self.offer(offer_id)
        self.centre.due()
        state = self._offer_state(offer)
        if state is OfferState.EXPIRED:
            raise GoneError(f"offer {offer_id!r} rang out")
        if state is OfferState.CANCELLED:
            if offer.call not in self.calls or self.calls[offer.call].row["agent"] is None:
                raise GoneError(f"offer {offer_id!r} is over: the caller left")
            raise RoutingError(f"offer {offer_id!r} was taken by another agent")
        if state is not OfferState.RINGING:
            raise RoutingError(f"offer {offer_id!r} was already {state.value}")
        return offer

    # -- contacts, notes, tickets -----------------------------------------------------------

    def contact(self, contact_id: int) -> dict[str, Any]:
        found = self.contacts.contacts.get(contact_id)
        if found is None:
            raise UnknownContactError(f"contact {contact_id} does not exist", field="contact_id")
        return {"contact_id": found.id, **{k: v for k, v in jsonable(found).items() if k != "id"}}

    def lookup(self, number: str) -> list[dict[str, Any]]:
        found = self.contacts.find(number)
        return [] if found is None else [self.contact(found.id)]

    def add_contact(self, numbers: Sequence[str], fields: Mapping[str, Any]) -> dict[str, Any]:
        self._running()
        for n in numbers:
            if self.lookup(n):
                raise PolicyError(f"number {n!r} already belongs to a contact", field="numbers")
        batch = self.unit()
        contact = self.contacts.add([], **_contact_fields(fields))
        for n in numbers:
            self.contacts.attach_number(contact.id, n)
        batch.contacts.add(contact.id)
        return self.contact(contact.id)

    def update_contact(self, contact_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        self.contact(contact_id)
        contact = self.contacts.contacts[contact_id]
        values = _contact_fields(fields)
        batch = self.unit()
        for k, v in values.items():
            setattr(contact, k, v)
        batch.contacts.add(contact_id)
        return self.contact(contact_id)

    def attach_number(self, contact_id: int, number: str) -> dict[str, Any]:
        """Attach ``number`` to a contact; a placeholder created for the number is merged
        in (its tickets move along), and an open call from the number becomes the
        contact's: its screen pop shows the contact from then on."""
        self.contact(contact_id)
        batch = self.unit()
        merged = self.contacts.attach_number(contact_id, number)
        batch.contacts.add(contact_id)
        if merged is not None:
            batch.contacts.add(merged.id)
            for ticket in self.tickets.move(merged.id, contact_id):
                row = self._ticket_row(ticket.id)
                self._save_ticket(batch, ticket, row.client, row.call)
            for call in self.calls.values():
                if call.inbound is not None and call.inbound.contact is merged:
                    self.flow.recognise(call.inbound)
        return self.contact(contact_id)

    def search_contacts(self, text: str, limit: int) -> list[dict[str, Any]]:
        return [self.contact(c.id) for c in self.contacts.search(text, limit)]

    def notes(self, *, call: int | None = None, client: str | None = None) -> list[dict[str, Any]]:
        n = tables.notes.c
        query = select(tables.notes).order_by(n.id).limit(1000)
        if call is not None:
            query = query.where(n.call == call)
        if client is not None:
            query = query.where(n.client == client)
        rows = self.read(query)
        return [
            {"note_id": r.id, **{k: v for k, v in r._mapping.items() if k != "id"}} for r in rows
        ]

    def open_ticket(
        self,
        contact: int,
        subject: str,
        by: str,
        *,
        client: str | None = None,
        call: int | None = None,
    ) -> dict[str, Any]:
        self.contact(contact)
        batch = self.unit()
        ticket = self.tickets.open(contact, subject, self._calendar(), by)
        self._save_ticket(batch, ticket, client, call)
        return self.ticket(ticket.id)

    def change_ticket(
        self,
        ticket_id: int,
        status: str,
        by: str,
        note: str = "",
        follow_up_due: datetime | None = None,
    ) -> dict[str, Any]:
        try:
            new = Status(status)
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise InputError(f"{status!r} is not a status ({allowed})", field="status") from None
        current = self._ticket_row(ticket_id)
        batch = self.unit()
        ticket = self.tickets.change(
            ticket_id, new, self._calendar(), by, note, follow_up_due=follow_up_due
        )
        self._save_ticket(batch, ticket, current.client, current.call)
        return self.ticket(ticket_id)

    def _check_ticket(self, contact: int | None, spec: Mapping[str, Any]) -> None:
        """Refuse a call's ticket update that the ticket book would refuse."""
        try:
            if spec.get("ticket_id") is not None:
                status = Status(spec.get("status") or "open")
                due = spec.get("follow_up_due")
                self.tickets.check(int(spec["ticket_id"]), status, self._calendar(), due)
            elif contact is None:
                raise PolicyError("a ticket needs the caller's contact: this call has none")
        except (PolicyError, NotFoundError) as exc:
            raise type(exc)(exc.reason, field="ticket") from None

    def _ticket_for_call(
        self,
        batch: _Batch,
        call: OpenCall,
        contact: int | None,
        spec: Mapping[str, Any],
        now: float,
    ) -> dict[str, Any]:
        by = call.row["agent"] or ""
        if spec.get("ticket_id") is not None:
            tid = int(spec["ticket_id"])
            current = self._ticket_row(tid)
            ticket = self.tickets.change(
                tid,
                Status(spec.get("status") or "open"),
                self._calendar(),
                by,
                spec.get("note") or "",
                follow_up_due=spec.get("follow_up_due"),
            )
            self._save_ticket(batch, ticket, current.client, current.call)
        else:
            assert contact is not None  # _check_ticket refused a ticket without one
            ticket = self.tickets.open(contact, spec.get("subject") or "", self._calendar(), by)
            self._save_ticket(batch, ticket, call.row["client"], call.id)
        return _ticket_view(ticket)

    def _ticket_row(self, ticket_id: int) -> Any:
        rows = self.read(select(tables.tickets).where(tables.tickets.c.id == ticket_id))
        if not rows:
            from callsim.errors import UnknownTicketError

            raise UnknownTicketError(f"ticket {ticket_id} does not exist", field="ticket_id")
        return rows[0]

    def _save_ticket(
        self, batch: _Batch, ticket: Ticket, client: str | None, call: int | None
    ) -> None:
        batch.extra.append(
            (
                tables.tickets,
                [
                    {
                        "id": ticket.id,
                        "contact": ticket.contact,
                        "client": client,
                        "call": call,
                        "data": dumps(jsonable(ticket)),
                        "updated_unix": self._wall(),
                    }
                ],
                True,
            )
        )
        self._emit(
            batch,
            "ticket",
            self.now(),
            ticket_id=ticket.id,
            client=client,
            status=ticket.status.value,
        )

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        found = self.tickets.tickets.get(ticket_id)
        if found is None:
            self._ticket_row(ticket_id)
        assert found is not None
        view = _ticket_view(found)
        view["client"] = self._ticket_row(ticket_id).client
        return view

    def _calendar(self) -> datetime:
        return self.flow.at(self.now())

    # -- keys -------------------------------------------------------------------------------

    def create_key(
        self, role: str, *, agent: str | None = None, client: str | None = None, label: str = ""
    ) -> dict[str, Any]:
        return create_key(
            self.store,
            role,
            agent=agent,
            client=client,
            label=label,
            agents=self.agent_names(),
            clients=list(self._client_by_name),
            at=self._wall(),
        )

    # -- statistics -------------------------------------------------------------------------

    def realtime(self, client: str | None = None) -> dict[str, Any]:
        """Per queue now: waiting calls, longest wait, agents by state; and today's
        offered, answered, abandoned and service level (the interval statistics')."""
        now = self.now()
        totals = self._day_totals(client)
        queues = []
        for q in self._queues_of(client):
            waiting = self.acd.waiting(q)
            states = dict.fromkeys((s.value for s in AgentState if s is not AgentState.OFFLINE), 0)
            skills = self.acd.queue_skills(q)
            for agent in self.acd.roster():
                if agent.state is not AgentState.OFFLINE and qualified(agent.skills, skills):
                    states[agent.state.value] += 1
            day = totals[q]
            queues.append(
                {
                    "queue": q,
                    "waiting": len(waiting),
                    "longest_wait_s": round(now - min(t for _, t in waiting), 3)
                    if waiting
                    else 0.0,
                    "agents": states,
                    **{
                        k: day[k]
                        for k in ("offered", "answered", "abandoned", "service_level", "asa_s")
                    },
                }
            )
        return {"at_s": round(now, 3), "date": self._date_now().isoformat(), "queues": queues}

    def _date_now(self) -> Any:
        return datetime.fromtimestamp(self.unix(self.now()), self.zone).date()

    def _day_totals(self, client: str | None) -> dict[str, dict[str, Any]]:
        """Today's totals per queue from running call counts: only the calls recorded
        since the last time are counted (by the simulator's code), so a wallboard's
        refresh costs the same at the day's end as at its start."""
        day = self._day(self._date_now())
        done, acc = day.counts.get(client, (0, {}))
        picked = [
            i for i in range(done, len(day.records)) if client is None or day.clients[i] == client
        ]
        if picked:
            records = [day.records[i]._replace(call=j) for j, i in enumerate(picked)]
            agents = tuple(sorted({r.agent for r in records if r.agent}))
            frame = self._frame(day, agents)
            st = reduce_replication(frame, records, [], 0, day.facts(picked), callbacks=True)
            for name in COUNTED:
                acc[name] = acc.get(name, 0.0) + getattr(st, name).sum(axis=0)
        day.counts[client] = (len(day.records), acc)
        zero = np.zeros(len(self.queues))
        return _queue_totals(self.queues, *(acc.get(name, zero) for name in COUNTED))

    # -- clients ----------------------------------------------------------------------------

    def _client(self, name: str) -> Any:
        found = self._client_by_name.get(name)
        if found is None:
            raise UnknownClientError(
                f"client {name!r} does not exist (clients: {', '.join(self._client_by_name)})",
                field="client",
            )
        return found

    def client_card(self, name: str) -> dict[str, Any]:
        """What an agent reads about a client: greeting, tone, treatment now, hours, the
        FAQ tree and how many employees its directory holds (search them apart)."""
        client = self._client(name)
        return {
            "client": client.name,
            "numbers": list(client.numbers),
            "queue": client.queue,
            "tone": client.tone.value,
            "instruction": jsonable(instruction_for(client, self._calendar())),
            "faq": jsonable(client.faq),
            "employees": len(client.employees),
            "own_numbers": list(client.own_numbers),
        }

    def employees(self, name: str, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """The client's employees matching every word of ``text`` (a word-prefix search
        in the core's index: instant with thousands); all of them, up to ``limit``, for
        an empty text."""
        directory = self._client(name).employees
        found = directory.search(text, limit) if text.strip() else directory.employees[:limit]
        return [jsonable(e) for e in found]

    def _queues_of(self, client: str | None) -> tuple[str, ...]:
        if client is None:
            return self.queues
        spec = next(c for c in self.scenario.clients if c.name == client)
        own = {spec.queue}
        own.update(self.scenario.answering.contacts.language_queues.values())
        return tuple(q for q in self.queues if q in own)

    def _parse_day(self, day: str | None) -> Any:
        """The centre's date ``day`` (YYYY-MM-DD), today if None."""
        if day is None:
            return self._date_now()
        try:
            return datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            raise InputError(f"{day!r} is not a date (YYYY-MM-DD)", field="date") from None

    def first_contact_resolution(
        self, day: str | None, window_h: float, client: str | None = None
    ) -> dict[str, Any]:
        """First-contact resolution of ``day``'s answered calls from identified callers:
        resolved unless the caller called again within ``window_h`` hours or the call left
        its ticket open or needing follow-up. ``complete`` is False while the window is
        still running (the figure can only fall)."""
        d = self._day(self._parse_day(day))
        window_s = window_h * 3600
        c = tables.calls.c
        in_day = [c.arrived_unix >= d.midnight, c.arrived_unix < d.end, c.contact.is_not(None)]
        if client is not None:
            in_day.append(c.client == client)
        answered = [
            (r.id, r.contact, r.arrived_unix)
            for r in self.read(
                select(c.id, c.contact, c.arrived_unix).where(*in_day, c.outcome == "answered")
            )
        ]
        calls_of: dict[int, list[float]] = {}
        callers = select(c.contact).where(*in_day)
        for r in self.read(
            select(c.contact, c.arrived_unix)
            .where(c.contact.in_(callers), c.arrived_unix >= d.midnight)
            .where(c.arrived_unix < d.end + window_s)
            .order_by(c.arrived_unix)
        ):
            calls_of.setdefault(r.contact, []).append(r.arrived_unix)
        t = tables.tickets.c
        left_open = (Status.OPEN, Status.NEEDS_FOLLOW_UP)
        unresolved = {
            r.call
            for r in self.read(select(t.id, t.call).where(t.call.in_(select(c.id).where(*in_day))))
            if r.id in self.tickets.tickets and self.tickets.tickets[r.id].status in left_open
        }
        out = first_contact_resolution(answered, calls_of, unresolved, window_s)
        return {
            "date": d.date.isoformat(),
            "window_h": window_h,
            **out,
            "complete": self.unix(self.now()) >= d.end + window_s,
        }

    def intervals(self, day: str | None, client: str | None = None) -> dict[str, Any]:
        """Per interval and queue of ``day`` (the centre's date; today if None): the
        simulator's columns by the simulator's code, each next to the exact Erlang A
        prediction of its observed load and staffed agents."""
        calls = self._day(self._parse_day(day))
        midnight = calls.midnight
        end = calls.end
        picked = [i for i, c in enumerate(calls.clients) if client is None or c == client]
        records = [calls.records[i]._replace(call=j) for j, i in enumerate(picked)]
        s = tables.spans.c
        spans = [
            StaffedSpan(
                r.agent, tuple(json.loads(r.queues)), r.start_unix - midnight, r.end_unix - midnight
            )
            for r in self.read(
                select(tables.spans).where(s.end_unix > midnight, s.start_unix < end)
            )
        ]
        if midnight <= self.unix(self.now()) < end:  # today: the agents staffed right now
            offset = self.epoch_unix - midnight
            for sp in self.acd.staffed_now(self.now()):
                spans.append(
                    StaffedSpan(sp.agent, sp.queues, sp.start_s + offset, sp.end_s + offset)
                )
        agents = tuple(sorted({sp.agent for sp in spans} | {r.agent for r in records if r.agent}))
        frame = self._frame(calls, agents)
        stats = reduce_replication(frame, records, spans, 0, calls.facts(picked), callbacks=True)
        return self._interval_table(calls.date.isoformat(), stats, frame)

    def _frame(self, day: _Day, agents: tuple[str, ...]) -> Frame:
        """A day's intervals by queue, on the day's clock, as the simulator counts."""
        return Frame(
            0.0,
            self.interval_s,
            round((day.end - day.midnight) / self.interval_s),
            self.queues,
            agents,
            0,
            self.scenario.service_level.sl_threshold_s,
            self.scenario.service_level.short_abandon_s,
        )

    def _day(self, date: Any) -> _Day:
        """The ended calls of ``date``: today's kept in memory from their first reading
        (then added as they are recorded); another day's read from the database."""
        if self._today is not None and self._today.date == date:
            return self._today
        start = datetime.combine(date, datetime.min.time(), self.zone)
        end = datetime.combine(date + timedelta(days=1), datetime.min.time(), self.zone)
        day = _Day(date, start.timestamp(), end.timestamp())
        midnight = day.midnight
        c = tables.calls.c
        for row in self.read(
            select(tables.calls)
            .where(c.arrived_unix >= midnight, c.arrived_unix < day.end)
            .where(c.outcome.is_not(None))
            .order_by(c.id)
        ):
            day.add(row)
        if date == self._date_now():
            self._today = day
        return day

    def _interval_table(self, date: str, st: Any, frame: Frame) -> dict[str, Any]:
        patience = queue_means(self.scenario, "patience_s")
        rows = []
        for k in range(frame.n_intervals):
            start = k * frame.interval_s
            label = f"{int(start // 3600):02d}:{int(start % 3600 // 60):02d}"
            for j, q in enumerate(frame.queues):
                offered = st.offered[k, j]
                staffed = st.staffed_s[k, j]
                if not offered and not staffed:
                    continue
                answered = st.answered[k, j]
                observed = {
                    "offered": int(offered),
                    "answered": int(answered),
                    "abandoned": int(st.abandoned[k, j]),
                    "service_level": _ratio(st.within[k, j], offered),
                    "abandon_rate": _ratio(st.abandoned[k, j], offered),
                    "asa_s": _ratio(st.wait_answered_s[k, j], answered),
                    "aht_s": _ratio(st.handle_s[k, j], answered),
                    "occupancy": _ratio(st.busy_s[k, j], staffed),
                    "p_wait": _ratio(st.waited[k, j], offered),
                    "staffed_agents": round(staffed / frame.interval_s, 3),
                }
                rows.append(
                    {
                        "interval": label,
                        "queue": q,
                        **observed,
                        "predicted": _predicted(observed, frame, patience.get(q)),
                    }
                )
        total = _queue_totals(frame.queues, *(getattr(st, name).sum(axis=0) for name in COUNTED))
        return {
            "date": date,
            "interval_min": frame.interval_s / 60,
            "intervals": rows,
            "total": total,
        }

    # -- the event stream -------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=EVENT_BUFFER)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def last_event_id(self) -> int:
        return self._next_event - 1

    def events_after(self, last_id: int) -> Iterable[dict[str, Any]]:
        """Events after ``last_id``: from memory, or the database when older."""
        if self.recent and self.recent[0]["id"] <= last_id + 1:
            return [e for e in self.recent if e["id"] > last_id]
        e = tables.events.c
        rows = self.read(select(e.data).where(e.id > last_id).order_by(e.id).limit(EVENT_BUFFER))
        return [json.loads(r.data) for r in rows]

    def _running(self) -> None:
        if self.stopped:
            raise RoutingError("the service is stopping")


# -- keys ---------------------------------------------------------------------------------


def create_key(
    store: Store,
    role: str,
    *,
    agent: str | None = None,
    client: str | None = None,
    label: str = "",
    agents: Sequence[str] | None = None,
    clients: Sequence[str] | None = None,
    at: float | None = None,
) -> dict[str, Any]:
    """A new API key (shown once; the database keeps its hash). An ``agent`` key is bound
    to one agent, a ``client`` key to one client."""
    if role not in ROLES:
        raise InputError(f"{role!r} is not a role ({', '.join(ROLES)})", field="role")
    if (role == "agent") != (agent is not None):
        raise InputError("an agent key names its agent, and only an agent key does", field="agent")
    if (role == "client") != (client is not None):
        raise InputError(
            "a client key names its client, and only a client key does", field="client"
        )
    if agent is not None and agents is not None and agent not in agents:
        raise UnknownAgentError(f"agent {agent!r} does not exist", field="agent")
    if client is not None and clients is not None and client not in clients:
        raise UnknownClientError(f"client {client!r} does not exist", field="client")
    key = "cs_" + secrets.token_urlsafe(32)
    key_id = store.add_key(
        key, role, agent=agent, client=client, label=label, at=time.time() if at is None else at
    )
    return {
        "key_id": key_id,
        "key": key,
        "role": role,
        "agent": agent,
        "client": client,
        "label": label,
    }


# -- conversions --------------------------------------------------------------------------

_ATOMS = (str, int, bool, type(None))
_FIELDS: dict[type, tuple[str, ...] | None] = {}  # a dataclass's field names, per type


def jsonable(value: Any) -> Any:
    """Dataclasses, named tuples, enums and dates as JSON values."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    names = _FIELDS.get(kind, ())
    if names == ():  # first sight of this type
        is_record = dataclasses.is_dataclass(value) and not isinstance(value, type)
        names = _FIELDS[kind] = (
            tuple(f.name for f in dataclasses.fields(value)) if is_record else None
        )
    if names is not None:
        out = {}
        for n in names:
            v = getattr(value, n)
            out[n] = v if type(v) in _ATOMS else jsonable(v)  # no call for the common case
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {k: jsonable(v) for k, v in zip(value._fields, value, strict=True)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


COUNTED = ("offered", "answered", "abandoned", "within", "wait_answered_s")


def _queue_totals(
    queues: Sequence[str],
    offered: np.ndarray,
    answered: np.ndarray,
    abandoned: np.ndarray,
    within: np.ndarray,
    wait_answered_s: np.ndarray,
) -> dict[str, dict[str, Any]]:
    """A day's totals per queue from its counts per queue."""
    return {
        q: {
            "offered": int(offered[j]),
            "answered": int(answered[j]),
            "abandoned": int(abandoned[j]),
            "service_level": _ratio(within[j], offered[j]),
            "asa_s": _ratio(wait_answered_s[j], answered[j]),
        }
        for j, q in enumerate(queues)
    }


def _recording(inbound: InboundCall | None) -> dict[str, str] | None:
    """A call's recording as a wallboard lists it: the client's policy ("all" or
    "none") and the reference once an agent answered; None where no policy is set."""
    policy = inbound.client.recording if inbound is not None else None
    if inbound is None or policy is None:
        return None
    ref = inbound.instruction.recording_ref if inbound.instruction is not None else ""
    return {"mode": policy.mode.value, "reference": ref}


def _list(text: str) -> list[Any]:
    """A stored JSON list (most calls' are empty: no parsing for those)."""
    return [] if text == "[]" else list(json.loads(text))


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_bytes(value: Any) -> bytes:
    """JSON of plain values (what ``jsonable`` gives): orjson, at C speed (NaN and
    infinities become null). Not for records themselves: it writes a named tuple as a
    list, where ``jsonable`` makes an object."""
    return orjson.dumps(value, option=_JSON_OPTIONS)


def dumps(value: Any) -> str:
    return json_bytes(value).decode()


_CONTACT_FIELDS = ("name", "company", "category", "note", "city", "country", "language", "photo")


def _contact_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    from callsim.core import Category

    out = {k: v for k, v in fields.items() if k in _CONTACT_FIELDS and v is not None}
    if "category" in out:
        try:
            out["category"] = Category(out["category"])
        except ValueError:
            allowed = ", ".join(c.value for c in Category)
            raise InputError(
                f"{out['category']!r} is not a category ({allowed})", field="category"
            ) from None
    return out


def _contact(data: Mapping[str, Any]) -> Contact:
    from callsim.core import Category, Direction

    return Contact(
        id=data["id"],
        numbers=list(data["numbers"]),
        name=data["name"],
        company=data["company"],
        category=Category(data["category"]),
        note=data["note"],
        orders=[Order(**o) for o in data["orders"]],
        city=data["city"],
        country=data["country"],
        language=data["language"],
        photo=data["photo"],
        last_agent=data["last_agent"],
        merged_into=data.get("merged_into"),  # absent in rows from before merging existed
        history=[
            Interaction(
                datetime.fromisoformat(h["at"]), Direction(h["direction"]), h["agent"], h["summary"]
            )
            for h in data["history"]
        ],
    )


def _ticket(data: Mapping[str, Any]) -> Ticket:
    due = data["follow_up_due"]
    return Ticket(
        data["id"],
        data["contact"],
        data["subject"],
        Status(data["status"]),
        datetime.fromisoformat(due) if due else None,
        [
            Change(datetime.fromisoformat(c["at"]), Status(c["status"]), c["by"], c["note"])
            for c in data["changes"]
        ],
    )


def _ticket_view(ticket: Ticket) -> dict[str, Any]:
    data = jsonable(ticket)
    data["ticket_id"] = data.pop("id")
    data["next"] = sorted(s.value for s in ALLOWED[ticket.status])  # statuses it may take
    return dict(data)


def record_of(row: Any, midnight: float) -> CallRecord:
    """A stored call (a row, or a namespace of ``GET /v1/records``'s columns) as the core's
    record, its times in seconds since ``midnight`` (its run's epoch is ``arrived_unix -
    arrival_s``). A call closed by recovery after a kill has no times after its arrival."""
    shift = row.arrived_unix - row.arrival_s - midnight
    offers = tuple(
        Offer(o["at_s"] + shift, o["agent"], OfferResult(o["result"]), o["ring_s"])
        for o in json.loads(row.offers)
    )
    return CallRecord(
        row.id,
        row.queue,
        row.final_queue or row.queue,
        row.ani,
        row.dnis,
        row.priority or 0,
        row.arrival_s + shift,
        (row.queued_s if row.queued_s is not None else row.arrival_s) + shift,
        offers,
        None if row.answer_s is None else row.answer_s + shift,
        (row.end_s if row.end_s is not None else row.arrival_s) + shift,
        Outcome(row.outcome),
        row.agent if row.end_s is not None else None,
        row.wait_s or 0.0,
        row.ring_s or 0.0,
        row.talk_s or 0.0,
        row.wrap_up_s or 0.0,
        Party(row.ended_by) if row.ended_by else None,
        tuple(json.loads(row.overflowed)),
        tuple(
            Transfer(t["at_s"] + shift, t["agent"], t["queue"], t["to_agent"])
            for t in json.loads(row.transfers)
        ),
        None if row.callback_s is None else row.callback_s + shift,
    )


def _ratio(num: float, den: float) -> float | None:
    return None if not den else round(float(num) / float(den), 6)


def _predicted(
    observed: Mapping[str, Any], frame: Frame, patience_s: float | None
) -> dict[str, Any] | None:
    """The exact Erlang A (Erlang C without patience) of an interval's observed arrivals,
    handle time and staffed agents (rounded to the nearest whole agent)."""
    # whole agents: at least one when anybody was staffed
    agents = max(round(observed["staffed_agents"]), 1 if observed["staffed_agents"] else 0)
    aht = observed["aht_s"]
    if not observed["offered"] or not aht or agents < 1:
        return None
    rate = observed["offered"] / frame.interval_s
    try:
        if patience_s:
            m: Any = erlang_a(rate, aht, patience_s, agents, frame.sl_threshold_s)
            abandon = m.p_abandon
        else:
            m = erlang_c(rate, aht, agents, frame.sl_threshold_s)
            abandon = 0.0
    except InputError:
        return None
    sl = m.service_level
    return {
        "model": "erlang_a" if patience_s else "erlang_c",
        "agents": agents,
        "traffic_erl": round(rate * aht, 4),
        "service_level": None if math.isnan(sl) else round(sl, 6),
        "abandon_rate": round(abandon, 6),
        "asa_s": round(m.asa_s, 3) if math.isfinite(m.asa_s) else None,
        "occupancy": round(m.occupancy, 6),
        "p_wait": round(m.p_wait, 6),
    }
