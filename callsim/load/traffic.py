"""What the load test's people do, planned from the scenario before the run.

The callers' day is an open model: every call's time is fixed up front (a Poisson
process following the scenario's intraday profile, compressed by the speedup), so a slow
server cannot lower the load by making callers wait. Agents follow the scenario's shifts
and breaks, compressed the same way. Everything is drawn from one seed: every locust
process builds the same plan and takes its own share of it.

Times: ``at_s`` is seconds after the load starts (wall clock); ``scenario_s`` the same
moment on the simulator's plan clock, ``count_from_s + at_s * speedup``.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from callsim.core import TreatmentKind
from callsim.core.client import Instruction, Tone, Treatment, forward
from callsim.core.inbound import chosen_treatment
from callsim.errors import InputError
from callsim.scenario.model import Scenario
from callsim.sim.engine import Calls
from callsim.sim.plan import SimPlan, Step, build_plan
from callsim.sim.sample import Streams
from callsim.sim.world import Caller, Callers, request, target_answers
from callsim.sim.world import talk_s as world_talk_s

MAX_CALLS = 2_000_000  # planned calls: beyond this the plan alone would exhaust memory


@dataclass(frozen=True, slots=True)
class PlannedCall:
    uid: int  # also the call's idempotency key
    at_s: float  # when to place it, seconds after the start
    scenario_s: float  # the same moment on the plan clock
    stream: int  # index into plan.streams
    body: dict[str, Any]  # POST /v1/calls
    patience_s: float  # wall seconds the caller waits before hanging up (inf: forever)
    talk_s: float = 0.0  # the caller's talk, seconds on the plan clock (the simulator's)
    caller: Caller | None = None  # who dials a client and what they ask (None: a queue's)


@dataclass(frozen=True, slots=True)
class AgentPlan:
    name: str
    steps: tuple[tuple[float, Step], ...]  # (at_s, login | logout | pause | ready)
    answer_probability: float
    answer_delay: Any = None  # Sampler: pick-up time, seconds on the plan clock


@dataclass(slots=True)
class Traffic:
    scenario: Scenario
    plan: SimPlan
    speedup: float
    run_s: float
    rate_scale: float
    seed: int
    calls: list[PlannedCall] = field(default_factory=list)
    agents: list[AgentPlan] = field(default_factory=list)
    known: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # client -> contacts
    by_ani: dict[str, list[PlannedCall]] = field(default_factory=dict)  # in time order

    def to_scenario_s(self, at_s: float) -> float:
        return self.plan.count_from_s + at_s * self.speedup

    def planned(self, ani: str | None, at_s: float) -> PlannedCall | None:
        """The planned call of caller ``ani`` answered at ``at_s`` (seconds after the
        start): their latest call placed by then (None: no such caller)."""
        mine = self.by_ani.get(ani or "")
        if not mine:
            return None
        i = bisect_right([c.at_s for c in mine], at_s)
        return mine[max(0, i - 1)]


def plan_traffic(
    scenario: Scenario, *, speedup: float, run_s: float, rate_scale: float = 1.0, seed: int = 1
) -> Traffic:
    """The calls and agents of a load run of ``run_s`` wall seconds from the horizon's
    start, at ``speedup`` scenario seconds per wall second, arrival rates times
    ``rate_scale``.

    The calls are the simulator's (``Calls`` and the world's ``Callers``, replication 0
    of ``seed``): a run over the whole horizon at rate scale 1 places the very calls a
    simulated day of that seed holds (times, talk, patience, who dials what and asks for
    whom); the warm-up's calls are drawn and left out."""
    if not 0 < speedup <= 3600:
        raise InputError(f"{speedup} is not in (0, 3600]", field="speedup")
    if not 0 < rate_scale <= 1000:
        raise InputError(f"{rate_scale} is not in (0, 1000]", field="rate_scale")
    if not 0 < run_s <= 86_400:
        raise InputError(f"{run_s} s is not in (0, 86400]", field="run_time")
    plan = build_plan(scenario)
    t = Traffic(scenario, plan, speedup, run_s, rate_scale, seed)
    start = plan.count_from_s
    end = min(start + run_s * speedup, plan.arrivals_end_s)
    expected = sum(
        rate * rate_scale * max(0.0, min(b, end) - max(a, start))
        for s in plan.streams
        for a, b, rate in s.pieces
    )
    if expected > MAX_CALLS:
        raise InputError(
            f"about {expected:,.0f} calls planned, more than {MAX_CALLS:,}: shorten the run "
            "or lower the rate scale",
            field="run_time",
        )
    streams = Streams(seed, 0)  # the simulator's first replication of this seed
    draws = {name: streams.numpy(name) for name in ("talk", "patience", "wrap_up", "volume")}
    calls = Calls(
        plan, streams.numpy("arrivals"), draws,
        rate_scale=rate_scale, until=end if end < plan.arrivals_end_s else math.inf,
    )  # fmt: skip
    callers = Callers(plan.clients, plan.contacts, streams.python("caller").random)
    uid = 0
    for cid in range(calls.n_first):
        scenario_s, k = calls.arrival[cid], calls.stream[cid]
        client = calls.client[cid]
        who = callers.next(client) if client >= 0 else None  # every call draws, in order
        if scenario_s < start:  # the warm-up's: drawn as the simulator does, not placed
            continue
        uid += 1
        patience = calls.patience[cid]
        planned = PlannedCall(
            uid, (scenario_s - start) / speedup, scenario_s, k,
            _body(t, k, uid, who), patience / speedup, calls.talk[cid], who,
        )  # fmt: skip
        t.calls.append(planned)
        t.by_ani.setdefault(planned.body["ani"], []).append(planned)
    _known_contacts(t, callers)
    for tt in plan.timetables:
        steps = tuple(
            (max(0.0, (at - start) / speedup), kind)
            for at, kind in tt.steps
            if at < end  # what happens after the run does not matter
        )
        delay = tt.answer_delay or plan.answer_delay
        t.agents.append(AgentPlan(tt.agent, steps, tt.answer_probability, delay))
    return t


def _known_contacts(t: Traffic, callers: Callers) -> None:
    """The known callers (the world's population: VIPs and languages) who call in the
    run, registered with the service before it so that they are found."""
    calling = {c.caller.ani for c in t.calls if c.caller is not None and c.caller.known}
    for i, known in enumerate(callers.known):
        mine = [
            {
                "numbers": [c.number],
                "name": f"Caller {i}-{k}",
                "category": "vip" if c.vip else "regular",
                "language": c.language,
            }
            for k, c in enumerate(known)
            if c.number in calling
        ]
        if mine:
            t.known[i] = mine


def _body(t: Traffic, k: int, uid: int, who: Caller | None) -> dict[str, Any]:
    """POST /v1/calls: the caller dials the client's number (the world's caller), or a
    queue's line."""
    if who is None:
        return {"ani": f"+3{uid:010d}", "queue": t.plan.streams[k].queue}
    body: dict[str, Any] = {"dnis": who.dnis, "ani": who.ani}
    if who.language:
        body["language"] = who.language
    if who.keys:
        body["ivr_digits"] = who.keys
    if who.advertising:
        body["advertising"] = True
    return body


def instruction_of(client: str, ins: dict[str, Any]) -> Instruction:
    """The core's instruction from its JSON (``GET /v1/calls/{id}``, the stored row)."""
    t = ins["treatment"]
    return Instruction(
        client, ins["greeting"], Tone(ins["tone"]),
        Treatment(TreatmentKind(t["kind"]), tuple(t["targets"]), t["info"]),
        tuple(ins["messages"]), ins["in_hours"], ins["hours_text"], ins["exception"],
    )  # fmt: skip


def handling(
    t: Traffic,
    client: str | None,
    instruction: dict[str, Any] | None,
    planned: PlannedCall | None,
    rng: random.Random,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """What the caller asks of an answering-service agent (the planned caller's request;
    drawn anew for a call not found in the plan), and what the world does: the forward
    targets of the treatment the core chooses (``chosen_treatment``) are tried in order,
    one draw each by its success share, until one picks up (the core's ``forward``).
    Returns the fields the agent sends with the completion (the core decides the
    treatment again from them) and the targets tried."""
    pc = next((p for p in t.plan.clients if p.client.name == client), None)
    if pc is None:
        return {}, ()
    who = planned.caller if planned is not None else None
    employee, faq = (who.employee, who.faq) if who is not None else request(pc, rng.random)
    out: dict[str, Any] = {}
    if employee is not None:
        out["employee"] = employee
    elif faq:
        out["faq"] = list(faq)
    if not instruction:
        return out, ()
    assert client is not None
    treatment = chosen_treatment(pc.client, instruction_of(client, instruction), employee, faq)
    if treatment.kind is not TreatmentKind.FORWARD:
        return out, ()
    result = forward(treatment, lambda n: target_answers(pc.success, n, rng.random()))
    out["forward_answered"] = {n: n == result.target for n in result.attempts}
    return out, result.attempts


def talk_s(
    t: Traffic,
    planned: PlannedCall | None,
    stream: int,
    instruction: dict[str, Any] | None,
    tried: tuple[str, ...],
    rng: np.random.Generator,
) -> float:
    """Wall seconds of talk: the planned caller's talk (drawn anew for a call not found
    in the plan), longer in a formal tone, plus the time of each forward tried (the
    world's ``talk_s``, as the simulator)."""
    plan = t.plan
    talk = planned.talk_s if planned is not None else float(plan.streams[stream].talk(rng, 1)[0])
    tone = Tone(instruction["tone"]) if instruction else None
    forward_s = plan.forward_s
    forwards = [float(forward_s(rng, 1)[0]) for _ in tried] if forward_s is not None else []
    return world_talk_s(talk, tone, plan.formal_factor, forwards) / t.speedup


def stream_of(t: Traffic, client: str | None, queue: str) -> int:
    """The plan's stream of a call to ``client`` (or, without one, to ``queue``)."""
    for k, s in enumerate(t.plan.streams):
        if client is not None and s.client >= 0 and t.plan.clients[s.client].client.name == client:
            return k
        if client is None and s.client < 0 and s.queue == queue:
            return k
    return 0
