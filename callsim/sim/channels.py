"""Results per channel: replications of a scenario with chats or emails, summed up by
``analytics.channels`` (service level and abandonment of calls and chats, the share of
emails answered when due, the email backlog over the day, occupancy)."""

from __future__ import annotations

from callsim.analytics.channels import ChannelResults, Window, channel_day, combine
from callsim.core import Channel
from callsim.scenario import Scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

EMAIL_DUE_H = 24.0  # an email queue's due time when it sets none


def channel_window(scenario: Scenario) -> Window:
    """Where the scenario's contacts are counted and what each queue is judged by."""
    plan = build_plan(scenario)
    sl = scenario.service_level.sl_threshold_s
    return Window(
        plan.count_from_s,
        plan.arrivals_end_s,
        plan.interval_s,
        {q.name: q.channel for q in scenario.queues},
        {
            q.name: (q.due_h or EMAIL_DUE_H) * 3600.0 if q.channel is Channel.EMAIL else sl
            for q in scenario.queues
        },
    )


def has_channels(scenario: Scenario) -> bool:
    """Whether the scenario has chat or email queues."""
    return any(q.channel is not Channel.VOICE for q in scenario.queues)


def simulate_channels(scenario: Scenario, *, replications: int, seed: int) -> ChannelResults:
    """``replications`` days (the same draws as ``simulate``'s days), per channel."""
    plan = build_plan(scenario)
    window = channel_window(scenario)
    days = []
    for k in range(replications):
        rep = Replication(plan, seed, k)
        records = rep.run()
        days.append(channel_day(window, records, rep.spans()))
    return combine(window, days)
