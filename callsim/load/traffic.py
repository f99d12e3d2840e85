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

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from callsim.core import TreatmentKind
from callsim.errors import InputError
from callsim.scenario.model import Scenario
from callsim.sim.plan import SimPlan, build_plan
from callsim.sim.sample import poisson_times, press_keys

MAX_CALLS = 2_000_000  # planned calls: beyond this the plan alone would exhaust memory
KNOWN_PER_CLIENT = 20  # known callers registered per client before the run


@dataclass(frozen=True, slots=True)
class PlannedCall:
    uid: int  # also the call's idempotency key
    at_s: float  # when to place it, seconds after the start
    scenario_s: float  # the same moment on the plan clock
    stream: int  # index into plan.streams
    body: dict[str, Any]  # POST /v1/calls
    patience_s: float  # wall seconds the caller waits before hanging up (inf: forever)


@dataclass(frozen=True, slots=True)
class AgentPlan:
    name: str
    steps: tuple[tuple[float, str], ...]  # (at_s, login | logout | pause | ready)
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

    def to_scenario_s(self, at_s: float) -> float:
        return self.plan.count_from_s + at_s * self.speedup


def plan_traffic(
    scenario: Scenario, *, speedup: float, run_s: float, rate_scale: float = 1.0, seed: int = 1
) -> Traffic:
    """The calls and agents of a load run of ``run_s`` wall seconds from the horizon's
    start, at ``speedup`` scenario seconds per wall second, arrival rates times
    ``rate_scale``."""
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
    rng = np.random.default_rng([seed, 7])
    policy = random.Random(seed)
    _known_contacts(t, policy)
    planned: list[tuple[float, int]] = []
    for k, s in enumerate(plan.streams):
        pieces = [
            (max(a, start), min(b, end), rate * rate_scale)
            for a, b, rate in s.pieces
            if min(b, end) > max(a, start)
        ]
        planned += [(float(x), k) for x in poisson_times(rng, pieces)]
    planned.sort()
    for uid, (scenario_s, k) in enumerate(planned, start=1):
        s = plan.streams[k]
        patience = float(s.patience(rng, 1)[0]) / speedup if s.patience else float("inf")
        t.calls.append(
            PlannedCall(
                uid,
                (scenario_s - start) / speedup,
                scenario_s,
                k,
                _caller(t, k, uid, policy),
                patience,
            )
        )
    for tt in plan.timetables:
        steps = tuple(
            (max(0.0, (at - start) / speedup), kind)
            for at, kind in tt.steps
            if at < end  # what happens after the run does not matter
        )
        delay = tt.answer_delay or plan.answer_delay
        t.agents.append(AgentPlan(tt.agent, steps, tt.answer_probability, delay))
    return t


def _known_contacts(t: Traffic, rng: random.Random) -> None:
    """A few known callers per client (the scenario's population share, VIPs and
    languages), registered with the service before the run so that callers are found."""
    cs = t.plan.contacts
    if cs is None or cs.known_share <= 0:
        return
    for i in range(len(t.plan.clients)):
        t.known[i] = [
            {
                "numbers": [f"+1{i:03d}{k:06d}"],
                "name": f"Caller {i}-{k}",
                "category": "vip" if rng.random() < cs.vip_share else "regular",
                "language": _language(t, rng),
            }
            for k in range(min(cs.population, KNOWN_PER_CLIENT))
        ]


def _language(t: Traffic, rng: random.Random) -> str:
    cs = t.plan.contacts
    if cs is None or not cs.languages:
        return ""
    u, total = rng.random(), 0.0
    for language, share in cs.languages.items():
        total += share
        if u < total:
            return language
    return list(cs.languages)[-1]


def _caller(t: Traffic, k: int, uid: int, rng: random.Random) -> dict[str, Any]:
    """Who dials what: the scenario's client numbers, known or new callers, voice-menu
    keys and advertising (the simulator's caller behaviour); a queue's call dials it."""
    s = t.plan.streams[k]
    if s.client < 0:
        return {"ani": f"+3{uid:010d}", "queue": s.queue}
    pc = t.plan.clients[s.client]
    body: dict[str, Any] = {"dnis": pc.client.numbers[0]}
    known = t.known.get(s.client, [])
    cs = t.plan.contacts
    if cs is not None and known and rng.random() < cs.known_share:
        body["ani"] = known[int(rng.random() * len(known))]["numbers"][0]
    else:
        body["ani"] = f"+2{uid:010d}"
        language = _language(t, rng)
        if language:
            body["language"] = language
    if pc.client.menu is not None:
        keys = press_keys(pc.client.menu, rng.random)
        if keys:
            body["ivr_digits"] = keys
    if pc.advertising_share and rng.random() < pc.advertising_share:
        body["advertising"] = True
    return body


def handling(
    t: Traffic, client: str | None, instruction: dict[str, Any] | None, rng: random.Random
) -> dict[str, Any]:
    """What the caller asks of an answering-service agent, and what the world does: the
    employee or FAQ request, and whether each forward target the call could reach picks
    up (by its success share). The agent sends these with the completion; the core
    decides the treatment."""
    pc = next((p for p in t.plan.clients if p.client.name == client), None)
    if pc is None:
        return {}
    out: dict[str, Any] = {}
    targets = list(((instruction or {}).get("treatment") or {}).get("targets", ()))
    if pc.employees:
        out["employee"] = pc.employees[int(rng.random() * len(pc.employees))]
        targets += pc.client.employees.named(out["employee"]).treatment.targets
    elif pc.faq_paths and pc.client.faq is not None:
        out["faq"] = list(pc.faq_paths[int(rng.random() * len(pc.faq_paths))])
        leaf = pc.client.faq.walk(out["faq"]).treatment
        targets += leaf.targets if leaf is not None else ()
    if targets:
        out["forward_answered"] = {
            n: rng.random() < pc.success.get(n, 0.0) for n in dict.fromkeys(targets)
        }
    return out


def talk_s(t: Traffic, stream: int, instruction: dict[str, Any] | None, rng: Any) -> float:
    """Wall seconds of talk for a call of ``stream``: the scenario's talk time, longer in
    a formal tone, plus the time of each forward tried (the simulator's model)."""
    plan = t.plan
    s = plan.streams[stream]
    talk = float(s.talk(rng, 1)[0])
    if instruction:
        if instruction.get("tone") == "formal":
            talk *= plan.formal_factor
        treatment = instruction.get("treatment") or {}
        if treatment.get("kind") == TreatmentKind.FORWARD.value and plan.forward_s is not None:
            talk += sum(float(plan.forward_s(rng, 1)[0]) for _ in treatment.get("targets", ()))
    return talk / t.speedup


def stream_of(t: Traffic, client: str | None, queue: str) -> int:
    """The plan's stream of a call to ``client`` (or, without one, to ``queue``)."""
    for k, s in enumerate(t.plan.streams):
        if client is not None and s.client >= 0 and t.plan.clients[s.client].client.name == client:
            return k
        if client is None and s.client < 0 and s.queue == queue:
            return k
    return 0
