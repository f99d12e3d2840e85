"""A call's live state inside the ACD."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final

from callsim.core.event import CallId
from callsim.core.record import OfferResult, Party, Transfer

if TYPE_CHECKING:
    from callsim.core.agent import Agent
    from callsim.core.queue import QueueState

_LONG_AGO: Final = -float("inf")  # a constant: compiled, not parsed per call
# an offer as the call holds it: ``record.Offer``'s fields (at_s, agent, result, ring_s) in
# a plain tuple, made an ``Offer`` only where a record or a view is built (a NamedTuple
# costs several times a tuple to create, and most calls' offers are never read as one)
OfferRow = tuple[float, str, OfferResult, float]
# what a call that has rung nobody holds: shared, never added to (``Call.ring`` makes the
# call its own on the first ring; with agents answering at once, most calls never ring)
_NOT_RINGING: Final[dict[str, float]] = {}
_UNTRIED: Final[set[str]] = set()


class CallState(enum.Enum):
    NEW = "new"  # not yet offered nor waiting (arriving, or moving between queues)
    WAITING = "waiting"
    RINGING = "ringing"
    TALKING = "talking"
    WRAP_UP = "wrap_up"  # talk is over; the record is written when the agent's wrap-up ends
    DONE = "done"


class Call:
    __slots__ = (
        "agent",
        "ani",
        "answer_s",
        "arrival_s",
        "callback_failed",
        "callback_offered",
        "callback_s",
        "connected_s",
        "dnis",
        "end_s",
        "ended_by",
        "entered_s",
        "entries",
        "first_queue",
        "id",
        "moved_s",
        "moves",
        "offers",
        "orig_position",
        "overflowed",
        "preferred",
        "preferred_wait_s",
        "priority",
        "queue",
        "queue_token",
        "queued_s",
        "queues",
        "reserved_for",
        "ringing",
        "seq",
        "state",
        "talk_s",
        "timers_started",
        "transfers",
        "tried",
        "wait_token",
    )

    def __init__(
        self, call_id: CallId, queue: QueueState, ani: str, dnis: str, priority: int, now: float
    ) -> None:
        self.id = call_id
        self.queue = queue  # current primary queue
        self.first_queue = queue.name
        self.queues: list[QueueState] = [queue]  # primary plus overflow queues
        self.ani = ani
        self.dnis = dnis
        self.priority = priority
        self.arrival_s = now
        self.queued_s = now  # first queue entry: "longest waiting" is measured from here
        self.entered_s = now  # entry into the current primary queue (max wait, overflow)
        self.state = CallState.NEW
        self.wait_token = 0
        self.queue_token = 0
        self.ringing: dict[str, float] = _NOT_RINGING  # agent -> ring start (``ring``)
        self.tried: set[str] = _UNTRIED  # the agents offered it in this hunt (``ring``)
        self.offers: tuple[OfferRow, ...] = ()  # most calls get one: no list to copy
        self.answer_s: float | None = None  # the first answer (a transfer keeps it)
        self.connected_s = 0.0  # when the current agent answered
        self.talk_s = 0.0  # talk over, with every agent so far
        self.transfers: tuple[Transfer, ...] = ()
        self.agent: Agent | None = None
        self.end_s = 0.0
        self.ended_by: Party | None = None
        self.orig_position = 0
        self.overflowed: tuple[str, ...] = ()  # queues it overflowed to, in order
        self.timers_started = False
        self.entries: dict[str, int] = {}  # queue name -> entry number into that queue
        self.preferred: Agent | None = None  # to offer first (one shot)
        self.preferred_wait_s = 0.0
        self.reserved_for: Agent | None = None  # waiting for this agent alone
        self.seq = 0  # arrival order: breaks ties between calls that arrived at once
        self.callback_s: float | None = None  # the caller asked for a callback (hung up)
        self.callback_offered = False
        self.callback_failed = False
        self.moved_s = _LONG_AGO  # when ``moves`` were made: the queues it left at that instant
        self.moves: tuple[str, ...] = ()  # no list per call: moves are rare

    def ring(self, agent: str, now: float) -> None:
        """An offer rings ``agent`` from ``now``: in ``ringing`` and ``tried``, the call's
        own from its first ring on."""
        if self.ringing is _NOT_RINGING:
            self.ringing = {}
        if self.tried is _UNTRIED:
            self.tried = set()
        self.ringing[agent] = now
        self.tried.add(agent)

    def rings_over(self) -> None:
        """No offer of the call rings any more."""
        self.ringing = _NOT_RINGING
