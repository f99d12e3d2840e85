"""What a simulated day costs and earns (the scenario's ``costs`` block): wages for the
agents' working time, a cost per abandoned call and per second waited, revenue per
answered call; per interval and per day, each with its CI over the replications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from callsim.analytics.metrics import ReplicationStats, ci_of
from callsim.scenario.model import Costs

COST_FIELDS = ("wages", "abandon_cost", "waiting_cost", "revenue", "total_cost", "margin")


def day_costs(
    costs: Costs,
    reps: Sequence[ReplicationStats],
    queues: Sequence[str],
    paid_s: np.ndarray,  # [interval]: wage-weighted paid seconds (seconds x wage per hour)
) -> dict[str, Any]:
    """Per replication and interval, then summarized: ``per_day`` (mean, ci95 of each
    field and of the cost per answered call and per handled minute) and ``per_interval``
    (means)."""
    revenue = np.array([costs.revenue_per_answered_by_queue.get(q, costs.revenue_per_answered)
                        for q in queues])  # fmt: skip
    wages = paid_s / 3600.0  # the same every replication: shifts are plans
    fields: dict[str, list[np.ndarray]] = {f: [] for f in COST_FIELDS}
    answered_day, handled_min = [], []
    for r in reps:
        waited = (r.wait_answered_s + r.wait_abandoned_s).sum(axis=1)
        row = {
            "wages": wages,
            "abandon_cost": r.abandoned.sum(axis=1) * costs.per_abandoned_call,
            "waiting_cost": waited * costs.per_waiting_second,
            "revenue": r.answered @ revenue,
        }
        row["total_cost"] = row["wages"] + row["abandon_cost"] + row["waiting_cost"]
        row["margin"] = row["revenue"] - row["total_cost"]
        for f in COST_FIELDS:
            fields[f].append(row[f])
        answered_day.append(r.answered.sum())
        handled_min.append(r.handle_s.sum() / 60)
    per_day: dict[str, Any] = {
        f: ci_of(np.array([x.sum() for x in fields[f]])) for f in COST_FIELDS
    }
    per_day["samples"] = {f: [float(x.sum()) for x in fields[f]] for f in ("total_cost", "margin")}
    total = np.array([x.sum() for x in fields["total_cost"]])
    per_day["cost_per_answered_call"] = ci_of(total / np.maximum(answered_day, 1))
    per_day["wages_per_handled_minute"] = ci_of(
        np.array([x.sum() for x in fields["wages"]]) / np.maximum(handled_min, 1e-9)
    )
    per_interval = {f: np.mean(np.stack(fields[f]), axis=0).tolist() for f in COST_FIELDS}
    return {"currency": costs.currency, "per_day": per_day, "per_interval": per_interval}
