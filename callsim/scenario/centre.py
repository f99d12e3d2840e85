"""The centre a scenario describes, as the core's objects: the ACD configuration (queues,
agents, routing), the clients' policies and how callers' contacts steer routing.

Both shells build their centre here, so the simulator and the live service route with the
same configuration; each adds only what belongs to it (the simulator: callers' behaviour
and timetables; the live service: nothing, people act through the API).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, tzinfo
from zoneinfo import ZoneInfo

from callsim.core import (
    AcdConfig,
    Action,
    ActionKind,
    AgentConfig,
    BlendConfig,
    QueueConfig,
    RoutingConfig,
)
from callsim.core.client import (
    BusinessHours,
    Client,
    CurrentException,
    Employee,
    EmployeeDirectory,
    FaqNode,
    Recording,
    RecordingMode,
    Tone,
    Treatment,
    TreatmentKind,
)
from callsim.core.inbound import CallerRouting
from callsim.core.ivr import Exit, Menu, Option
from callsim.scenario.model import (
    WEEKDAYS,
    ClientSpec,
    FaqSpec,
    IvrMenu,
    Queue,
    Scenario,
    ToQueue,
    TreatmentSpec,
    dist_mean,
)


def agent_names(s: Scenario) -> list[tuple[str, str]]:
    """(agent, group) of every agent: a group of ``count`` agents is ``name-1`` ..."""
    return [(f"{g.name}-{k}", g.name) for g in s.agents for k in range(1, g.count + 1)]


def queue_means(s: Scenario, field: str) -> dict[str, float]:
    """Each queue's mean of a call-stream distribution (``wrap_up_s``, ``patience_s``):
    its first stream's that sets one, the answering service's for client queues."""
    out: dict[str, float] = {}
    for c in s.calls:
        if getattr(c, field) is not None:
            out.setdefault(c.queue, dist_mean(getattr(c, field)))
    if getattr(s.answering, field) is not None:
        for cl in s.clients:
            out.setdefault(cl.queue, dist_mean(getattr(s.answering, field)))
    return out


def acd_config(
    s: Scenario, *, auto_answer: bool = False, wrap_up_s: Mapping[str, float] | None = None
) -> AcdConfig:
    """The ACD configuration: ``auto_answer`` phones answer by themselves; ``wrap_up_s``
    per queue (absent: 0, the shell passes each call's own wrap-up)."""
    groups = {g.name: g for g in s.agents}
    levels = {g.name: g.skill_levels() for g in s.agents}
    agents = tuple(
        AgentConfig(
            name,
            levels[group],
            weight=groups[group].weight,
            device=device.number if (device := groups[group].device) else "",
            ring_timeout_s=device.ring_timeout_s if device else None,
            chats=groups[group].chats,
        )
        for name, group in agent_names(s)
    )
    r = s.routing
    talk, wrap = queue_means(s, "talk_s"), queue_means(s, "wrap_up_s")
    handle = {q: talk[q] + wrap.get(q, 0.0) for q in talk}
    return AcdConfig(
        queues=tuple(
            _queue(q, (wrap_up_s or {}).get(q.name, 0.0), handle.get(q.name, 0.0)) for q in s.queues
        ),
        agents=agents,
        routing=RoutingConfig(
            strategy=r.strategy,
            ring_timeout_s=r.ring_timeout_s,
            max_no_answer=r.max_no_answer,
            no_answer_pause_s=r.no_answer_pause_s,
            on_hunt_exhausted=Action(ActionKind(r.on_hunt_exhausted)),
            use_proficiency=r.use_proficiency,
            auto_answer=auto_answer,
            lines=r.lines,
            blend=BlendConfig(s.outbound.queue, s.outbound.reserve) if s.outbound else None,
        ),
    )


def centre_zone(s: Scenario) -> ZoneInfo:
    """The centre's time zone (``answering.time_zone``)."""
    return ZoneInfo(s.answering.time_zone)


def clients(s: Scenario) -> tuple[Client, ...]:
    """Every client's policy, in its own time zone (the centre's if it sets none)."""
    centre = centre_zone(s)
    return tuple(client(cl, ZoneInfo(cl.time_zone) if cl.time_zone else centre) for cl in s.clients)


def caller_routing(s: Scenario) -> CallerRouting:
    contacts = s.answering.contacts
    return CallerRouting(
        vip_priority=contacts.vip_priority,
        language_queues=dict(contacts.language_queues),
        last_agent_wait_s=contacts.last_agent_wait_s,
    )


def treatments(spec: ClientSpec) -> list[TreatmentSpec]:
    """Every treatment a client's policy holds (standard, off-hours, exceptions,
    employees, FAQ leaves)."""
    out = [spec.treatment, spec.off_hours, *(e.treatment for e in spec.exceptions if e.treatment)]
    out += [e.treatment for e in spec.employees]
    return out + _faq_treatments(spec.faq)


def client(spec: ClientSpec, tz: tzinfo) -> Client:
    """One client's policy as the core's ``Client``."""
    hours = None
    if spec.hours is not None:
        weekly = {
            WEEKDAYS.index(day): tuple(_span(span) for span in spans)
            for day, spans in spec.hours.items()
        }
        hours = BusinessHours(tz, weekly, frozenset(spec.holidays))

    def aware(t: datetime) -> datetime:
        return t if t.tzinfo is not None else t.replace(tzinfo=tz)

    return Client(
        name=spec.name,
        numbers=tuple(spec.numbers),
        queue=spec.queue,
        welcome=spec.welcome,
        tone=Tone(spec.tone),
        treatment=_treatment(spec.treatment),
        hours=hours,
        off_hours=_treatment(spec.off_hours),
        exceptions=tuple(
            CurrentException(
                aware(e.start),
                aware(e.end),
                e.message,
                _treatment(e.treatment) if e.treatment else None,
            )
            for e in spec.exceptions
        ),
        faq=_faq(spec.faq) if spec.faq else None,
        employees=EmployeeDirectory(
            Employee(e.name, e.department, _treatment(e.treatment)) for e in spec.employees
        ),
        block_advertising=spec.block_advertising,
        # the client's own phones: never a callback number
        own_numbers=tuple(dict.fromkeys(t.number for tr in treatments(spec) for t in tr.targets)),
        menu=_menu(spec.ivr, spec.queue) if spec.ivr else None,
        recording=(
            Recording(
                RecordingMode(spec.recording.mode),
                spec.recording.announcement,
                spec.recording.retention_days,
                spec.recording.reference,
            )
            if spec.recording
            else None
        ),
    )


def _action(fallback: str | ToQueue) -> Action:
    if isinstance(fallback, ToQueue):
        return Action(ActionKind.QUEUE, fallback.queue)
    return Action(ActionKind(fallback))


def _queue(q: Queue, wrap_up_s: float, handle_s: float) -> QueueConfig:
    return QueueConfig(
        name=q.name,
        skills=tuple(q.skills),
        strategy=q.strategy,
        priority=q.priority,
        aging_per_s=q.aging_per_s,
        max_wait_s=q.max_wait_s,
        on_max_wait=_action(q.on_max_wait),
        overflow_after_s=q.overflow.after_s if q.overflow else None,
        overflow_to=tuple(q.overflow.to) if q.overflow else (),
        join_empty=q.join_empty,
        leave_when_empty=q.leave_when_empty,
        on_empty=_action(q.on_empty),
        wrap_up_s=wrap_up_s,
        max_waiting=q.max_waiting,
        on_full=_action(q.on_full),
        handle_s=handle_s,
        announce_every_s=q.announce_every_s,
        callback_above_s=q.callback_above_s,
        channel=q.channel,
    )


def _menu(spec: IvrMenu, client_queue: str) -> Menu:
    options = {}
    for key, c in spec.options.items():
        options[key] = Option(
            exit=Exit(c.exit),
            queue=(c.queue or client_queue) if c.exit == "queue" else None,
            message=c.message,
            submenu=_menu(c.menu, client_queue) if c.menu is not None else None,
            probability=c.probability,
        )
    return Menu(spec.prompt, options)


def _faq(spec: FaqSpec) -> FaqNode:
    treatment = _treatment(spec.treatment) if spec.treatment else None
    return FaqNode(spec.title, tuple(_faq(c) for c in spec.children), spec.info, treatment)


def _faq_treatments(spec: FaqSpec | None) -> list[TreatmentSpec]:
    if spec is None:
        return []
    own = [spec.treatment] if spec.treatment else []
    return own + [t for child in spec.children for t in _faq_treatments(child)]


def _treatment(spec: TreatmentSpec) -> Treatment:
    return Treatment(TreatmentKind(spec.kind), tuple(t.number for t in spec.targets), spec.info)


def _span(span: str) -> tuple[time, time]:
    a, b = span.split("-")
    end = time.max if b == "24:00" else time.fromisoformat(b)
    return time.fromisoformat(a), end
