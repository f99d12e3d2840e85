"""The live routing service without HTTP: a scenario's centre on the wall clock, its calls,
agents, offers, contacts, notes, tickets and event stream, kept in a database.

``Service`` is a façade: it starts the centre, checks each request and feeds the core its
event (the verbs below); the collaborators do the rest, each in its module:

- ``clock``: scenario seconds, their calendar time and date; the timer-lag probe;
- ``ledger``: what the core answered (``watch``): call rows, offer names, records, spans,
  decisions and events; a call's status and an offer's state are the core's views;
- ``commit``: the unit of work: every change of an event-loop turn commits in one
  transaction when the turn ends (group commit); answers wait for it (``settled``);
- ``events``: the event stream, published once committed;
- ``views``: calls, agents and offers as the API shows them;
- ``desk``: contacts, notes, tickets, client cards, employees;
- ``stats``: the realtime board, intervals and first-contact resolution (selection only);
- ``codec``: JSON and stored rows; ``callsim.store.repository``: every query and write.

A call placed over the API (``arrive``) is staged by ``Ledger.open``, committed by
``UnitOfWork.flush`` through ``Repository.save``. Everything runs on the event loop's
thread: the core is never entered twice at a time. Before an accept or reject the timers
due are fed first, so the core decides whether the ring timed out.

On start, calls a previous run left open (it was killed) are closed ``interrupted`` and
agents start logged out; contacts, tickets and agents added over the API come back.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from callsim.core import (
    Acd,
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentRejected,
    AgentState,
    CallArrived,
    CallbackRequested,
    CallbackUnanswered,
    CallEnded,
    CallerHungUp,
    CallState,
    CallTransferred,
    ClientBook,
    ContactBook,
    Event,
    InboundFlow,
    OfferResult,
    OutboundAnswered,
    OutboundUnanswered,
    Outcome,
    Party,
    PolicyResult,
    SkillsChanged,
    TicketBook,
    check_callback,
    writes_note,
)
from callsim.core.practice import rubric_from, score_handling
from callsim.errors import InputError, InvalidEventError, PolicyError, RoutingError
from callsim.live.clock import Clock, LagProbe
from callsim.live.codec import contact_from, dumps, json_bytes, jsonable, record_of, ticket_from
from callsim.live.commit import Batch, UnitOfWork
from callsim.live.desk import Desk
from callsim.live.driver import LiveCentre
from callsim.live.events import EventStream, Inbox
from callsim.live.ledger import Ledger, OfferKey, OpenCall
from callsim.live.stats import Statistics
from callsim.live.views import GoneError, Views
from callsim.scenario import Scenario, scenario_hash
from callsim.scenario.centre import acd_config, caller_routing, centre_zone, clients, queue_means
from callsim.store import Store, tables
from callsim.store.repository import Repository

__all__ = ["GoneError", "Service", "dumps", "json_bytes", "jsonable", "record_of"]


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``wall`` gives the calendar (Unix seconds at the start); ``clock`` the seconds
        the centre's timers run on (a test injects one it advances by hand)."""
        self.scenario = scenario
        self.store = store
        self._wall = wall
        self.zone = centre_zone(scenario)
        repository = Repository(store)
        repository.interrupt_open_calls(
            Outcome.INTERRUPTED.value,
            {  # in wrap-up: the talk is over, its completion acknowledged
                CallState.WRAP_UP.value: Outcome.ANSWERED.value,
                Outcome.CALLBACK_FAILED.value: Outcome.CALLBACK_FAILED.value,
            },
        )
        started = wall()
        self.run = repository.start_run(started, speedup, scenario_name, scenario_hash(scenario))
        self.agent_skills = self._load_agents(repository)
        config = acd_config(scenario, wrap_up_s=queue_means(scenario, "wrap_up_s"))
        # agents on a personal device: the number their offers go to, and the ring time
        devices = {a.name: (a.device, a.ring_timeout_s) for a in config.agents if a.device}
        self.chats = {a.name: a.chats for a in config.agents}  # held at once, at login
        self.acd = Acd(dataclasses.replace(config, agents=()), trace=True)
        self.clients = ClientBook(clients(scenario))
        self.contacts = ContactBook()
        for row in repository.contacts():
            self.contacts.restore(contact_from(json.loads(row.data)))
        self.tickets = TicketBook()
        for row in repository.tickets():
            self.tickets.restore(ticket_from(json.loads(row.data)))
        epoch = datetime.fromtimestamp(started, self.zone)
        self.flow = InboundFlow(self.clients, self.contacts, epoch, caller_routing(scenario))
        self.centre = LiveCentre(self.acd, self.flow, speedup=speedup, clock=clock)
        self.clock = Clock(self.centre.now, started, self.zone, self.flow.at)
        self.events = EventStream(repository.next_id("events"))
        self.uow = UnitOfWork(repository, self._event_row, self._contact_row, self.events.publish)
        self.stats = Statistics(scenario, self.acd, self.clock, self.uow, self.tickets)
        self.ledger = Ledger(
            self.acd, self.uow, self.events, self.clock, self.stats, self.run, devices,
            repository.next_id("calls"),
        )  # fmt: skip
        self.centre.watch(self.ledger.watch)
        self.desk = Desk(
            self.contacts, self.tickets, self.clients, self.flow, self.clock, self.uow,
            self.events, wall, self.ledger.calls,
        )  # fmt: skip
        self.views = Views(
            scenario, self.acd, self.ledger, self.uow, self.flow, self.tickets, self.clock,
            self.agent_skills,
        )  # fmt: skip
        self.lag = LagProbe()
        self.stopped = False

    # -- start and stop -----------------------------------------------------------------

    def _load_agents(self, repository: Repository) -> dict[str, dict[str, int]]:
        """Every agent: the scenario's, then those added or changed over the API."""
        skills = {
            f"{g.name}-{k}": g.skill_levels()
            for g in self.scenario.agents
            for k in range(1, g.count + 1)
        }
        for row in repository.agents():
            skills[row.id] = json.loads(row.skills)
        return skills

    def stop(self) -> None:
        """The graceful shutdown: open calls end ``interrupted`` (recorded), timers stop."""
        if self.stopped:
            return
        self.centre.stop()
        self.flush()
        self.stopped = self.views.stopped = self.lag.stopped = True
        self.uow.repository.stop_run(self.run, self._wall())
        self.events.close()  # the streams and long polls end at once
        for waiters in self.ledger.offer_waiters.values():
            for w in waiters:
                if not w.done():
                    w.set_result(None)

    def _running(self) -> None:
        """Before a request changes anything: the service runs and its database is there."""
        if self.stopped:
            raise RoutingError("the service is stopping")
        self.uow.check()

    # -- clock, unit of work, event stream (the collaborators') ---------------------------

    @property
    def calls(self) -> Mapping[int, OpenCall]:
        """The open calls."""
        return self.ledger.calls

    @property
    def recent(self) -> deque[dict[str, Any]]:
        return self.events.recent

    @property
    def epoch_unix(self) -> float:
        return self.clock.epoch_unix

    def now(self) -> float:
        return self.clock.now()

    def unix(self, at_s: float) -> float:
        return self.clock.unix(at_s)

    def timer_lag_ms(self) -> dict[str, float]:
        return self.lag.timer_lag_ms()

    def unit(self) -> Batch:
        return self.uow.unit()

    def flush(self) -> None:
        self.uow.flush()

    async def settled(self) -> None:
        await self.uow.settled()

    def _event_row(self, event: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": event["id"],
            "type": event["type"],
            "at_s": event["at_s"],
            "at_unix": self.clock.unix(event["at_s"]),
            "data": dumps(event),
        }

    def _contact_row(self, contact_id: int) -> dict[str, Any]:
        return self.desk.contact_row(contact_id)

    def subscribe(self) -> Inbox:
        return self.events.subscribe()

    def unsubscribe(self, queue: Inbox) -> None:
        self.events.unsubscribe(queue)

    def last_event_id(self) -> int:
        return self.events.last_event_id()

    def events_after(self, last_id: int) -> Iterable[dict[str, Any]]:
        return self.events.events_after(last_id, self.uow.reader)

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
        """A call comes in: to a client's dialled number (the inbound flow decides), or
        straight to ``queue`` (an in-house line). ``practice``: a practice call, with the
        card it re-enacts (dated by it) and the trainee it rings alone."""
        self._running()
        dated, trainee = self._practice(practice, queue)
        if queue is not None:
            self.views.known_queue(queue)
        if queue is None and not dnis.strip():
            raise InputError("a call needs its dialled number, or a queue", field="dnis")
        if queue is None:
            client = self.clients.for_dnis(dnis)  # unknown number: 404 before any change
        call_id = self.ledger.new_call_id()
        now = self.now()
        row = self.ledger.new_row(
            call_id, now, None if queue else client.name, ani, dnis, queue or client.queue,
            language=language,
            practice=dumps({"card": practice["card"], "agent": trainee, "score": None})
            if practice
            else None,
        )  # fmt: skip
        call = self.ledger.open(row, practice["card"] if practice else None)
        batch = self.unit()
        if queue is not None:
            self.events.emit(
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
            self.events.emit(
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

    def dial_result(self, agent: str, *, reached: bool, number: str = "") -> dict[str, Any]:
        """What the dialer got for ``agent`` (blended outbound, a ``dial`` event): the
        right party (``reached``: an outbound call of the campaign, connected to the agent,
        which ends as any call) or not (the agent is free again)."""
        self._running()
        self.views.known_agent(agent)
        campaign = self.scenario.outbound.queue if self.scenario.outbound else None
        if campaign is None:
            raise InvalidEventError("dial-result refused: the scenario has no outbound campaign")
        if not self.acd.knows(agent) or self.acd.agent_state(agent) is not AgentState.DIALLING:
            raise InvalidEventError(f"dial-result refused: agent {agent!r} is not dialling")
        if not reached:
            self.centre.handle(OutboundUnanswered(agent))
            return self.agent_view(agent)
        call_id = self.ledger.new_call_id()
        now = self.now()
        self.ledger.open(self.ledger.new_row(call_id, now, None, number, "", campaign))
        batch = self.unit()
        self.events.emit(batch, "call_arrived", now, call_id=call_id, queue=campaign, client=None,
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
        if card.get("rubric") is not None:  # graded by it at completion: refused now if bad
            rubric_from(card["rubric"], "practice.card.rubric: ")
        trainee = practice.get("agent")
        if trainee is not None:
            self.views.known_agent(trainee)
        return dated, trainee

    def transfer(
        self,
        call_id: int,
        *,
        queue: str | None = None,
        agent: str | None = None,
    ) -> dict[str, Any]:
        """The agent on the call sends it on: into ``queue`` or to ``agent`` (the core
        decides; it refuses a call not connected or an agent not ready with 409). Whose
        call it is, the API asks (``api.access.own_call``)."""
        self._running()
        self.views.live(call_id)
        if agent is not None:
            self.views.known_agent(agent)  # 404 if nobody has that name
            if not self.acd.knows(agent):  # the core meets agents when they log in
                raise InvalidEventError(f"transfer refused: {agent!r} is not logged in")
        if queue is not None:
            self.views.known_queue(queue)
        self.centre.handle(CallTransferred(call_id, queue=queue, agent=agent))
        return self.call_view(call_id)

    def draft(self, call_id: int, text: str) -> dict[str, Any]:
        """The note as the agent is writing it: kept with the open call and sent on the
        event stream (``note_draft``), so a supervisor monitoring the call reads along."""
        self._running()
        call = self.views.live(call_id)
        call.draft = text
        self.events.emit(
            self.unit(), "note_draft", self.now(), call_id=call.id, queue=call.row["queue"],
            client=call.row["client"], agent=call.row["agent"], text=text,
        )  # fmt: skip
        return {"call_id": call.id, "draft": text}

    def hang_up(self, call_id: int) -> dict[str, Any]:
        self._running()
        self.views.live(call_id)
        self.centre.handle(CallerHungUp(call_id))
        return self.call_view(call_id)

    def request_callback(self, call_id: int) -> dict[str, Any]:
        """The waiting caller accepts a callback and hangs up: the call keeps its place
        (status ``callback``) and rings an agent, who dials the caller, in its turn."""
        self._running()
        self.views.live(call_id)
        self.centre.handle(CallbackRequested(call_id))
        return self.call_view(call_id)

    def callback_unanswered(self, call_id: int) -> dict[str, Any]:
        """The agent dialled the callback and nobody answered: it ends
        ``callback_failed`` and the agent wraps up."""
        self._running()
        self.views.live(call_id)
        self.centre.handle(CallbackUnanswered(call_id))
        return self.call_view(call_id)

    def complete(
        self,
        call_id: int,
        *,
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
        call = self.views.live(call_id)
        if call.row["status"] != "talking":
            raise InvalidEventError(
                f"complete refused: call {call_id} is {call.row['status']}, not talking"
            )
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
            self.desk.check_ticket(contact, ticket)
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
        self.ledger.set(batch, call, policy_result=result.value)
        if call.practice is not None:
            score = score_handling(call.practice, result=result.value, employee=employee,
                                   note=note, callback_number=callback_number,
                                   **self.desk.practice_talk(call.id))  # fmt: skip
            self.desk.practice_scored(batch, call, score)  # the trainee's history
            stored = json.loads(call.row["practice"])
            self.ledger.set(batch, call, practice=dumps({**stored, "score": score}))
            self.events.emit(batch, "practice_scored", self.now(), call_id=call.id,
                       agent=call.row["agent"], card=score["card"],
                       score=score["score"])  # fmt: skip
        note_id = None
        if note:
            note_id = self.desk.add_note(batch, call, note, callback_number, result, at)
        if ticket is not None:
            ticket_out = self.desk.ticket_for_call(batch, call, contact, ticket, now)
        self.centre.handle(CallEnded(call_id, Party.AGENT))
        view = self.call_view(call_id)
        view["note_id"] = note_id
        view["ticket"] = ticket_out
        return view

    # -- agents and offers ------------------------------------------------------------------

    def login(self, agent: str, paused_reason: str | None = None) -> dict[str, Any]:
        self._running()
        self.views.known_agent(agent)
        skills = None if self.acd.knows(agent) else self.agent_skills[agent]
        batch = self.unit()
        self.ledger.agent_event(batch, agent, "login", paused_reason, self.now())
        devices = self.ledger.devices
        timeout = devices[agent][1] if agent in devices else None
        chats = self.chats.get(agent, 1)
        self.centre.handle(AgentLoggedIn(agent, skills, paused_reason, timeout, chats))
        return self.agent_view(agent)

    def ready(self, agent: str) -> dict[str, Any]:
        return self._agent_do(agent, "ready", None, AgentReady(agent))

    def pause(self, agent: str, reason: str) -> dict[str, Any]:
        return self._agent_do(agent, "pause", reason, AgentPaused(agent, reason))

    def logout(self, agent: str) -> dict[str, Any]:
        return self._agent_do(agent, "logout", None, AgentLoggedOut(agent))

    def _agent_do(self, agent: str, kind: str, reason: str | None, event: Event) -> dict[str, Any]:
        self._running()
        self.views.known_agent(agent)
        if not self.acd.knows(agent):  # never logged in: nothing to change
            raise InvalidEventError(f"{kind} refused: agent {agent!r} is not logged in")
        batch = self.unit()
        self.ledger.agent_event(batch, agent, kind, reason, self.now())
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
        self.events.emit(batch, "agent_skills", self.now(), agent=agent, skills=skills)
        return self.agent_view(agent)

    def accept(self, offer_id: str) -> dict[str, Any]:
        self._running()
        offer = self._ringing(offer_id)
        batch = self.unit()
        self.centre.handle(AgentAnswered(offer.agent, offer.call))
        call = self.calls.get(offer.call)
        if call is not None and call.inbound is not None:
            instruction = self.flow.answer(call.inbound, offer.agent, self.now())
            self.ledger.set(batch, call, instruction=dumps(jsonable(instruction)))
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
        result = self.views.offer_result(offer)
        if result is OfferResult.NO_ANSWER:
            raise GoneError(f"offer {offer_id!r} rang out")
        if result is OfferResult.CANCELLED:
            if offer.call not in self.calls or self.calls[offer.call].row["agent"] is None:
                raise GoneError(f"offer {offer_id!r} is over: the caller left")
            raise RoutingError(f"offer {offer_id!r} was taken by another agent")
        if result is not OfferResult.RINGING:
            raise RoutingError(f"offer {offer_id!r} was already {result.value}")
        return offer

    # -- reads (the views, the desk and the statistics') ------------------------------------

    def call_view(self, call_id: int, *, current_position: bool = False) -> dict[str, Any]:
        return self.views.call_view(call_id, current_position=current_position)

    def open_calls(self, client: str | None = None) -> list[dict[str, Any]]:
        return self.views.open_calls(client)

    def records(self, after: int, limit: int, client: str | None = None) -> list[dict[str, Any]]:
        return self.views.records(after, limit, client)

    def decisions(self, call_id: int) -> list[dict[str, Any]]:
        return self.views.decisions(call_id)

    def queue_list(self) -> list[dict[str, Any]]:
        return self.views.queue_list()

    def agent_names(self) -> list[str]:
        return self.views.agent_names()

    def agent_view(self, agent: str) -> dict[str, Any]:
        return self.views.agent_view(agent)

    def agents_view(self) -> list[dict[str, Any]]:
        return self.views.agents_view()

    async def wait_offers(self, agent: str, wait_s: float) -> list[dict[str, Any]]:
        return await self.views.wait_offers(agent, wait_s)

    def offer(self, offer_id: str) -> OfferKey:
        return self.views.offer(offer_id)

    def offer_view(self, offer: OfferKey) -> dict[str, Any]:
        return self.views.offer_view(offer)

    def contact(self, contact_id: int) -> dict[str, Any]:
        return self.desk.contact(contact_id)

    def lookup(self, number: str) -> list[dict[str, Any]]:
        return self.desk.lookup(number)

    def add_contact(self, numbers: Sequence[str], fields: Mapping[str, Any]) -> dict[str, Any]:
        self._running()
        return self.desk.add_contact(numbers, fields)

    def update_contact(self, contact_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.desk.update_contact(contact_id, fields)

    def attach_number(self, contact_id: int, number: str) -> dict[str, Any]:
        return self.desk.attach_number(contact_id, number)

    def search_contacts(self, text: str, limit: int) -> list[dict[str, Any]]:
        return self.desk.search_contacts(text, limit)

    def notes(
        self, *, call: int | None = None, client: str | None = None, after: int = 0,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:  # fmt: skip
        return self.desk.notes(call=call, client=client, after=after, limit=limit)

    def open_ticket(
        self, contact: int, subject: str, by: str, *, client: str | None = None,
        call: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return self.desk.open_ticket(contact, subject, by, client=client, call=call)

    def change_ticket(
        self, ticket_id: int, status: str, by: str, note: str = "",
        follow_up_due: datetime | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return self.desk.change_ticket(ticket_id, status, by, note, follow_up_due)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        return self.desk.ticket(ticket_id)

    def client_card(self, name: str) -> dict[str, Any]:
        return self.desk.client_card(name)

    def employees(self, name: str, text: str, limit: int = 20) -> list[dict[str, Any]]:
        return self.desk.employees(name, text, limit)

    def realtime(self, client: str | None = None) -> dict[str, Any]:
        return self.stats.realtime(client)

    def intervals(self, day: str | None, client: str | None = None) -> dict[str, Any]:
        return self.stats.intervals(day, client)

    def first_contact_resolution(
        self, day: str | None, window_h: float, client: str | None = None
    ) -> dict[str, Any]:
        return self.stats.first_contact_resolution(day, window_h, client)
