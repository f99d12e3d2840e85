"""Commands the ACD core returns; the shell carries them out.

Every command is an instruction to the telephony side. ``StartTimer`` asks the shell to
feed ``TimerExpired(timer)`` back after ``delay_s``; a ``Ring`` asks it to report
``AgentAnswered``, ``AgentRejected`` or ``RingTimedOut`` within ``timeout_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

from callsim.core.event import CallId, Timer
from callsim.core.record import Outcome


@dataclass(slots=True)
class Ring:
    call: CallId
    agent: str
    timeout_s: float


@dataclass(slots=True)
class CancelRing:
    call: CallId
    agent: str


@dataclass(slots=True)
class Enqueue:
    """The call waits in ``queue`` at 1-based ``position`` (play hold music)."""

    call: CallId
    queue: str
    position: int


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


@dataclass(slots=True)
class Connect:
    call: CallId
    agent: str


@dataclass(slots=True)
class End:
    """The call is finished for the ACD with ``outcome``; release the line."""

    call: CallId
    outcome: Outcome


@dataclass(slots=True)
class PauseAgent:
    """The core paused an agent by itself (e.g. ``no_answer`` after missed offers)."""

    agent: str
    reason: str


@dataclass(slots=True)
class StartTimer:
    timer: Timer
    delay_s: float


Command = (
    Ring
    | CancelRing
    | Enqueue
    | PlayMessage
    | SendToVoicemail
    | TakeNote
    | Forward
    | Connect
    | End
    | PauseAgent
    | StartTimer
)
