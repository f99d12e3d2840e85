"""Events the shells feed into the ACD core, with the time they happen at.

Events and commands are slotted dataclasses that nobody mutates: the core copies what it
needs and keeps no reference. They are not ``frozen`` because a frozen dataclass costs
five times as much to create, and a simulated day creates millions of them. The ones
made for every call write their ``__init__`` out (``init=False``): compiled with mypyc,
a written ``__init__`` is native and four times cheaper than the one ``dataclass``
generates (tests check each matches its fields).

A shell calls ``Acd.handle(event, now)``. Events that may arrive late (a ring timeout
after the agent answered, a timer for a call that already left) are ignored; events that
contradict the state (an answer from an agent who is not ringing) raise InvalidEventError.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from callsim.core.record import CallId, Outcome, Party

__all__ = ["CallId", "Party"]  # defined beside the records that use them; re-exported


class TimerKind(enum.Enum):
    MAX_WAIT = "max_wait"
    OVERFLOW = "overflow"
    WRAP_UP = "wrap_up"
    PREFERRED = "preferred"  # a call stops waiting for its preferred agent
    NO_ANSWER = "no_answer"  # the pause after missed offers ends
    ANNOUNCE = "announce"  # the next position and expected-wait announcement


@dataclass(slots=True, init=False)
class Timer:
    """A timer the core asked for (``StartTimer``); the shell returns it in ``TimerExpired``.

    ``token`` lets the core drop timers that no longer apply (lazy cancellation): shells
    never need to cancel one.
    """

    kind: TimerKind
    subject: CallId  # the call (MAX_WAIT, OVERFLOW, PREFERRED, ANNOUNCE) or the agent
    token: int

    def __init__(self, kind: TimerKind, subject: CallId, token: int) -> None:
        self.kind = kind
        self.subject = subject
        self.token = token


@dataclass(slots=True, init=False)
class CallArrived:
    """A call enters the ACD for ``queue``. ``priority`` None takes the queue's priority.

    ``preferred_agent`` (e.g. the caller's last agent) is offered the call first if idle;
    if busy, the call waits for that agent alone up to ``preferred_wait_s``, then for any
    qualified agent, keeping its place in line.
    """

    call: CallId
    queue: str
    ani: str = ""
    dnis: str = ""
    priority: int | None = None
    preferred_agent: str | None = None
    preferred_wait_s: float = 0.0

    def __init__(
        self,
        call: CallId,
        queue: str,
        ani: str = "",
        dnis: str = "",
        priority: int | None = None,
        preferred_agent: str | None = None,
        preferred_wait_s: float = 0.0,
    ) -> None:
        self.call = call
        self.queue = queue
        self.ani = ani
        self.dnis = dnis
        self.priority = priority
        self.preferred_agent = preferred_agent
        self.preferred_wait_s = preferred_wait_s


@dataclass(slots=True)
class CallDiverted:
    """A call ended before it reached the queue: blocked as advertising, deflected to
    self-service, or sent to voicemail or a recorded message by the voice menu.
    ``outcome`` is BLOCKED, DEFLECTED, VOICEMAIL or MESSAGE; the core writes its record.
    ``callsim.core.inbound`` decides it; a shell rarely sends it itself."""

    call: CallId
    queue: str
    outcome: Outcome
    ani: str = ""
    dnis: str = ""


@dataclass(slots=True)
class AgentLoggedIn:
    """An agent logs in (ready, or paused with ``paused_reason``).

    An agent not in the configuration is created if ``skills`` is given, with its own
    ``ring_timeout_s`` if given (offers forwarded to a personal device ring longer) and
    the ``chats`` it may hold at once.
    """

    agent: str
    skills: Mapping[str, int] | None = None
    paused_reason: str | None = None
    ring_timeout_s: float | None = None
    chats: int = 1


@dataclass(slots=True)
class AgentReady:
    """The agent is ready for calls: ends a pause, or a wrap-up early. With ``reason``
    only a pause for that reason ends (or is called off if it waits for the current call
    to end): a shift plan's end of break cuts no wrap-up and no other pause short."""

    agent: str
    reason: str | None = None


@dataclass(slots=True)
class AgentPaused:
    """The agent pauses; during a call, the pause starts after its wrap-up."""

    agent: str
    reason: str = "break"


@dataclass(slots=True)
class AgentLoggedOut:
    """The agent logs out; during a call, after it and its wrap-up."""

    agent: str


@dataclass(slots=True)
class SkillsChanged:
    """The agent's skills (skill -> proficiency 1-5) are replaced, at any time."""

    agent: str
    skills: Mapping[str, int]


@dataclass(slots=True, init=False)
class AgentAnswered:
    agent: str
    call: CallId

    def __init__(self, agent: str, call: CallId) -> None:
        self.agent = agent
        self.call = call


@dataclass(slots=True)
class AgentRejected:
    agent: str
    call: CallId


@dataclass(slots=True, init=False)
class RingTimedOut:
    """The offer rang ``ring_timeout_s`` without an answer (the agent did not answer)."""

    agent: str
    call: CallId

    def __init__(self, agent: str, call: CallId) -> None:
        self.agent = agent
        self.call = call


@dataclass(slots=True, init=False)
class CallerHungUp:
    """The caller hangs up: an abandon before an answer, the end of talk after it."""

    call: CallId

    def __init__(self, call: CallId) -> None:
        self.call = call


@dataclass(slots=True)
class CallbackRequested:
    """The waiting caller accepted a callback and hung up: the call keeps its place in
    line and is dialled when an agent takes it (virtual hold)."""

    call: CallId


@dataclass(slots=True)
class CallbackUnanswered:
    """The agent dialled the callback and nobody answered: the call ends
    ``callback_failed`` and the agent wraps up."""

    call: CallId
    wrap_up_s: float | None = None


@dataclass(slots=True)
class OutboundAnswered:
    """The number dialled for ``agent`` (``Dial``) was answered by the right party: the
    outbound call ``call`` is connected to the agent (it ends as any call)."""

    call: CallId
    agent: str


@dataclass(slots=True)
class OutboundUnanswered:
    """The number dialled for ``agent`` gave no right-party contact: the agent is free."""

    agent: str


@dataclass(slots=True, init=False)
class CallEnded:
    """A connected call ends. ``wrap_up_s`` None takes the queue's wrap-up setting."""

    call: CallId
    ended_by: Party = Party.AGENT
    wrap_up_s: float | None = None

    def __init__(
        self, call: CallId, ended_by: Party = Party.AGENT, wrap_up_s: float | None = None
    ) -> None:
        self.call = call
        self.ended_by = ended_by
        self.wrap_up_s = wrap_up_s


@dataclass(slots=True)
class CallTransferred:
    """The agent on a connected call sends it on: into ``queue`` (at its back, with its
    priority) or to ``agent`` (who must be ready; if they do not answer, the call waits
    in its queue). The transferring agent starts wrap-up (``wrap_up_s`` None: the
    queue's setting). Exactly one of ``queue`` and ``agent``."""

    call: CallId
    queue: str | None = None
    agent: str | None = None
    wrap_up_s: float | None = None


@dataclass(slots=True, init=False)
class TimerExpired:
    timer: Timer

    def __init__(self, timer: Timer) -> None:
        self.timer = timer


@dataclass(slots=True)
class ServiceStopped:
    """The service stops: every unfinished call ends with outcome ``interrupted``."""


Event = (
    CallArrived
    | CallDiverted
    | AgentLoggedIn
    | AgentReady
    | AgentPaused
    | AgentLoggedOut
    | SkillsChanged
    | AgentAnswered
    | AgentRejected
    | RingTimedOut
    | CallerHungUp
    | CallbackRequested
    | CallbackUnanswered
    | OutboundAnswered
    | OutboundUnanswered
    | CallEnded
    | CallTransferred
    | TimerExpired
    | ServiceStopped
)
