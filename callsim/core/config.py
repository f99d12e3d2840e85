"""The ACD configuration: agents, queues and routing, as frozen dataclasses.

Validation of people's input happens at the edges (the scenario models, the API);
``AcdConfig.check`` only rejects configurations that contradict themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from callsim.core.strategy import STRATEGIES
from callsim.errors import ConfigError


class Channel(enum.Enum):
    """How a contact reaches the centre, and so how agents work it.

    - ``VOICE``: a call; it rings an agent and takes the whole agent.
    - ``CHAT``: pushed to an agent at once (no ringing); an agent holds up to its
      ``AgentConfig.chats`` chats at once and, while it holds any, nothing else (no call,
      no email). A chat has no wrap-up: its writing is part of its handle time.
    - ``EMAIL``: an email or back-office item: deferrable work, pushed to an agent at once
      and taking the whole agent (wrap-up as calls); an agent starts one only when no
      call or chat it could take waits (``Acd`` decides this in one place).
    """

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


class ActionKind(enum.Enum):
    """What happens to a call that leaves the normal queue flow."""

    REQUEUE = "requeue"  # wait again in the same queue(s), hunt starts afresh
    QUEUE = "queue"  # move to another queue (``Action.target``)
    VOICEMAIL = "voicemail"
    NOTE = "note"  # a message is taken for the caller
    FORWARD = "forward"  # forward to an outside number (``Action.target``)
    CLOSE = "close"  # the call is ended by the system (outcome ``closed``)
    BUSY = "busy"  # the caller hears busy (outcome ``busy``; only for ``on_full``)


@dataclass(frozen=True, slots=True)
class Action:
    """A fallback action; ``target`` is the queue for QUEUE and the number for FORWARD.

    ``message``, when set, is played to the caller first (e.g. "we are closed").
    """

    kind: ActionKind
    target: str | None = None
    message: str | None = None


REQUEUE = Action(ActionKind.REQUEUE)
BUSY = Action(ActionKind.BUSY)
VOICEMAIL = Action(ActionKind.VOICEMAIL)
CLOSE = Action(ActionKind.CLOSE)

# The queue fields that may move a call to another queue ({queue: X}), each with the end
# a call takes instead when its moves loop (more moves in one instant than there are
# queues: ``Acd._apply``); these ends are also the fields' defaults.
FINAL = {"on_full": BUSY, "on_max_wait": VOICEMAIL, "on_empty": CLOSE}
MAX_LOOPS = 50  # routing loops listed by ``move_cycles`` (the rest are not searched)


def qualified(skills: Collection[str], queue_skills: Iterable[str]) -> bool:
    """An agent with ``skills`` may take the calls of a queue needing ``queue_skills``:
    it has every one of them (the routing rule of ``Acd``, for every layer)."""
    return all(s in skills for s in queue_skills)


def move_cycles(moves: Mapping[str, list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Every routing loop of a centre: ``moves`` maps each queue to its (field, target
    queue) moves; each loop is returned once, as its (queue, field) steps from its first
    queue in ``moves``' order (at most ``MAX_LOOPS``)."""
    order = {q: i for i, q in enumerate(moves)}
    found: list[list[tuple[str, str]]] = []

    def walk(start: str, queue: str, path: list[tuple[str, str]], seen: set[str]) -> None:
        for how, target in moves.get(queue, []):
            if len(found) >= MAX_LOOPS or target not in order or order[target] < order[start]:
                continue
            step = [*path, (queue, how)]
            if target == start:
                found.append(step)
            elif target not in seen:
                walk(start, target, step, seen | {target})

    for start in moves:
        walk(start, start, [], {start})
    return found


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """An agent known to the ACD.

    ``skills`` maps a skill (tag) to a proficiency level 1-5. ``position`` orders agents
    for the ``linear`` and ``round_robin`` strategies (default: order of declaration);
    ``weight`` is the relative chance under ``weighted_random``. ``device``: the
    personal device (a mobile number) the agent's offers are forwarded to, which ring
    for ``ring_timeout_s`` (None: the routing's) since forwarding takes time. ``chats``:
    how many chats the agent may hold at once (``Channel.CHAT``).
    """

    name: str
    skills: Mapping[str, int]
    position: int | None = None
    weight: float = 1.0
    extension: str = ""
    device: str = ""
    ring_timeout_s: float | None = None
    chats: int = 1


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue: calls in it need every skill in ``skills``.

    - ``strategy``: overrides the routing strategy for this queue.
    - ``priority``: default caller priority for calls that arrive without one.
    - ``aging_per_s``: a waiting call's priority grows by this much per second since it
      first queued (score = priority + aging_per_s x seconds waited), so the long
      waiters of a low-priority queue are not starved; 0 keeps priorities fixed.
    - ``max_wait_s`` / ``on_max_wait``: after this wait the call leaves the queue
      (voicemail, note, forward, close, or QUEUE to another queue).
    - ``overflow_after_s`` / ``overflow_to``: after this wait the call is also offered to
      the agents of the other queues, while keeping its place here.
    - ``join_empty``: a call may join while no qualified agent is logged in; if False it
      gets ``on_empty`` at once. ``leave_when_empty``: waiting calls get ``on_empty``
      when the last qualified agent logs out.
    - ``max_waiting``: positions in the queue: a call that would wait while all are
      taken gets ``on_full`` (busy by default) instead; 0 makes a loss system (Erlang B).
      None = no limit.
    - ``announce_every_s``: while a call waits, announce its position and expected
      wait this often (``Announce``); None = only on joining (``Enqueue``).
    - ``callback_above_s``: offer a callback (``OfferCallback``, once per call) when the
      announced expected wait is above this; None = never.
    - ``handle_s``: expected handling time (talk + wrap-up) of a call here: where the
      running mean behind announced expected waits starts; 0 = from the first call.
    - ``wrap_up_s``: wrap-up after each call when the end-of-call event names none;
      None means the agent stays in wrap-up until they say they are ready.
    - ``channel``: voice calls, chats or emails (``Channel``); moves and overflow stay
      within one channel.
    """

    name: str
    skills: tuple[str, ...]
    strategy: str | None = None
    priority: int = 0
    aging_per_s: float = 0.0
    max_wait_s: float | None = None
    on_max_wait: Action = VOICEMAIL
    overflow_after_s: float | None = None
    overflow_to: tuple[str, ...] = ()
    join_empty: bool = True
    leave_when_empty: bool = False
    on_empty: Action = CLOSE
    max_waiting: int | None = None
    on_full: Action = BUSY
    handle_s: float = 0.0
    announce_every_s: float | None = None
    callback_above_s: float | None = None
    wrap_up_s: float | None = 0.0
    channel: Channel = Channel.VOICE


@dataclass(frozen=True, slots=True)
class BlendConfig:
    """Blended outbound (a progressive dialer): an agent qualified for ``queue`` who
    becomes free with no inbound call waiting is given an outbound call (``Dial``) when at
    least ``reserve`` other agents are idle, so that ``reserve`` stay idle for inbound
    calls (the Erlang Blend threshold policy)."""

    queue: str
    reserve: int = 0


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """Centre-wide routing rules.

    - ``strategy``: a registered strategy name (see ``callsim.core.strategy.STRATEGIES``).
    - ``ring_timeout_s``: how long one offer rings before the hunt moves on.
    - ``max_no_answer``: after this many consecutive missed offers the agent is paused
      with reason ``no_answer`` (0 = never); the core says so with ``PauseAgent``.
    - ``no_answer_pause_s``: the ``no_answer`` pause ends by itself after this long
      (default 60 s, the same in both shells); None keeps the agent paused until it
      says it is ready.
    - ``on_hunt_exhausted``: when no untried idle agent is left after a miss:
      REQUEUE (wait again), VOICEMAIL, NOTE, FORWARD or CLOSE.
    - ``use_proficiency``: rank candidates by their lowest proficiency in the queue's
      skills (highest first) before the strategy's own order.
    - ``auto_answer``: agents' phones answer offers themselves (headset auto-answer): an
      offer connects at once, with no ring and no ``Ring`` command.
    - ``blend``: blended outbound calls (``BlendConfig``); None = inbound only.
    - ``lines``: the centre's lines (trunks): calls on a line (waiting, ringing or
      talking; not in wrap-up) at most; a call arriving when all are taken hears busy
      (outcome ``busy``). None = no limit.
    """

    strategy: str = "longest_idle"
    ring_timeout_s: float = 15.0
    max_no_answer: int = 3
    no_answer_pause_s: float | None = 60.0
    on_hunt_exhausted: Action = REQUEUE
    use_proficiency: bool = False
    auto_answer: bool = False
    lines: int | None = None
    blend: BlendConfig | None = None


@dataclass(frozen=True, slots=True)
class AcdConfig:
    """Everything the ACD core needs to route."""

    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentConfig, ...] = ()
    routing: RoutingConfig = field(default_factory=RoutingConfig)

    def check(self) -> None:
        """Raise ConfigError if the configuration contradicts itself."""
        names = [q.name for q in self.queues]
        if not names:
            raise ConfigError("queues: at least one queue is required")
        if dup := first_duplicate(names):
            raise ConfigError(f"queues: duplicate queue name {dup!r}")
        known = ", ".join(sorted(STRATEGIES))
        for where, strategy in [("routing.strategy", self.routing.strategy)] + [
            (f"queues[{i}].strategy", q.strategy) for i, q in enumerate(self.queues)
        ]:
            if strategy is not None and strategy not in STRATEGIES:
                raise ConfigError(f"{where}: unknown strategy {strategy!r} (known: {known})")
        for i, q in enumerate(self.queues):
            if not q.skills:
                raise ConfigError(f"queues[{i}].skills: queue {q.name!r} needs at least one skill")
            targets = [(f"queues[{i}].overflow_to", t) for t in q.overflow_to]
            actions = (("on_max_wait", q.on_max_wait), ("on_empty", q.on_empty),
                       ("on_full", q.on_full))  # fmt: skip
            for what, action in actions:
                if action.kind is ActionKind.QUEUE:
                    targets.append((f"queues[{i}].{what}", action.target or ""))
                if action.kind is ActionKind.REQUEUE:
                    raise ConfigError(
                        f"queues[{i}].{what}: 'requeue' is only for on_hunt_exhausted"
                    )
                if action.kind is ActionKind.BUSY and what != "on_full":
                    raise ConfigError(f"queues[{i}].{what}: 'busy' is only for on_full")
            if q.announce_every_s is not None and not q.announce_every_s > 0:
                raise ConfigError(f"queues[{i}].announce_every_s: {q.announce_every_s} is not > 0")
            if q.max_waiting is not None and q.max_waiting < 0:
                raise ConfigError(f"queues[{i}].max_waiting: {q.max_waiting} is not >= 0")
            for where, target in targets:
                if target not in names or target == q.name:
                    raise ConfigError(
                        f"{where}: {target!r} is not another queue (queues: {', '.join(names)})"
                    )
                other = self.queues[names.index(target)].channel
                if other is not q.channel:
                    raise ConfigError(
                        f"{where}: {target!r} is a {other.value} queue, not {q.channel.value}"
                    )
        if self.routing.on_hunt_exhausted.kind in (ActionKind.QUEUE, ActionKind.BUSY):
            kind = self.routing.on_hunt_exhausted.kind.value
            raise ConfigError(f"routing.on_hunt_exhausted: {kind!r} is not allowed here")
        blend = self.routing.blend
        if blend is not None and blend.queue not in names:
            raise ConfigError(f"routing.blend.queue: {blend.queue!r} is not a queue")
        if blend is not None and self.queues[names.index(blend.queue)].channel is not Channel.VOICE:
            raise ConfigError(f"routing.blend.queue: {blend.queue!r} is not a voice queue")
        if blend is not None and blend.reserve < 0:
            raise ConfigError(f"routing.blend.reserve: {blend.reserve} is not >= 0")
        if self.routing.lines is not None and self.routing.lines < 1:
            raise ConfigError(f"routing.lines: {self.routing.lines} is not >= 1")
        if self.routing.ring_timeout_s <= 0:
            raise ConfigError(f"routing.ring_timeout_s: {self.routing.ring_timeout_s} is not > 0")
        pause = self.routing.no_answer_pause_s
        if pause is not None and not pause > 0:
            raise ConfigError(f"routing.no_answer_pause_s: {pause} is not > 0")
        if dup := first_duplicate([a.name for a in self.agents]):
            raise ConfigError(f"agents: duplicate agent name {dup!r}")
        for i, a in enumerate(self.agents):
            if a.ring_timeout_s is not None and not a.ring_timeout_s > 0:
                raise ConfigError(f"agents[{i}].ring_timeout_s: {a.ring_timeout_s} is not > 0")
            if a.chats < 1:
                raise ConfigError(f"agents[{i}].chats: {a.chats} is not >= 1")
            if not a.weight > 0:  # weighted_random samples by rejection: 0 would never accept
                raise ConfigError(f"agents[{i}].weight: {a.weight!r} is not > 0")
            for skill, level in a.skills.items():
                if not 1 <= level <= 5:
                    raise ConfigError(
                        f"agents[{i}].skills.{skill}: proficiency {level} is not within 1-5"
                    )


def first_duplicate(names: list[str]) -> str | None:
    """The first name given twice, if any."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None
