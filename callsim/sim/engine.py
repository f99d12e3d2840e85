"""One replication: SimPy's clock drives the ACD core's events and carries out its commands.

No per-call process: every happening is one lean object with one callback in SimPy's event
queue, processed by SimPy's own ``Environment.step`` (this relies on SimPy 4's event
protocol and queue layout; pyproject pins simpy below 5). Per-call attributes (arrival,
talk, patience, wrap-up) are drawn up front in numpy from named streams; a caller's
patience timer is set only when the call has to wait, and a late one (after the answer)
is dropped when it fires (lazy cancellation).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import timedelta
from heapq import heappush
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from callsim.core import (
    Acd,
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentState,
    CallArrived,
    CallDiverted,
    CallEnded,
    CallerHungUp,
    CallRecord,
    Connect,
    End,
    Enqueue,
    Party,
    Ring,
    RingTimedOut,
    ServiceStopped,
    StartTimer,
    TimerExpired,
)
from callsim.core.call import CallState
from callsim.core.client import Tone, TreatmentKind, instruction_for, screen
from callsim.core.contact import Category, ContactBook, Interaction, routing_inputs
from callsim.core.ivr import Exit, IvrSession, Option
from callsim.sim.plan import PlanClient, SimPlan
from callsim.sim.sample import Streams, poisson_times
from callsim.sim.stats import CallFacts


class _At:
    """A happening with one callback, for SimPy's event loop.

    ``Environment.step`` reads only ``callbacks``, ``_ok`` and ``_value`` of what it pops
    (SimPy 4), so this slotted object stands in for a ``simpy.Event``: a Timeout without
    its extras, at a third of the cost. ``Replication._at`` schedules it."""

    __slots__ = ("_ok", "_value", "callbacks")
    callbacks: Any  # SimPy sets it to None once processed

    def __init__(self, value: Any, callback: Callable[[Any], None]) -> None:
        self.callbacks = [callback]
        self._value = value
        self._ok = True


def _unbound(ev: _At) -> None:
    raise RuntimeError("a replication runs once")


# what the client's policy made of a call (per call, for per-client results)
NONE, NOTE, FORWARD_1, FORWARD_2, FORWARD_FAILED, BLOCKED, DEFLECTED, IVR_VOICEMAIL, IVR_MESSAGE = (
    range(9)
)
DIVERTED = {
    "blocked": BLOCKED,
    "deflected": DEFLECTED,
    "voicemail": IVR_VOICEMAIL,
    "closed": IVR_MESSAGE,
}
_IVR_OUTCOMES = {
    Exit.SELF_SERVICE: "deflected",
    Exit.VOICEMAIL: "voicemail",
    Exit.MESSAGE: "closed",
}


class Replication:
    """Runs one replication of a plan and returns the ACD's call records."""

    def __init__(self, plan: SimPlan, seed: int, replication: int) -> None:
        self.plan = plan
        streams = Streams(seed, replication)
        self.acd = Acd(plan.acd, streams.python("tie_break"))
        self.env = simpy.Environment()
        self._answer_rng = streams.python("answer")
        self._retrial_rng = streams.python("retrial")
        self._np = {
            name: streams.numpy(name) for name in ("handle", "patience", "wrap_up", "retrial")
        }
        self._delay_rng = streams.numpy("answer")
        self._p_answer = {s.agent: s.answer_probability for s in plan.shifts}
        self.retrials = 0
        self._policy_rng = streams.python("policy")
        self._policy_np = streams.numpy("policy")
        self._draw_calls(streams.numpy("arrivals"))
        self._queue: list[Any] = self.env._queue  # SimPy's event queue and ids, kept
        self._eid = self.env._eid  # for the life of the environment
        # bound once for the day: a method looked up per happening is a new object each
        # time (run() unbinds them: they refer back to this object)
        self._handle = self.acd.handle
        self._on_arrive = self._arrive
        self._on_talk_end = self._talk_end

    # -- calls ----------------------------------------------------------------------------

    def _draw_calls(self, rng: np.random.Generator) -> None:
        times, stream_of = [], []
        for k, s in enumerate(self.plan.streams):
            t = poisson_times(rng, s.pieces)
            times.append(t)
            stream_of.append(np.full(len(t), k, dtype=np.int32))
        t_all = np.concatenate(times) if times else np.empty(0)
        k_all = np.concatenate(stream_of) if stream_of else np.empty(0, dtype=np.int32)
        order = np.argsort(t_all, kind="stable")
        t_all, k_all = t_all[order], k_all[order]
        n = len(t_all)
        handle = np.empty(n)
        patience = np.full(n, np.inf)
        wrap = np.zeros(n)
        for k, s in enumerate(self.plan.streams):
            mask = k_all == k
            m = int(mask.sum())
            handle[mask] = s.handle(self._np["handle"], m)
            if s.patience is not None:
                patience[mask] = s.patience(self._np["patience"], m)
            if s.wrap_up is not None:
                wrap[mask] = s.wrap_up(self._np["wrap_up"], m)
        self.arrival: list[float] = t_all.tolist()
        self.stream: list[int] = k_all.tolist()
        self.handle: list[float] = handle.tolist()
        self.patience: list[float] = patience.tolist()
        self.wrap: list[float] = wrap.tolist()
        self.answered = [False] * n
        self.n_first = n
        queue_of = [s.queue for s in self.plan.streams]
        prio_of = [s.priority for s in self.plan.streams]
        self.queue = [queue_of[k] for k in self.stream]
        self.priority = [prio_of[k] for k in self.stream]
        client_of = [s.client for s in self.plan.streams]
        self.client = [client_of[k] for k in self.stream]
        self.policy = [NONE] * n
        self.off_hours = [False] * n
        self.contact = [0] * n  # contact id, 0 = none
        self.vip = [False] * n
        self.new_caller = [False] * n
        self.preferred: list[str | None] = [None] * n
        self.by_last_agent = [False] * n
        self._make_contacts()

    def _new_retrial(self, of: int, at: float) -> int:
        s = self.plan.streams[self.stream[of]]
        rng = self._np
        cid = len(self.arrival)
        self.arrival.append(at)
        self.stream.append(self.stream[of])
        self.handle.append(float(s.handle(rng["handle"], 1)[0]))
        self.patience.append(
            float(s.patience(rng["patience"], 1)[0]) if s.patience else float("inf")
        )
        self.wrap.append(float(s.wrap_up(rng["wrap_up"], 1)[0]) if s.wrap_up else 0.0)
        self.answered.append(False)
        self.queue.append(self.queue[of])
        self.priority.append(self.priority[of])
        self.client.append(self.client[of])
        self.policy.append(NONE)
        self.off_hours.append(False)
        self.contact.append(0)
        self.vip.append(False)
        self.new_caller.append(False)
        self.preferred.append(None)
        self.by_last_agent.append(False)
        self.retrials += 1
        return cid

    # -- scheduling -----------------------------------------------------------------------

    def _at(self, at: float, fn: Callable[[Any], None], value: Any) -> None:
        """Call ``fn`` at time ``at`` (>= now): ``Environment.schedule`` inlined, into the
        same queue in the same order, without its attribute look-ups per happening."""
        heappush(self._queue, (at, NORMAL, next(self._eid), _At(value, fn)))

    def run(self) -> list[CallRecord]:
        """Simulate the day. The cyclic garbage collector is paused meanwhile: calls and
        records form no reference cycles (reference counting frees them), and its scans of
        the growing record list otherwise make each call dearer the longer the day."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            # break the cycles through the bound methods, so reference counting frees
            # this replication as soon as it is dropped (memory stays flat over many)
            self._on_arrive = self._on_talk_end = _unbound
            if was_enabled:
                gc.enable()

    def _run(self) -> list[CallRecord]:
        env = self.env
        for shift in self.plan.shifts:
            for at, kind in shift.steps:
                self._at(at, self._agent_step, (shift.agent, kind))
        if self.arrival:
            self._at(self.arrival[0], self._arrive, 0)
        env.run()
        self._do(self.acd.handle(ServiceStopped(), env.now))
        return self.acd.take_records()

    # -- callbacks ------------------------------------------------------------------------

    def _arrive(self, ev: _At) -> None:
        cid: int = ev._value
        now = self.env._now
        client = self.client[cid]
        if client < 0:
            arrived = CallArrived(cid, self.queue[cid], "", "", self.priority[cid])
            self._do(self._handle(arrived, now))
        else:
            pc = self.plan.clients[client]
            if not self._divert(cid, pc, now):
                self._do(self.acd.handle(self._client_call(cid, pc, now), now))
        nxt = cid + 1
        if nxt < self.n_first:
            self._at(self.arrival[nxt], self._on_arrive, nxt)

    def facts(self) -> CallFacts:
        return CallFacts(
            self.client, self.policy, self.off_hours, self.vip, self.new_caller, self.by_last_agent
        )

    def _make_contacts(self) -> None:
        """Each client's known callers, in the core's contact book."""
        self.book = ContactBook()
        self._known: list[list[str]] = []
        self._fresh = 0
        cs = self.plan.contacts
        if cs is None:
            return
        rng = self._policy_rng
        for i in range(len(self.plan.clients)):
            numbers = []
            for k in range(cs.population if cs.known_share > 0 else 0):
                number = f"+1{i:03d}{k:06d}"
                vip = rng.random() < cs.vip_share
                self.book.add(
                    [number],
                    category=Category.VIP if vip else Category.REGULAR,
                    language=self._language(),
                )
                numbers.append(number)
            self._known.append(numbers)

    def _language(self) -> str:
        cs = self.plan.contacts
        if cs is None or not cs.languages:
            return ""
        u, total = self._policy_rng.random(), 0.0
        for language, share in cs.languages.items():
            total += share
            if u < total:
                return language
        return language

    def _client_call(self, cid: int, pc: PlanClient, now: float) -> CallArrived:
        """Identify the caller in the contact book and let the contact steer routing."""
        cs = self.plan.contacts
        if cs is None:
            return CallArrived(cid, self.queue[cid], "", pc.client.numbers[0], self.priority[cid])
        rng = self._policy_rng
        known = self._known[self.client[cid]]
        if known and rng.random() < cs.known_share:
            ani = known[int(rng.random() * len(known))]
        else:
            self._fresh += 1
            ani = f"+2{self._fresh:09d}"
        contact, created = self.book.identify(ani)
        if created:
            contact.language = self._language()
            self.new_caller[cid] = True
        inputs = routing_inputs(
            contact,
            self.queue[cid],
            language_queues=cs.language_queues,
            vip_priority=cs.vip_priority,
            preferred_wait_s=cs.last_agent_wait_s,
        )
        self.contact[cid] = contact.id
        self.vip[cid] = contact.category is Category.VIP
        self.preferred[cid] = inputs.preferred_agent
        return CallArrived(
            cid, inputs.queue, ani, pc.client.numbers[0], inputs.priority,
            inputs.preferred_agent, inputs.preferred_wait_s,
        )  # fmt: skip

    def _divert(self, cid: int, pc: PlanClient, now: float) -> bool:
        """Advertising blocking and the client's voice menu, before the queue. True if the
        call ended there (the core records it); a menu option may also pick the queue."""
        rng = self._policy_rng
        outcome = None
        advertising = bool(pc.advertising_share) and rng.random() < pc.advertising_share
        if advertising and not screen(pc.client, advertising=True):
            outcome = "blocked"
        elif pc.menu is not None:
            option = self._walk(IvrSession(pc.menu))
            if option is not None and option.exit is Exit.QUEUE:
                assert option.queue is not None
                self.queue[cid] = option.queue
            elif option is not None:
                outcome = _IVR_OUTCOMES[option.exit]
        if outcome is None:
            return False
        self.policy[cid] = DIVERTED[outcome]
        self.acd.handle(CallDiverted(cid, self.queue[cid], outcome, "", pc.client.numbers[0]), now)
        return True

    def _walk(self, session: IvrSession) -> Option | None:
        """Press keys by the options' shares until the call leaves the menu; None when
        the caller presses nothing (they go on to the client's queue)."""
        while True:
            u, total, key = self._policy_rng.random(), 0.0, None
            for k, option in session.menu.options.items():
                total += option.probability
                if u < total:
                    key = k
                    break
            if key is None:
                return None
            step = session.press(key)
            if step.done:
                return step.option

    def _client_work(self, cid: int, pc: PlanClient, now: float, agent: str) -> float:
        """Talk time of a client call as its policy shapes it; sets its wrap-up and result,
        and records the interaction in the contact book (the agent becomes the last)."""
        plan = self.plan
        assert plan.calendar_start is not None
        assert plan.forward_s is not None
        assert plan.note_s is not None
        rng = self._policy_rng
        at = plan.calendar_start + timedelta(seconds=now)
        inst = instruction_for(pc.client, at)
        if self.contact[cid]:
            self.book.record(self.contact[cid], Interaction(at, "inbound", agent, ""))
            self.by_last_agent[cid] = self.preferred[cid] == agent
        treatment = inst.treatment
        if inst.in_hours and not inst.exception:
            if pc.employees:  # the caller asks for one employee
                treatment = pc.employees[int(rng.random() * len(pc.employees))]
            elif pc.faq_leaves:  # the caller's request is one FAQ leaf
                leaf = pc.faq_leaves[int(rng.random() * len(pc.faq_leaves))]
                treatment = leaf.treatment or treatment
        talk = self.handle[cid] * (plan.formal_factor if inst.tone is Tone.FORMAL else 1.0)
        code = NOTE
        if treatment.kind is TreatmentKind.FORWARD:
            code = FORWARD_FAILED
            for k, target in enumerate(treatment.targets):
                talk += float(plan.forward_s(self._policy_np, 1)[0])
                if rng.random() < pc.success.get(target, 0.0):
                    code = FORWARD_1 + k
                    break
        if code in (NOTE, FORWARD_FAILED):
            self.wrap[cid] += float(plan.note_s(self._policy_np, 1)[0])
        self.policy[cid] = code
        self.off_hours[cid] = not inst.in_hours
        return talk

    def _arrive_retrial(self, ev: _At) -> None:
        cid: int = ev._value
        self._do(
            self.acd.handle(
                CallArrived(cid, self.queue[cid], "", "", self.priority[cid]), self.env._now
            )
        )

    def _give_up(self, ev: _At) -> None:
        cid: int = ev._value
        if self.answered[cid]:
            return  # answered before the caller ran out of patience
        call = self.acd.calls.get(cid)
        if call is None or call.state not in (CallState.WAITING, CallState.RINGING):
            return
        now = self.env.now
        self._do(self.acd.handle(CallerHungUp(cid), now))
        s = self.plan.streams[self.stream[cid]]
        if s.retrial_p > 0 and self._retrial_rng.random() < s.retrial_p:
            assert s.retrial_delay is not None
            delay = float(s.retrial_delay(self._np["retrial"], 1)[0])
            retry = self._new_retrial(cid, now + delay)
            self._at(now + delay, self._arrive_retrial, retry)

    def _talk_end(self, ev: _At) -> None:
        cid: int = ev._value
        self._do(self._handle(CallEnded(cid, Party.AGENT, self.wrap[cid]), self.env._now))

    def _timer(self, ev: _At) -> None:
        self._do(self.acd.handle(TimerExpired(ev._value), self.env.now))

    def _answer(self, ev: _At) -> None:
        cid, agent = ev._value
        call = self.acd.calls.get(cid)
        if call is not None and agent in call.ringing:
            self._do(self.acd.handle(AgentAnswered(agent, cid), self.env.now))

    def _ring_out(self, ev: _At) -> None:
        cid, agent = ev._value
        self._do(self.acd.handle(RingTimedOut(agent, cid), self.env.now))

    def _agent_step(self, ev: _At) -> None:
        agent, kind = ev._value
        acd, now = self.acd, self.env.now
        if kind == "login":
            self._do(acd.handle(AgentLoggedIn(agent), now))
        elif kind == "logout":
            self._do(acd.handle(AgentLoggedOut(agent), now))
        elif kind == "pause":
            if acd.agents[agent].state is not AgentState.OFFLINE:
                self._do(acd.handle(AgentPaused(agent, "break"), now))
        elif acd.agents[agent].state is AgentState.PAUSED:
            self._do(acd.handle(AgentReady(agent), now))

    # -- commands -------------------------------------------------------------------------

    def _do(self, commands: list[Any]) -> None:
        for cmd in commands:
            kind = type(cmd)
            if kind is End:
                continue
            if kind is Connect:
                cid = cmd.call
                self.answered[cid] = True
                client = self.client[cid]
                now = self.env._now
                talk = (
                    self.handle[cid]
                    if client < 0
                    else self._client_work(cid, self.plan.clients[client], now, cmd.agent)
                )
                self._at(now + talk, self._on_talk_end, cid)
            elif kind is Ring:
                self._ring(cmd)
            elif kind is Enqueue:
                cid = cmd.call
                patience = self.patience[cid]
                if patience != float("inf"):
                    at = max(self.env._now, self.arrival[cid] + patience)
                    self._at(at, self._give_up, cid)
                    self.patience[cid] = float("inf")  # set once per call
            elif kind is StartTimer:
                self._at(self.env._now + cmd.delay_s, self._timer, cmd.timer)

    def _ring(self, ring: Ring) -> None:
        """An offer rings (agents do not all answer at once, or the core would auto-answer):
        the agent answers after a delay, or the ring times out."""
        timeout = ring.timeout_s
        if self._answer_rng.random() < self._p_answer[ring.agent]:
            delay = 0.0
            if self.plan.answer_delay is not None:
                delay = float(self.plan.answer_delay(self._delay_rng, 1)[0])
            if delay < timeout:
                if delay == 0.0:
                    self._do(self.acd.handle(AgentAnswered(ring.agent, ring.call), self.env.now))
                else:
                    self._at(self.env._now + delay, self._answer, (ring.call, ring.agent))
                return
        self._at(self.env._now + timeout, self._ring_out, (ring.call, ring.agent))
