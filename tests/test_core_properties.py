"""Invariants of the ACD core over random configurations and random event sequences.

Checked after every event, against ground truth computed from agent and call states
(not from the idle pools under test):

- an agent never holds two calls, and its state matches what it holds;
- no call waits while an idle agent qualified for one of its queues exists;
- FIFO within priority per queue;
- ``fewest_skills_first`` never passes over an idle qualified agent with fewer skills;
- a ring never reaches an agent that was busy, in wrap-up, paused or offline (wrap-up is
  honoured across all queues), unless the event freed that agent;
- ``ring_all`` (any strategy) never connects two agents to one call;
- in the end every call has exactly one record with one outcome;
- a queue's view counts its agents by state and its waiting calls as a scan does.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callsim.core import (
    STRATEGIES,
    Acd,
    AcdConfig,
    Action,
    ActionKind,
    AgentAnswered,
    AgentConfig,
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
    CancelRing,
    Connect,
    End,
    Event,
    Party,
    QueueConfig,
    Ring,
    RingTimedOut,
    RoutingConfig,
    ServiceStopped,
    SkillsChanged,
    StartTimer,
    TimerExpired,
    TimerKind,
    Transferred,
)

SKILLS = ("s1", "s2", "s3")
BUSY = (AgentState.RINGING, AgentState.TALKING, AgentState.WRAP_UP)


@st.composite
def configs(draw: st.DrawFn) -> AcdConfig:
    n_queues = draw(st.integers(1, 3))
    names = [f"q{i}" for i in range(n_queues)]
    queues = []
    for name in names:
        skills = tuple(sorted(draw(st.sets(st.sampled_from(SKILLS), min_size=1, max_size=2))))
        others = [n for n in names if n != name]
        # moves to other queues: random move graphs, routing loops included
        moves = [Action(ActionKind.QUEUE, n) for n in others]
        overflow = tuple(draw(st.sets(st.sampled_from(others)))) if others else ()
        queues.append(
            QueueConfig(
                name=name,
                skills=skills,
                strategy=draw(st.none() | st.sampled_from(sorted(STRATEGIES))),
                priority=draw(st.integers(0, 1)),
                max_wait_s=draw(st.none() | st.floats(1, 100)),
                on_max_wait=draw(st.sampled_from([*ends(ActionKind.VOICEMAIL), *moves])),
                overflow_after_s=draw(st.none() | st.floats(0, 50)) if overflow else None,
                overflow_to=overflow,
                join_empty=draw(st.booleans()),
                leave_when_empty=draw(st.booleans()),
                on_empty=draw(st.sampled_from([*ends(ActionKind.CLOSE), *moves])),
                wrap_up_s=draw(st.sampled_from([0.0, 5.0, None])),
                aging_per_s=draw(st.sampled_from([0.0, 0.0, 0.1, 1.0])),
                max_waiting=draw(st.none() | st.integers(0, 3)),
                on_full=draw(st.sampled_from([*ends(ActionKind.BUSY), *moves])),
                announce_every_s=draw(st.none() | st.sampled_from([5.0, 30.0])),
                callback_above_s=draw(st.none() | st.sampled_from([0.0, 60.0])),
            )
        )
    agents = tuple(
        AgentConfig(
            f"a{i}",
            {
                s: draw(st.integers(1, 5))
                for s in draw(st.sets(st.sampled_from(SKILLS), min_size=1))
            },
            weight=draw(st.sampled_from([0.5, 1.0, 3.0])),
        )
        for i in range(draw(st.integers(1, 6)))
    )
    routing = RoutingConfig(
        strategy=draw(st.sampled_from(sorted(STRATEGIES))),
        ring_timeout_s=15,
        max_no_answer=draw(st.integers(0, 3)),
        on_hunt_exhausted=draw(
            st.sampled_from(
                [Action(ActionKind.REQUEUE), Action(ActionKind.VOICEMAIL), Action(ActionKind.NOTE)]
            )
        ),
        use_proficiency=draw(st.booleans()),
        lines=draw(st.none() | st.integers(1, 6)),
    )
    return AcdConfig(tuple(queues), agents, routing)


def ends(kind: ActionKind) -> list[Action]:
    """A field's default end, and a note."""
    return [Action(kind), Action(ActionKind.NOTE)]


def qualified(agent: Any, queue: Any) -> bool:
    return all(s in agent.skills for s in queue.skills)


class Harness:
    def __init__(self, acd: Acd) -> None:
        self.acd = acd
        self.now = 0.0
        self.timers: list[Any] = []
        self.arrived: list[Any] = []
        self.connects: dict[Any, int] = {}
        self.transfers: dict[Any, int] = {}
        self.arrival_seq: dict[Any, int] = {}
        self.reserved_before: set[Any] = set()

    def ringing_pairs(self) -> list[tuple[Any, str]]:
        return [(c.id, a) for c in self.acd._calls.values() for a in sorted(c.ringing)]

    def step(self, event: Event) -> list[Any]:
        acd = self.acd
        before_state = {n: a.state for n, a in acd._agents.items()}
        before_waiting = {c.id for c in acd._calls.values() if c.state is CallState.WAITING}
        self.reserved_before = {c.id for c in acd._calls.values() if c.reserved_for is not None}
        idle_by_queue = {
            q.name: [
                a for a in acd._agents.values() if a.state is AgentState.READY and qualified(a, q)
            ]
            for q in acd._queues.values()
        }
        if isinstance(event, CallArrived):
            self.arrived.append(event.call)
            self.arrival_seq[event.call] = len(self.arrived)
        out = acd.handle(event, self.now)
        self.timers.extend(c.timer for c in out if isinstance(c, StartTimer))
        for c in out:
            if isinstance(c, Transferred):
                self.transfers[c.call] = self.transfers.get(c.call, 0) + 1
            if isinstance(c, Connect):
                self.connects[c.call] = self.connects.get(c.call, 0) + 1
                allowed = 1 + self.transfers.get(c.call, 0)
                assert self.connects[c.call] <= allowed, f"call {c.call} connected twice"
        self.check_rings(event, out, before_state)
        if isinstance(event, CallArrived):
            self.check_fewest_skills(event, out, idle_by_queue)
        self.check_fifo(out, before_waiting)
        self.check_invariants()
        return out

    def check_rings(self, event: Event, out: list[Any], before: dict[str, AgentState]) -> None:
        """A ring reaches only an agent that was ready, or that this very step freed."""
        freed: set[str] = set()
        subject = getattr(event, "agent", None)
        if subject is not None:
            freed.add(subject)
        if isinstance(event, TimerExpired) and event.timer.kind in (
            TimerKind.WRAP_UP,
            TimerKind.NO_ANSWER,
        ):
            freed.add(str(event.timer.subject))
        ended = {c.call for c in out if isinstance(c, End)}
        freed.update(c.agent for c in out if isinstance(c, CancelRing | Transferred))
        freed.update(
            r.agent for r in self.acd.records if r.call in ended and r.agent is not None
        )  # an answered call ended with wrap-up 0 frees its agent
        if isinstance(event, RingTimedOut | AgentRejected):
            freed.add(event.agent)
        for c in out:
            if isinstance(c, Ring) and c.agent not in freed:
                assert before.get(c.agent) is AgentState.READY, (
                    f"{c.agent} rung while {before.get(c.agent)}"
                )

    def check_fewest_skills(
        self, event: CallArrived, out: list[Any], idle: dict[str, list[Any]]
    ) -> None:
        rings = [c for c in out if isinstance(c, Ring) and c.call == event.call]
        if not rings or event.preferred_agent:
            return
        queue = self.acd._calls[event.call].queue  # where it rings: moved there, maybe
        if queue.strategy.name != "fewest_skills_first":
            return
        chosen = self.acd._agents[rings[0].agent]
        candidates = idle[queue.name]
        if self.acd.routing.use_proficiency:
            best = max(a.proficiency(queue.skills) for a in candidates)
            candidates = [a for a in candidates if a.proficiency(queue.skills) == best]
        assert chosen in candidates
        assert chosen.n_skills == min(a.n_skills for a in candidates)

    def check_fifo(self, out: list[Any], before_waiting: set[Any]) -> None:
        calls = self.acd._calls
        for c in out:
            if not isinstance(c, Ring) or c.call not in before_waiting or c.call not in calls:
                continue
            offered = calls[c.call]
            agent = self.acd._agents[c.agent]
            for other in calls.values():
                if (
                    other.state is CallState.WAITING
                    and other.reserved_for is None
                    and offered.id not in self.reserved_before
                    and other.priority == offered.priority
                    and other.queue is offered.queue
                    and qualified(agent, offered.queue)
                    and len(offered.queues) == 1  # else it may ring from an overflow queue
                ):
                    q = offered.queue.name  # first in, first out: by entry into the queue
                    if offered.queue.aging:  # aging: by first queueing, then entry
                        assert (other.queued_s, other.entries[q]) > (
                            offered.queued_s,
                            offered.entries[q],
                        ), f"call {offered.id} offered before earlier call {other.id}"
                        continue
                    assert other.entries[q] > offered.entries[q], (
                        f"call {offered.id} offered before earlier call {other.id} "
                        f"in {offered.queue.name}"
                    )

    def check_invariants(self) -> None:
        acd = self.acd
        for q in acd._queues.values():  # the counts a wallboard reads: a scan's
            view = acd.queue_view(q.name)
            scan = Counter(
                a.state for a in acd._agents.values()
                if a.state is not AgentState.OFFLINE and qualified(a, q)
            )  # fmt: skip
            assert {s: n for s, n in view.agents.items() if n} == scan, q.name
            waiting = acd.waiting(q.name)  # sorted, the order they will be served
            assert view.waiting == len(waiting)
            assert view.oldest_s == min((t for _, t in waiting), default=None)
        for span in acd.spans:  # staffed spans are well formed and never overlap per agent
            assert span.start_s <= span.end_s <= self.now
        by_agent: dict[str, list[tuple[float, float]]] = {}
        for span in acd.spans:
            by_agent.setdefault(span.agent, []).append((span.start_s, span.end_s))
        for spans in by_agent.values():
            spans.sort()
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        for agent in acd._agents.values():
            holding = [
                c
                for c in acd._calls.values()
                if agent.name in c.ringing
                or (c.agent is agent and c.state in (CallState.TALKING, CallState.WRAP_UP))
            ]
            assert len(holding) <= 1, f"{agent.name} holds {[c.id for c in holding]}"
            # staffed exactly while logged in and not paused
            staffed = agent.state not in (AgentState.OFFLINE, AgentState.PAUSED)
            assert (agent.staffed_since is not None) == staffed, (agent.name, agent.state)
            moved_on = agent.state is AgentState.WRAP_UP and not holding
            if moved_on:  # wrap-up after a transfer: the call went on, or ended already
                call = acd._calls.get(agent.call)
                assert call is None or call.transfers, (agent.name, agent.call)
            elif agent.state in BUSY:
                assert len(holding) == 1
                assert agent.call == holding[0].id
            else:
                assert not holding
                assert agent.call is None
        # the lines in use: every open call not yet in wrap-up whose caller is on the line
        # (not waiting for a callback), never more than the lines
        on_line = sum(
            1
            for c in acd._calls.values()
            if c.state is not CallState.WRAP_UP and c.callback_s is None
        )
        assert acd._on_line == on_line
        lines = acd.config.routing.lines
        assert lines is None or on_line <= lines
        assert acd._n_idle == sum(a.in_pools for a in acd._agents.values())  # the blend's count
        for call in acd._calls.values():
            if call.state is CallState.WAITING and call.reserved_for is None:
                for q in call.queues:
                    idle = [
                        a.name
                        for a in acd._agents.values()
                        if a.state is AgentState.READY and qualified(a, q)
                    ]
                    assert not idle, f"call {call.id} waits in {q.name} while {idle} are idle"
            if call.state is CallState.RINGING:
                assert call.ringing
        for q in acd._queues.values():
            idle = sum(
                1 for a in acd._agents.values() if a.state is AgentState.READY and qualified(a, q)
            )
            assert q.pool.live == idle
            waiting = sum(
                1
                for c in acd._calls.values()
                if c.state is CallState.WAITING and q in c.queues and c.reserved_for is None
            )
            assert q.n_waiting == waiting
            # positions: score (priority, with aging: + k x seconds since the call first
            # queued) first, then entry order (brute force against the index)
            k = q.config.aging_per_s
            line = sorted(
                (k * c.queued_s - c.priority, c.entries[q.name], c.id)
                for c in acd._calls.values()
                if c.state is CallState.WAITING and q in c.queues and c.reserved_for is None
            )
            for place, (_, _, call_id) in enumerate(line, start=1):
                assert q.position(acd._calls[call_id]) == place


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), st.data())
def test_invariants_hold_over_random_event_sequences(
    config: AcdConfig, data: st.DataObject
) -> None:
    acd = Acd(config, random.Random(data.draw(st.integers(0, 2**16))))
    h = Harness(acd)
    names = [a.name for a in config.agents]
    queues = [q.name for q in config.queues]
    for name in names:
        if data.draw(st.booleans()):
            h.step(AgentLoggedIn(name))
    next_call = 0
    for _ in range(data.draw(st.integers(5, 60))):
        h.now += data.draw(st.sampled_from([0.0, 0.5, 3.0, 20.0]))
        kind = data.draw(
            st.sampled_from(
                ["arrive"] * 4 + ["answer"] * 3 + ["reject", "timeout"] * 2 + ["hangup"]
                + ["end"] * 2 + ["transfer", "callback", "unanswered"]
                + ["timer"] * 2 + ["ready", "pause", "logout", "login", "skills"]
            )
        )  # fmt: skip
        event: Event | None = None
        pairs = h.ringing_pairs()
        if kind == "arrive":
            next_call += 1
            preferred = data.draw(st.none() | st.sampled_from(names))
            event = CallArrived(
                next_call,
                data.draw(st.sampled_from(queues)),
                priority=data.draw(st.none() | st.integers(0, 2)),
                preferred_agent=preferred,
                preferred_wait_s=data.draw(st.sampled_from([0.0, 30.0])) if preferred else 0.0,
            )
        elif kind in ("answer", "reject", "timeout") and pairs:
            call, agent = data.draw(st.sampled_from(pairs))
            event = {"answer": AgentAnswered, "reject": AgentRejected, "timeout": RingTimedOut}[
                kind
            ](agent, call)
        elif kind == "hangup":
            open_calls = sorted(
                c.id for c in acd._calls.values() if c.state is not CallState.WRAP_UP
            )
            if open_calls:
                event = CallerHungUp(data.draw(st.sampled_from(open_calls)))
        elif kind == "callback":
            waiting = sorted(c.id for c in acd._calls.values() if c.state is CallState.WAITING)
            if waiting:
                event = CallbackRequested(data.draw(st.sampled_from(waiting)))
        elif kind == "unanswered":
            dialled = sorted(
                c.id
                for c in acd._calls.values()
                if c.state is CallState.TALKING and c.callback_s is not None
            )
            if dialled:
                event = CallbackUnanswered(data.draw(st.sampled_from(dialled)))
        elif kind == "end":
            talking = sorted(c.id for c in acd._calls.values() if c.state is CallState.TALKING)
            if talking:
                event = CallEnded(
                    data.draw(st.sampled_from(talking)),
                    data.draw(st.sampled_from(list(Party))),
                    data.draw(st.sampled_from([None, 0.0, 10.0])),
                )
        elif kind == "transfer":
            talking = sorted(c.id for c in acd._calls.values() if c.state is CallState.TALKING)
            ready = sorted(a.name for a in acd._agents.values() if a.in_pools)
            wrap = data.draw(st.sampled_from([None, 0.0, 10.0]))
            if talking and (ready and data.draw(st.booleans())):
                to = data.draw(st.sampled_from(ready))
                event = CallTransferred(
                    data.draw(st.sampled_from(talking)), agent=to, wrap_up_s=wrap
                )
            elif talking:
                to = data.draw(st.sampled_from(queues))
                event = CallTransferred(
                    data.draw(st.sampled_from(talking)), queue=to, wrap_up_s=wrap
                )
        elif kind == "timer" and h.timers:
            event = TimerExpired(h.timers.pop(data.draw(st.integers(0, len(h.timers) - 1))))
        elif kind == "ready":
            agent = acd._agents[data.draw(st.sampled_from(names))]
            if agent.state is not AgentState.OFFLINE:
                event = AgentReady(agent.name)
        elif kind == "pause":
            agent = acd._agents[data.draw(st.sampled_from(names))]
            if agent.state is not AgentState.OFFLINE:
                event = AgentPaused(agent.name, "break")
        elif kind == "logout":
            event = AgentLoggedOut(data.draw(st.sampled_from(names)))
        elif kind == "login":
            event = AgentLoggedIn(data.draw(st.sampled_from(names)))
        elif kind == "skills":
            skills = data.draw(st.sets(st.sampled_from(SKILLS), min_size=1))
            event = SkillsChanged(data.draw(st.sampled_from(names)), dict.fromkeys(skills, 2))
        if event is not None:
            h.step(event)
    # the end: stop the service, finish every wrap-up; each call has exactly one record
    h.now += 1
    h.step(ServiceStopped())
    for agent in acd._agents.values():
        if agent.state is AgentState.WRAP_UP:
            h.step(AgentReady(agent.name))
    assert not acd._calls
    records = acd.take_records()
    assert sorted(r.call for r in records) == sorted(h.arrived)
    for r in records:
        assert (r.answer_s is not None) == (r.agent is not None)
        assert r.wait_s >= 0
        assert r.talk_s >= 0


ORACLE_KEYS = {
    "fewest_skills_first": lambda a: (a.n_skills, a.idle_since),
    "longest_idle": lambda a: (a.idle_since,),
    "least_talk_time": lambda a: (a.talk_s_total, a.idle_since),
    "fewest_calls": lambda a: (a.calls_taken, a.idle_since),
    "linear": lambda a: (a.position,),
}


@settings(max_examples=150, deadline=None)
@given(
    strategy=st.sampled_from(sorted(ORACLE_KEYS)),
    agent_skills=st.lists(
        st.sets(st.sampled_from((*SKILLS, "s4", "s5")), min_size=1), min_size=2, max_size=8
    ),
    steps=st.lists(
        st.tuples(st.sampled_from(SKILLS), st.integers(0, 3), st.sampled_from([0.0, 1.0, 7.0])),
        max_size=40,
    ),
)
def test_ordered_strategies_choose_what_a_brute_force_oracle_chooses(
    strategy: str, agent_skills: list[set[str]], steps: list[tuple[str, int, float]]
) -> None:
    """Every offer on arrival goes to the idle qualified agent ranked first by a full scan."""
    queues = tuple(QueueConfig(s, (s,), strategy=strategy) for s in SKILLS)
    agents = tuple(AgentConfig(f"a{i}", dict.fromkeys(sk, 1)) for i, sk in enumerate(agent_skills))
    acd = Acd(AcdConfig(queues, agents, RoutingConfig(max_no_answer=0)), random.Random(0))
    now = 0.0
    for a in agents:
        acd.handle(AgentLoggedIn(a.name), now)
        now += 1
    talking: list[Any] = []
    for call, (skill, action, dt) in enumerate(steps):
        now += dt
        idle = [
            a for a in acd._agents.values() if a.state is AgentState.READY and skill in a.skills
        ]
        rings = [c for c in acd.handle(CallArrived(call, skill), now) if isinstance(c, Ring)]
        if idle:  # ties (same key) may go either way
            key = ORACLE_KEYS[strategy]
            assert rings
            assert key(acd._agents[rings[0].agent]) == min(key(a) for a in idle)
        if rings and action:  # answer it, and maybe end an older call
            acd.handle(AgentAnswered(rings[0].agent, call), now)
            talking.append(call)
        if talking and action >= 2:
            acd.handle(CallEnded(talking.pop(0)), now)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=0, max_size=40),
    st.integers(0, 12),
    st.sets(st.integers(0, 39), max_size=8),
)
def test_a_pools_best_k_are_its_members_in_order(
    ops: list[tuple[int, bool]], k: int, exclude: set[int]
) -> None:
    """``best`` (the decision trace's heap walk) lists what ``members`` lists, cut at k."""
    from callsim.core.agent import Agent
    from callsim.core.pool import CyclicPool, HeapPool

    heap, cyclic = HeapPool(lambda a: (a.weight,)), CyclicPool()
    agents = []
    for i, (key, leaves) in enumerate(ops):
        agent = Agent(f"a{i}", {"s": 1}, i, weight=float(key))
        agent.state = AgentState.READY
        agents.append(agent)
        heap.add(agent)
        cyclic.add(agent)
        if leaves:  # left idle again: the heap drops it lazily
            heap.discard(agent)
            cyclic.discard(agent)
            agent.idle_token += 1
    names = {f"a{i}" for i in exclude}
    for pool in (heap, cyclic):
        expected = [a for a in pool.members() if a.name not in names][:k]
        assert pool.best(k, names) == expected


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_move_graphs_never_move_a_call_without_end(data: st.DataObject) -> None:
    """Queues that move callers to each other at once (on_full with no places, on_empty
    with nobody logged in, on_max_wait after no wait): every event returns, and a call
    that loops takes the end of the field that would have moved it once it has left as
    many queues as there are at that instant, with the trace saying why."""
    n = data.draw(st.integers(2, 6))
    names = [f"q{i}" for i in range(n)]

    def move_or(end: ActionKind, name: str) -> Action:
        others = [x for x in names if x != name]
        target = data.draw(st.none() | st.sampled_from(others))
        return Action(end) if target is None else Action(ActionKind.QUEUE, target)

    queues = tuple(
        QueueConfig(
            name,
            ("s1",),
            max_waiting=data.draw(st.sampled_from([0, None])),
            on_full=move_or(ActionKind.BUSY, name),
            join_empty=data.draw(st.booleans()),
            on_empty=move_or(ActionKind.CLOSE, name),
            max_wait_s=data.draw(st.none() | st.just(0.0)),
            on_max_wait=move_or(ActionKind.VOICEMAIL, name),
        )
        for name in names
    )
    config = AcdConfig(queues)
    acd = Acd(config, trace=True)
    h = Harness(acd)
    for call in range(data.draw(st.integers(1, 5))):
        h.step(CallArrived(call, data.draw(st.sampled_from(names))))
        while h.timers:  # max-wait timers of 0 s fire at the same instant
            h.step(TimerExpired(h.timers.pop(0)))
    h.step(ServiceStopped())  # calls that wait for good (nobody serves them) end here
    assert not acd._calls
    assert len(acd.take_records()) == len(h.arrived)
    for d in acd.take_decisions():
        assert d.rule.startswith("routing loop: move ")
        assert f"more than the {n} queues allow" in d.rule
