"""Read-only views of the ACD's state, for the shells (``Acd.call_view``, ``Acd.roster``...).

A shell never holds the core's state objects: it asks for a view, a frozen copy taken at
that moment, and keeps no state machine of its own. Views are built on request only, never
on the core's hot path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from callsim.core.agent import AgentState
from callsim.core.call import CallState
from callsim.core.event import CallId
from callsim.core.record import OfferResult


@dataclasses.dataclass(frozen=True, slots=True)
class OfferView:
    """One offer of a call: the agent rung, since when, for how long at most, and its
    result so far (``RINGING`` while it rings)."""

    agent: str
    at_s: float
    timeout_s: float
    result: OfferResult


@dataclasses.dataclass(frozen=True, slots=True)
class CallView:
    """An open call: its state, current primary queue, the agent holding it (talking or
    in wrap-up; None otherwise), its offers in the order they were made, when the caller
    asked for a callback (None: not asked), whether nobody answered the callback (it ends
    ``callback_failed``), whether an agent has transferred it, and what its record will
    say so far: when it was answered (None: not yet), when its talk ended and the talk
    with every agent (None until the talk is over)."""

    call: CallId
    state: CallState
    queue: str
    agent: str | None
    offers: tuple[OfferView, ...]
    callback_s: float | None
    callback_failed: bool
    transferred: bool
    answer_s: float | None = None
    end_s: float | None = None
    talk_s: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AgentView:
    """An agent the core knows: state, skills (proficiency by skill), pause reason while
    paused, the call it holds (ringing, talking or wrap-up), when its wrap-up ends by
    its timer (None: not in wrap-up, or open-ended) and the chats it holds, oldest first
    (``call`` is then the latest)."""

    name: str
    state: AgentState
    skills: Mapping[str, int]
    pause_reason: str | None
    call: CallId | None
    wrap_ends_s: float | None
    chats: tuple[CallId, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class QueueView:
    """A queue now: calls waiting, since when the longest has waited (None: nobody
    waits) and the agents qualified for it, logged in, by state (offline left out)."""

    queue: str
    waiting: int
    oldest_s: float | None
    agents: Mapping[AgentState, int]
