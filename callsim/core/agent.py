"""An agent's live state inside the ACD (read it; change it only through events)."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from callsim.core.event import CallId

if TYPE_CHECKING:
    from callsim.core.call import Call
    from callsim.core.pool import Pool
    from callsim.core.queue import QueueState


class AgentState(enum.Enum):
    OFFLINE = "offline"
    READY = "ready"
    RINGING = "ringing"
    TALKING = "talking"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    DIALLING = "dialling"  # blended outbound: a number is dialled for the agent


STATES: Final = tuple(AgentState)


def state_index(state: AgentState) -> int:
    """The state's place in STATES (each queue's count by state): compiled, a few
    pointer comparisons (an enum member's hash is Python code, its value an attribute
    look-up)."""
    for i, s in enumerate(STATES):
        if s is state:
            return i
    raise ValueError(f"not an agent state: {state!r}")


class Agent:
    """Mutable per-agent state. ``idle_token`` changes whenever the agent enters or leaves
    the idle pools, so stale pool entries are recognised and skipped (lazy deletion)."""

    __slots__ = (
        "call",
        "calls_taken",
        "chats",
        "extension",
        "idle_since",
        "idle_token",
        "in_pools",
        "index",
        "max_chats",
        "misses",
        "n_skills",
        "name",
        "pause_reason",
        "pause_token",
        "pending_logout",
        "pending_pause",
        "pools",
        "position",
        "queues",
        "reserved",
        "ring_timeout_s",
        "skills",
        "staffed_since",
        "state",
        "state_index",
        "talk_s_total",
        "weight",
        "wrap_ends_s",
        "wrap_started_s",
        "wrap_token",
    )

    def __init__(
        self,
        name: str,
        skills: Mapping[str, int],
        position: int,
        weight: float = 1.0,
        extension: str = "",
    ) -> None:
        self.name = name
        self.skills: dict[str, int] = dict(skills)
        self.n_skills = len(self.skills)
        self.position = position
        self.index = -1  # its place in the order the ACD met its agents (``RecordColumns.agents``)
        self.weight = weight
        self.extension = extension
        self.ring_timeout_s: float | None = None  # own ring time (a personal device)
        self.state = AgentState.OFFLINE  # changed by ``Acd._become`` only (it counts)
        self.state_index = state_index(AgentState.OFFLINE)
        self.pause_reason: str | None = None
        self.pending_pause: str | None = None
        self.pending_logout = False
        self.pause_token = 0  # changes at every pause: a stale no-answer timer is ignored
        self.staffed_since: float | None = None  # start of the open staffed span
        self.idle_since = 0.0
        self.idle_token = 0
        self.in_pools = False  # held by its queues' idle pools (state READY)
        self.calls_taken = 0
        self.talk_s_total = 0.0
        self.misses = 0
        self.call: CallId | None = None  # with chats: the latest chat still held
        self.chats: list[Call] = []  # the chats held (talking), oldest first
        self.max_chats = 1  # how many chats it may hold at once
        self.wrap_started_s = 0.0
        self.wrap_ends_s: float | None = None  # when the wrap-up timer ends it (None: open)
        self.wrap_token = 0
        self.queues: list[QueueState] = []
        self.reserved: deque[tuple[Call, int]] = deque()  # calls waiting for this agent alone
        self.pools: list[Pool] = []

    def __repr__(self) -> str:
        return f"Agent({self.name!r}, {self.state.value}, skills={self.skills})"

    def proficiency(self, skills: tuple[str, ...]) -> int:
        """The agent's lowest proficiency over ``skills`` (0 if one is missing)."""
        return proficiency(self.skills, skills)


def proficiency(skills: Mapping[str, int], queue_skills: Iterable[str]) -> int:
    """An agent's proficiency for a queue: its lowest level over the queue's skills (0
    if one is missing; the routing's ``use_proficiency`` rule, for every layer)."""
    return min((skills.get(s, 0) for s in queue_skills), default=0)
