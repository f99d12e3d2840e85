"""The live service's ledger: what the core answered, as rows and events.

After every event the core handled (``watch``, the driver's watcher), each command becomes
the change of its call's row and an event of the stream; each record ends its call's row,
each staffed span and decision trace becomes a row. The ledger keeps no state machine: a
call's status is the core's state (``status_of``), an offer's state the core's
(``Acd.offer_result``); it keeps only what the core does not (the open calls' rows, what
the inbound flow decided, the offers' names, since when each agent is in its state).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from callsim.core import (
    Acd,
    Announce,
    CallRecord,
    CallState,
    CallView,
    CancelRing,
    Command,
    Connect,
    Dial,
    End,
    Enqueue,
    Event,
    Forward,
    HoldPlace,
    Identification,
    InboundCall,
    OfferCallback,
    Outcome,
    PauseAgent,
    PlayMessage,
    PolicyResult,
    Ring,
    SendToVoicemail,
    StartTimer,
    TakeNote,
    Transfer,
    Transferred,
)
from callsim.live.clock import Clock
from callsim.live.codec import dumps, jsonable
from callsim.live.commit import Batch, UnitOfWork
from callsim.live.events import EventStream
from callsim.live.stats import Statistics


@dataclasses.dataclass(frozen=True, slots=True)
class OfferKey:
    """The API's name for one offer of the core (``{call}-{k}``, k counting the call's
    rings) and the offer it names: the call, the agent rung and when. Its state is the
    core's (``Acd.offer_result``)."""

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
        return "waiting" if view.callback_s is None else "callback"
    if state is CallState.NEW:
        return "transferred" if view.transferred else "arriving"
    if state is CallState.WRAP_UP and view.callback_failed:  # over: the agent wraps up
        return Outcome.CALLBACK_FAILED.value
    return str(state.value)  # ringing, talking, wrap_up


class Ledger:
    """Turns the core's answers into rows and events (see the module docstring)."""

    def __init__(
        self,
        acd: Acd,
        uow: UnitOfWork,
        events: EventStream,
        clock: Clock,
        stats: Statistics,
        run: int,
        devices: Mapping[str, tuple[str, float | None]],
        next_call: int,
    ) -> None:
        self.acd = acd
        self.uow = uow
        self.events = events
        self.clock = clock
        self.stats = stats
        self.run = run
        self.devices = devices  # agents on a personal device: its number and ring time
        self.next_call = next_call  # the id of the next call
        self.calls: dict[int, OpenCall] = {}
        self.offers: dict[str, OfferKey] = {}  # the open calls' offers by name
        self.agent_since: dict[str, float] = {}  # when each agent's state last changed
        self.agent_reason: dict[str, str | None] = {}
        self.offer_waiters: dict[str, list[asyncio.Future[None]]] = {}  # long polls

    def open(self, row: dict[str, Any], practice: Mapping[str, Any] | None = None) -> OpenCall:
        """A new call's row, kept until its record (and staged to be stored)."""
        call = OpenCall(row["id"], row, practice=practice)
        self.calls[call.id] = call
        self.uow.unit().calls[call.id] = row
        return call

    def new_row(
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
            "arrived_unix": self.clock.unix(now),
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

    def new_call_id(self) -> int:
        call_id = self.next_call
        self.next_call += 1
        return call_id

    def watch(self, event: Event, commands: list[Command], now: float) -> None:
        batch = self.uow.unit()
        touched: dict[int, None] = {}  # the calls the commands named, in order
        for command in commands:
            self._apply(batch, command, now, touched)
        for record in self.acd.take_records():
            self._record(batch, record)
        for call_id in touched:
            call = self.calls.get(call_id)
            view = self.acd.call_view(call_id) if call is not None else None
            if call is not None and view is not None:
                self.set(batch, call, status=status_of(view))
        for span in self.acd.take_spans():
            batch.spans.append(
                {
                    "run": self.run,
                    "agent": span.agent,
                    "queues": dumps(span.queues),
                    "start_s": span.start_s,
                    "end_s": span.end_s,
                    "start_unix": self.clock.unix(span.start_s),
                    "end_unix": self.clock.unix(span.end_s),
                }
            )
        for d in self.acd.take_decisions():
            batch.decisions.append({"call": int(d.call), "data": dumps(jsonable(d))})

    def _apply(self, batch: Batch, command: Command, now: float, touched: dict[int, None]) -> None:
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
                self.set(batch, call, queue=command.queue)
                call.row["position"] = command.position
                fields["queue"] = command.queue
            self.events.emit(batch, "waiting", now, **fields, position=command.position,
                       expected_wait_s=round(command.expected_wait_s, 1))  # fmt: skip
        elif kind is Ring:
            assert isinstance(command, Ring)
            if call is not None:
                offer = OfferKey(f"{call.id}-{len(call.offers) + 1}", call.id, command.agent, now)
                call.offers.append(offer)
                self.offers[offer.id] = offer
                self.wake(command.agent)
                fields["offer_id"] = offer.id
            self.agent_changed(command.agent, now)
            device = (
                {"device": self.devices[command.agent][0]} if command.agent in self.devices else {}
            )
            self.events.emit(
                batch, "ring", now, **fields, agent=command.agent, timeout_s=command.timeout_s,
                **device,
            )  # fmt: skip
        elif kind is CancelRing:
            assert isinstance(command, CancelRing)
            self.agent_changed(command.agent, now)
            self.events.emit(batch, "ring_cancelled", now, **fields, agent=command.agent)
        elif kind is Connect:
            assert isinstance(command, Connect)
            if call is not None:  # stored at once: a crash keeps the answer
                view = self.acd.call_view(call.id)
                answered = view.answer_s if view is not None else now
                self.set(batch, call, agent=command.agent, answer_s=answered)
            self.agent_changed(command.agent, now)
            self.events.emit(batch, "connected", now, **fields, agent=command.agent)
        elif kind is End:
            assert isinstance(command, End)
            if call is not None:
                agent = call.row["agent"]
                if agent is not None:
                    self.agent_changed(agent, now)
                view = self.acd.call_view(call.id)
                if view is not None and view.end_s is not None:  # talk over, wrap-up on: a
                    # crash keeps what the completion acknowledged (its record follows)
                    self.set(batch, call, answer_s=view.answer_s, end_s=view.end_s,
                             talk_s=view.talk_s)  # fmt: skip
            self.events.emit(batch, "ended", now, **fields, outcome=command.outcome.value)
        elif kind is Transferred:
            assert isinstance(command, Transferred)
            if call is not None:
                done = json.loads(call.row["transfers"])
                done.append(jsonable(Transfer(now, command.agent, command.queue, command.to_agent)))
                queue = command.queue or call.row["queue"]  # where it is now (the record
                # keeps its first queue)
                self.set(batch, call, agent=None, queue=queue, transfers=dumps(done))
            self.agent_changed(command.agent, now)
            self.events.emit(
                batch, "transferred", now, **fields, agent=command.agent,
                to_queue=command.queue, to_agent=command.to_agent,
            )  # fmt: skip
        elif kind is PauseAgent:
            assert isinstance(command, PauseAgent)
            self.agent_event(batch, command.agent, "pause", command.reason, now)
        elif kind is Dial:
            assert isinstance(command, Dial)
            self.agent_changed(command.agent, now)
            self.events.emit(batch, "dial", now, agent=command.agent, queue=command.queue)
        elif kind is HoldPlace:
            if call is not None:
                self.set(batch, call, callback_s=now)
            self.events.emit(batch, "callback_requested", now, **fields)
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
            # the command's own fields (the queue it happened in) over the call's
            said = {k: v for k, v in jsonable(command).items() if k != "call"}
            self.events.emit(batch, names[kind], now, **{**fields, **said})

    def set(self, batch: Batch, call: OpenCall, **values: Any) -> None:
        call.row.update(values)
        batch.calls[call.id] = call.row  # stored at the commit, in its state then

    def _record(self, batch: Batch, record: CallRecord) -> None:
        call = self.calls.pop(int(record.call), None)
        if call is None:  # not a call of this run: nothing to write
            return
        for offer in call.offers:
            self.offers.pop(offer.id, None)
        if record.agent is not None and record.agent == call.row["agent"]:
            self.agent_changed(record.agent, record.end_s)
        self.set(
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
        self.events.emit(
            batch,
            "recorded",
            record.end_s + record.wrap_up_s,
            call_id=call.id,
            queue=record.queue,
            client=call.row["client"],
            outcome=record.outcome.value,
            agent=record.agent,
        )  # fmt: skip  (the record is final: statistics count it from now)
        self.stats.recorded(SimpleNamespace(**call.row))

    def agent_changed(self, agent: str, now: float) -> None:
        self.agent_since[agent] = now

    def agent_event(
        self, batch: Batch, agent: str, kind: str, reason: str | None, now: float
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
                "at_unix": self.clock.unix(now),
            }
        )
        self.events.emit(batch, f"agent_{kind}", now, agent=agent, reason=reason)

    def wake(self, agent: str) -> None:
        for waiter in self.offer_waiters.pop(agent, []):
            if not waiter.done():
                waiter.set_result(None)
