"""The live service's views: calls, agents and offers as the API shows them.

Every state here is the core's, read through its views (``Acd.call_view``,
``Acd.offer_result``, ``Acd.agent_view``, ``Acd.handler``); the rows and names are the
ledger's; an ended call is its stored row.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import orjson

from callsim.core import (
    Acd,
    AgentState,
    InboundFlow,
    OfferResult,
    TicketBook,
    instruction_for,
)
from callsim.errors import (
    InvalidEventError,
    NotFoundError,
    RoutingError,
    UnknownAgentError,
    UnknownCallError,
    UnknownQueueError,
)
from callsim.live.clock import Clock
from callsim.live.codec import json_bytes, json_list, recording, ticket_view
from callsim.live.commit import UnitOfWork
from callsim.live.ledger import Ledger, OfferKey, OpenCall
from callsim.scenario import Scenario

MAX_WAIT_POLL_S = 60.0
_NOT_SHOWN = frozenset(("run", "offers", "overflowed", "transfers", "practice"))  # as stored


def plain(value: Any) -> Any:
    """A screen pop or an instruction as ``jsonable`` makes it, at C speed: orjson writes
    their dataclasses, enums, datetimes, tuples and floats as ``jsonable`` does (fields in
    order, enums by value, ISO dates, lists, NaN as null; neither holds a named tuple or
    a dict) and reads them back as plain values (a POST /v1/calls: 9 us to 4.5 us)."""
    return orjson.loads(json_bytes(value))


class GoneError(RoutingError):
    """An offer that rang out or whose caller left: it can no longer be accepted."""

    http_status = 410


class Views:
    """Reads of one centre's calls, agents and offers."""

    def __init__(
        self,
        scenario: Scenario,
        acd: Acd,
        ledger: Ledger,
        uow: UnitOfWork,
        flow: InboundFlow,
        tickets: TicketBook,
        clock: Clock,
        agent_skills: Mapping[str, Mapping[str, int]],
    ) -> None:
        self.scenario = scenario
        self.acd = acd
        self.ledger = ledger
        self.uow = uow
        self.flow = flow
        self.tickets = tickets
        self.clock = clock
        self.agent_skills = agent_skills  # every agent (the scenario's and the API's)
        self.queues = tuple(q.name for q in scenario.queues)
        self.stopped = False

    # -- calls ----------------------------------------------------------------------------

    def call_view(self, call_id: int, *, current_position: bool = False) -> dict[str, Any]:
        """A call as the API shows it: live state, or the stored record once it ended."""
        call = self.ledger.calls.get(call_id)
        staged = self.uow.staged.calls.get(call_id)
        row: Mapping[str, Any]
        if call is not None:
            row = call.row  # read only: ``out`` below is the copy
        elif staged is not None:  # ended in this turn: its row is not committed yet
            row = {**staged, "position": None}
        else:
            found = self.uow.repository.call(call_id)
            if found is None:
                raise UnknownCallError(f"call {call_id} does not exist", field="call_id")
            row = {**found._mapping, "position": None}
        out = {k: v for k, v in row.items() if k not in _NOT_SHOWN}
        out["practice"] = json.loads(row["practice"]) if row.get("practice") else None
        out["call_id"] = out.pop("id")
        out["offers"] = json.loads(row["offers"]) if call is None else self._offers(call)
        out["overflowed"] = json_list(row["overflowed"])
        out["transfers"] = json_list(row["transfers"])
        out["instruction"] = json.loads(row["instruction"]) if row["instruction"] else None
        if call is not None and call.row["status"] == "waiting" and current_position:
            out["position"] = self._position(call)  # O(n log n): not on the hot path
        out["draft"] = call.draft if call is not None else None
        if call is not None and call.inbound is not None:
            inbound = call.inbound
            out["screen_pop"] = plain(self.flow.screen_pop(inbound))
            out["policy_result"] = inbound.result.value
            contact = inbound.contact
            out["tickets"] = (  # the caller's tickets not closed: update, not open anew
                [ticket_view(t) for t in self.tickets.open_for(contact.id)] if contact else []
            )
            if out["instruction"] is None:  # before the answer: what it would be now
                out["instruction"] = plain(instruction_for(inbound.client, self.clock.calendar()))
        return out

    def _offers(self, call: OpenCall) -> list[dict[str, Any]]:
        """An open call's offers, by name, each in the core's state (one view for all)."""
        if not call.offers:  # a call just placed: no view of the core's to build
            return []
        view = self.acd.call_view(call.id)
        results = {(o.agent, o.at_s): o.result for o in view.offers} if view is not None else {}
        return [
            {
                "offer_id": o.id,
                "agent": o.agent,
                "at_s": o.at_s,
                "result": results.get((o.agent, o.at_s), OfferResult.CANCELLED).value,
            }
            for o in call.offers
        ]

    def _position(self, call: OpenCall) -> int | None:
        for i, (cid, _) in enumerate(self.acd.waiting(call.row["queue"]), start=1):
            if cid == call.id:
                return i
        return None

    def live(self, call_id: int) -> OpenCall:
        call = self.ledger.calls.get(call_id)
        if call is None:
            self.call_view(call_id)  # 404 if it never existed
            raise InvalidEventError(f"call {call_id} has ended")
        return call

    def decisions(self, call_id: int) -> list[dict[str, Any]]:
        self.call_view(call_id)
        return [json.loads(data) for data in self.uow.reader().decisions(call_id)]

    def open_calls(self, client: str | None = None) -> list[dict[str, Any]]:
        """The calls open now (arriving, waiting, ringing, talking, in wrap-up), oldest
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
                "recording": recording(c.inbound),
            }
            for c in self.ledger.calls.values()
            if client is None or c.row["client"] == client
        ]

    def records(self, after: int, limit: int, client: str | None = None) -> list[dict[str, Any]]:
        """The stored records of ended calls with ids above ``after``, by id: the columns
        as stored (an export for audits and analyses; ``record_of`` reads one back)."""
        rows = self.uow.reader().records(after, limit, client)
        return [dict(r._mapping) for r in rows]

    def queue_list(self) -> list[dict[str, Any]]:
        """The queues, with the skills an agent needs for each (transfer targets) and
        their channel (voice, chat or email)."""
        return [
            {"queue": q.name, "skills": list(q.skills), "channel": q.channel.value}
            for q in self.scenario.queues
        ]

    # -- agents and offers -----------------------------------------------------------------

    def agent_names(self) -> list[str]:
        return sorted(set(self.agent_skills) | {a.name for a in self.acd.roster()})

    def known_queue(self, queue: str) -> None:
        if queue not in self.acd.queue_names():
            raise UnknownQueueError(
                f"{queue!r} does not exist (queues: {', '.join(self.queues)})", field="queue"
            )

    def known_agent(self, agent: str) -> None:
        if agent not in self.agent_skills and not self.acd.knows(agent):
            raise UnknownAgentError(f"agent {agent!r} does not exist", field="agent")

    def agent_view(self, agent: str) -> dict[str, Any]:
        self.known_agent(agent)
        core = self.acd.agent_view(agent) if self.acd.knows(agent) else None
        state = core.state if core is not None else AgentState.OFFLINE
        since = self.ledger.agent_since.get(agent)
        offer = self.ringing_offer(agent)
        now = self.clock.now()
        wrap_ends = core.wrap_ends_s if core is not None else None
        holds = core is not None and core.state in (AgentState.TALKING, AgentState.WRAP_UP)
        call = core.call if holds and core is not None else None
        return {
            "agent": agent,
            "state": state.value,
            "reason": self.ledger.agent_reason.get(agent) if state is AgentState.PAUSED else None,
            "skills": self.agent_skills.get(agent, {}),
            "in_state_s": None if since is None else round(now - since, 3),
            "wrap_up_left_s": None if wrap_ends is None else round(max(wrap_ends - now, 0), 3),
            "call_id": call if call is not None and self.acd.handler(call) == agent else None,
            "offer_id": offer.id if offer else None,
            "chat_ids": list(core.chats) if core is not None else [],  # chats held
        }

    def agents_view(self) -> list[dict[str, Any]]:
        return [self.agent_view(a) for a in self.agent_names()]

    async def wait_offers(self, agent: str, wait_s: float) -> list[dict[str, Any]]:
        """The agent's ringing offer, waiting up to ``wait_s`` for one (a long poll)."""
        self.known_agent(agent)
        if self.ringing_offer(agent) is None and wait_s > 0 and not self.stopped:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.ledger.offer_waiters.setdefault(agent, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, min(wait_s, MAX_WAIT_POLL_S))
            except TimeoutError:
                pass
            finally:
                waiters = self.ledger.offer_waiters.get(agent, [])
                if waiter in waiters:
                    waiters.remove(waiter)
        offer = self.ringing_offer(agent)
        return [] if offer is None else [self.offer_view(offer)]

    def ringing_offer(self, agent: str) -> OfferKey | None:
        """The offer ringing ``agent`` now (the core's), by its name."""
        core = self.acd.agent_view(agent) if self.acd.knows(agent) else None
        if core is None or core.state is not AgentState.RINGING or core.call is None:
            return None
        call = self.ledger.calls.get(int(core.call))
        rung = [o for o in call.offers if o.agent == agent] if call is not None else []
        return rung[-1] if rung else None  # the latest ring of the agent for the call

    def offer_result(self, offer: OfferKey) -> OfferResult:
        """The offer's result: the core's while its call is open, else its record's."""
        result = self.acd.offer_result(offer.call, offer.agent, offer.at_s)
        if result is not None:
            return result
        if offer.call not in self.ledger.calls:  # ended: its record has the offer's result
            for o in self.call_view(offer.call)["offers"]:
                if o["agent"] == offer.agent and o["at_s"] == offer.at_s:
                    return OfferResult(o["result"])
        return OfferResult.CANCELLED

    def offer_view(self, offer: OfferKey) -> dict[str, Any]:
        call = self.ledger.calls.get(offer.call)
        view = self.acd.call_view(offer.call)
        timeout = next(
            (o.timeout_s for o in view.offers if o.agent == offer.agent and o.at_s == offer.at_s),
            0.0,
        ) if view is not None else 0.0  # fmt: skip
        left = offer.at_s + timeout - self.clock.now()
        out: dict[str, Any] = {
            "offer_id": offer.id,
            "call_id": offer.call,
            "agent": offer.agent,
            "result": self.offer_result(offer).value,
            "at_s": offer.at_s,  # when it started ringing, on the service's clock
            "expires_in_s": round(max(left, 0.0), 3),
        }
        if offer.agent in self.ledger.devices:  # forwarded to the agent's personal device
            out["device"] = self.ledger.devices[offer.agent][0]
        if call is not None:
            out.update(queue=call.row["queue"], client=call.row["client"], ani=call.row["ani"],
                       practice=call.practice is not None,
                       callback=call.row["callback_s"] is not None)  # fmt: skip
            if call.inbound is not None:
                out["screen_pop"] = plain(self.flow.screen_pop(call.inbound))
        return out

    def offer(self, offer_id: str) -> OfferKey:
        offer = self.ledger.offers.get(offer_id)
        if offer is None:
            call_part, _, nth = offer_id.partition("-")  # an offer id is CALL-N
            if (
                call_part.isdigit() and nth.isdigit()
                and 1 <= int(call_part) < self.ledger.next_call and int(nth) >= 1
            ):  # fmt: skip
                raise GoneError(f"offer {offer_id!r} is over (its call has ended)")
            raise NotFoundError(f"offer {offer_id!r} does not exist", field="offer_id")
        return offer
