"""Results per channel: replications of a scenario with chats or emails, summed up by
``analytics.channels`` (service level and abandonment of calls and chats, the share of
emails answered when due, the email backlog over the day, occupancy)."""

from __future__ import annotations

from callsim.analytics.channels import (
    ChannelResults,
    Window,
    channel_day,
    combine,
    has_channels,
    judged_by,
)
from callsim.scenario import Scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

__all__ = ["channel_window", "has_channels", "simulate_channels"]  # has_channels: for cli


def channel_window(scenario: Scenario) -> Window:
    """Where the scenario's contacts are counted and what each queue is judged by."""
    plan = build_plan(scenario)
    return Window(plan.count_from_s, plan.arrivals_end_s, plan.interval_s, *judged_by(scenario))


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
