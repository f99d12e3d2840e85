"""Commands the ACD core returns; the shell carries them out.

Every command is an instruction to the telephony side. ``StartTimer`` asks the shell to
feed ``TimerExpired(timer)`` back after ``delay_s``; a ``Ring`` asks it to report
``AgentAnswered``, ``AgentRejected`` or ``RingTimedOut`` within ``timeout_s``.
The ones made for every call write their ``__init__`` out (see ``callsim.core.event``).
"""

from __future__ import annotations

from dataclasses import dataclass

from callsim.core.event import CallId, Timer
from callsim.core.record import Outcome


@dataclass(slots=True, init=False)
class Ring:
    call: CallId
    agent: str
    timeout_s: float

    def __init__(self, call: CallId, agent: str, timeout_s: float) -> None:
        self.call = call
        self.agent = agent
        self.timeout_s = timeout_s


@dataclass(slots=True, init=False)
class CancelRing:
    call: CallId
    agent: str

    def __init__(self, call: CallId, agent: str) -> None:
        self.call = call
        self.agent = agent


@dataclass(slots=True, init=False)
class Enqueue:
    """The call waits in ``queue`` at 1-based ``position`` (play hold music and announce
    ``expected_wait_s``, the core's estimate: position x the queue's running mean
    handling time / its agents logged in)."""

    call: CallId
    queue: str
    position: int
    expected_wait_s: float = 0.0

    def __init__(
        self, call: CallId, queue: str, position: int, expected_wait_s: float = 0.0
    ) -> None:
        self.call = call
        self.queue = queue
        self.position = position
        self.expected_wait_s = expected_wait_s


@dataclass(slots=True)
class Transferred:
    """``agent``'s leg of the call is over (the agent starts wrap-up); the call goes on
    to ``queue`` or ``to_agent``: an ``Enqueue`` or a ``Ring`` follows."""

    call: CallId
    agent: str
    queue: str | None
    to_agent: str | None


@dataclass(slots=True)
class Announce:
    """Tell the waiting caller their ``position`` and ``expected_wait_s`` (the queue's
    ``announce_every_s``)."""

    call: CallId
    queue: str
    position: int
    expected_wait_s: float


@dataclass(slots=True)
class OfferCallback:
    """Offer the waiting caller a callback (the expected wait is above the queue's
    ``callback_above_s``); a caller who accepts is a ``CallbackRequested`` event."""

    call: CallId
    expected_wait_s: float


@dataclass(slots=True)
class Dial:
    """Dial an outbound number of ``queue`` for ``agent`` (blended outbound); the result
    comes back as ``OutboundAnswered`` or ``OutboundUnanswered``."""

    agent: str
    queue: str


@dataclass(slots=True)
class HoldPlace:
    """The caller accepted a callback and hangs up: release their line and keep their
    number; the call keeps its place and rings an agent when it is its turn."""

    call: CallId
    queue: str


@dataclass(slots=True)
class PlayMessage:
    call: CallId
    message: str


@dataclass(slots=True)
class SendToVoicemail:
    call: CallId
    queue: str


@dataclass(slots=True)
class TakeNote:
    call: CallId
    queue: str


@dataclass(slots=True)
class Forward:
    call: CallId
    target: str


@dataclass(slots=True, init=False)
class Connect:
    call: CallId
    agent: str

    def __init__(self, call: CallId, agent: str) -> None:
        self.call = call
        self.agent = agent


@dataclass(slots=True, init=False)
class End:
    """The call is finished for the ACD with ``outcome``; release the line."""

    call: CallId
    outcome: Outcome

    def __init__(self, call: CallId, outcome: Outcome) -> None:
        self.call = call
        self.outcome = outcome


@dataclass(slots=True)
class PauseAgent:
    """The core paused an agent by itself (e.g. ``no_answer`` after missed offers)."""

    agent: str
    reason: str


@dataclass(slots=True, init=False)
class StartTimer:
    timer: Timer
    delay_s: float

    def __init__(self, timer: Timer, delay_s: float) -> None:
        self.timer = timer
        self.delay_s = delay_s


Command = (
    Ring
    | CancelRing
    | Enqueue
    | Announce
    | OfferCallback
    | HoldPlace
    | Dial
    | PlayMessage
    | SendToVoicemail
    | TakeNote
    | Forward
    | Connect
    | Transferred
    | End
    | PauseAgent
    | StartTimer
)
