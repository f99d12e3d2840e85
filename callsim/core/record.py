"""What the ACD core writes down: one flat record per call, a journal, decision traces."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, NamedTuple

CallId = int | str


class Party(enum.Enum):
    """Who ended a connected call."""

    AGENT = "agent"
    CALLER = "caller"


class Outcome(enum.Enum):
    """How a call ended; every call ends in exactly one."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    NOTE = "note"
    FORWARDED = "forwarded"
    BLOCKED = "blocked"  # screened out before the queue (advertising blocking)
    BUSY = "busy"  # every line or every queue position was taken: the caller heard busy
    CALLBACK_FAILED = "callback_failed"  # the callback was dialled and nobody answered
    DEFLECTED = "deflected"  # ended in self-service before the queue
    MESSAGE = "message"  # ended after a recorded message of the voice menu
    CLOSED = "closed"  # ended by the system: queue empty or closed
    INTERRUPTED = "interrupted"  # the service stopped while the call was open


class OfferResult(enum.Enum):
    """An offer's result, in one vocabulary for a call's record and for the views of an
    open call (``RINGING`` only there: a record's offers have all ended)."""

    RINGING = "ringing"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"  # rang out (its ring timeout)
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # another agent answered first, or the caller left


class Offer(NamedTuple):
    at_s: float
    agent: str
    result: OfferResult
    ring_s: float


class Transfer(NamedTuple):
    """An agent sent a connected call on: to a queue or to one agent."""

    at_s: float
    agent: str  # who transferred it
    queue: str | None
    to_agent: str | None


class CallRecord(NamedTuple):
    """One call, written when the call and its agent's wrap-up are over. An immutable
    flat record (a NamedTuple: a quarter of a frozen dataclass's cost to create).

    Times are seconds on the shell's clock. ``wait_s`` runs from queue entry to answer
    (or to the end for unanswered calls), ``talk_s`` from answer to the end of talk;
    ``ring_s`` is the part of the wait spent ringing agents (over all offers).

    A call whose caller asked to be called back (``callback_s``) kept its place and was
    dialled when an agent took it: ``answer_s`` is when the agent did, and it ends
    ``answered`` or ``callback_failed``.

    A transferred call keeps one record: ``wait_s`` and ``answer_s`` are its first
    answer's, ``talk_s`` sums the talk with every agent, ``agent`` is the last one, and
    it ends ``answered`` (its first queue answered it) unless the service stopped.
    """

    call: CallId
    queue: str
    final_queue: str
    ani: str
    dnis: str
    priority: int
    arrival_s: float
    queued_s: float
    offers: tuple[Offer, ...]
    answer_s: float | None
    end_s: float
    outcome: Outcome
    agent: str | None
    wait_s: float
    ring_s: float
    talk_s: float
    wrap_up_s: float
    ended_by: Party | None  # who ended the talk of an answered call
    overflowed: tuple[str, ...] = ()  # the queues whose agents it was also offered to
    transfers: tuple[Transfer, ...] = ()
    callback_s: float | None = None  # the caller asked to be called back (virtual hold)


class RecordColumns:
    """Call records as columns, one list per field a day's statistics read: what an
    ``Acd`` created with ``columns=True`` writes where it would append a ``CallRecord``
    (``Acd._record`` decides both: the same fields, from the same rule). A simulated day
    of tens of thousands of calls then builds no record tuple per call, and the shell
    reads each list into an array without transposing records.

    Rows are in the order the records would have been written. ``queue`` and
    ``final_queue`` are indexes into the ACD's queues (``Acd.queue_names``), ``agent``
    into its agents (``agents``; -1: none), ``outcome`` into ``Outcome``'s
    members in their order (``outcome_index``); ``overflowed`` each call's overflow
    queues (mostly ``()``). ``queues`` and ``agents`` are those names in the ACD's order
    as it knew them when the columns were taken (``Acd.take_columns``): an agent it met
    during the day has an index too."""

    __slots__ = (
        "agent", "agents", "arrival_s", "call", "callback_s", "final_queue", "outcome",
        "overflowed", "queue", "queued_s", "queues", "ring_s", "talk_s", "wait_s",
        "wrap_up_s",
    )  # fmt: skip

    def __init__(self) -> None:
        self.queues: tuple[str, ...] = ()
        self.agents: tuple[str, ...] = ()
        self.call: list[CallId] = []
        self.queue: list[int] = []
        self.final_queue: list[int] = []
        self.outcome: list[int] = []
        self.agent: list[int] = []
        self.arrival_s: list[float] = []
        self.queued_s: list[float] = []
        self.wait_s: list[float] = []
        self.ring_s: list[float] = []
        self.talk_s: list[float] = []
        self.wrap_up_s: list[float] = []
        self.callback_s: list[float | None] = []
        self.overflowed: list[tuple[str, ...]] = []

    def __len__(self) -> int:
        return len(self.call)


_OUTCOMES: Final = tuple(Outcome)


def outcome_index(outcome: Outcome) -> int:
    """The outcome's place in ``Outcome``'s order, found by identity (an enum member's
    hash is Python code)."""
    for i, member in enumerate(_OUTCOMES):
        if member is outcome:
            return i
    raise ValueError(f"outcome: {outcome!r} is not an Outcome")


class StaffedSpan(NamedTuple):
    """A stretch of time an agent was staffed: logged in and not paused (ready, ringing,
    talking or in wrap-up), serving ``queues``. Written when it ends (a pause, a log-out,
    a change of skills, the service stopping): staffed time comes from the states the
    core held, not from a plan."""

    agent: str
    queues: tuple[str, ...]
    start_s: float
    end_s: float


class JournalKind(enum.Enum):
    """Journal entry kinds; the names of Asterisk's queue_log where one exists."""

    ENTERQUEUE = "ENTERQUEUE"
    RINGNOANSWER = "RINGNOANSWER"
    RINGCANCELED = "RINGCANCELED"
    CONNECT = "CONNECT"
    COMPLETEAGENT = "COMPLETEAGENT"
    COMPLETECALLER = "COMPLETECALLER"
    ABANDON = "ABANDON"
    EXITWITHTIMEOUT = "EXITWITHTIMEOUT"
    EXITEMPTY = "EXITEMPTY"
    JOINEMPTY = "JOINEMPTY"
    FULL = "FULL"  # the queue's positions (or the centre's lines) were all taken
    CALLBACK = "CALLBACK"  # the caller asked to be called back and hung up
    DIAL = "DIAL"  # an outbound call of the blend reached the right party
    OVERFLOW = "OVERFLOW"
    VOICEMAIL = "VOICEMAIL"
    NOTE = "NOTE"
    FORWARD = "FORWARD"
    CLOSED = "CLOSED"
    INTERRUPTED = "INTERRUPTED"
    AGENTLOGIN = "AGENTLOGIN"
    AGENTLOGOFF = "AGENTLOGOFF"
    PAUSE = "PAUSE"
    UNPAUSE = "UNPAUSE"
    WRAPUPEND = "WRAPUPEND"
    BLINDTRANSFER = "BLINDTRANSFER"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One entry of the typed event stream. ``data`` are the kind's parameters in
    Asterisk's order (e.g. CONNECT: holdtime, channel, ringtime)."""

    at_s: float
    call: CallId | None
    queue: str | None
    agent: str | None
    kind: JournalKind
    data: tuple[str | int | float, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    agent: str
    score: tuple[float, ...]  # the strategy's sort key: lower is offered first


TRACE_TOP = 10  # the candidates and exclusions a decision lists: a trace costs O(this)


@dataclass(frozen=True, slots=True)
class Decision:
    """Why an offer went where it went (only when the ACD is created with ``trace=True``).

    The best ``TRACE_TOP`` candidates are listed, not every idle agent: a decision with a
    thousand idle agents costs what one with ten does."""

    at_s: float
    call: CallId
    queue: str
    strategy: str
    candidates: tuple[Candidate, ...]  # the best untried idle qualified agents, best first
    n_candidates: int  # how many there were (the list stops at TRACE_TOP)
    excluded: tuple[tuple[str, str], ...]  # (agent, reason), e.g. already tried in this hunt
    chosen: tuple[str, ...]
    rule: str  # the ordering and tie-break that decided
