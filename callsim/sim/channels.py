"""Where a scenario's contacts are counted per channel: each replication of a scenario
with chats or emails sums its day up per channel (``analytics.channels.channel_day``,
in ``execute.run_replication``), and ``simulate`` combines the days
(``SimulationResult.channels``)."""

from __future__ import annotations

from callsim.analytics.channels import Window, has_channels, judged_by
from callsim.scenario import Scenario
from callsim.sim.plan import SimPlan

__all__ = ["channel_window", "has_channels"]  # has_channels: for cli


def channel_window(scenario: Scenario, plan: SimPlan) -> Window | None:
    """Where the scenario's contacts are counted and what each queue is judged by; None
    for a voice-only scenario (no per-channel results)."""
    if not has_channels(scenario):
        return None
    return Window(plan.count_from_s, plan.arrivals_end_s, plan.interval_s, *judged_by(scenario))
