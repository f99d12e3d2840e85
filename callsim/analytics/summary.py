"""The simulator's summary as typed results: a tree of frozen dataclasses that code reads
by attribute, and ``document``, the one function that turns it into the ``summary.json``
document (and ``callsim run --json``) at the boundary.

A dataclass becomes a JSON object of its fields in order, with these field metadata:
``OPTIONAL`` (a section left out when None: the run had none of it), ``FLAT`` (the
fields of a nested dataclass, or the items of a mapping, inlined into the parent) and
``key(name)`` (the JSON key when it is no Python name, as ``from``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

from callsim.analytics.metrics import ci_of

OPTIONAL = {"optional": True}
FLAT = {"flat": True}


def key(name: str) -> dict[str, str]:
    """Field metadata: the field's JSON key."""
    return {"key": name}


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure's mean over the replications and its 95 % CI half-width (None:
    undefined, or one replication)."""

    mean: float | None
    ci95: float | None

    @classmethod
    def of(cls, samples: Any) -> Estimate:
        """Of one figure's per-replication values (NaN ignored)."""
        c = ci_of(np.asarray(samples, dtype=float))
        return cls(c["mean"], c["ci95"])


@dataclass(frozen=True, slots=True)
class ControlledFigure:
    """A headline figure under control variates: how much they narrowed it
    (``variance_ratio``: the plain mean's estimated variance over the controlled one's;
    2.0 is a CI 1/sqrt(2) as wide, worth twice the days) and its ``plain`` estimate."""

    variance_ratio: float | None
    plain: Estimate


@dataclass(frozen=True, slots=True)
class VarianceReduction:
    """How the headline figures were estimated: ``method``, the ``controls`` (each a
    quantity whose mean the scenario gives exactly) and each figure's reduction."""

    method: str
    controls: Sequence[str]
    figures: Mapping[str, ControlledFigure]


@dataclass(frozen=True, slots=True)
class WaitPercentile:
    """A percentile of answered calls' waits: ``mean`` and ``ci95`` of each
    replication's, and ``pooled``, that of all replications' waits together."""

    mean: float | None
    ci95: float | None
    pooled: float | None


@dataclass(frozen=True, slots=True)
class WaitPercentiles:
    p50: WaitPercentile
    p80: WaitPercentile
    p90: WaitPercentile
    p95: WaitPercentile

    @classmethod
    def of(cls, doc: Mapping[str, Mapping[str, float | None]]) -> WaitPercentiles:
        """From ``analytics.metrics.wait_percentiles``."""
        return cls(*(WaitPercentile(**doc[f.name]) for f in fields(cls)))


@dataclass(frozen=True, slots=True)
class Kpis:
    """The run's metrics (``analytics.metrics.METRICS``), in their order."""

    offered: Estimate
    answered: Estimate
    abandoned: Estimate
    service_level: Estimate
    abandon_rate: Estimate
    asa_s: Estimate
    aht_s: Estimate
    occupancy: Estimate
    p_wait: Estimate

    @classmethod
    def of(cls, samples: Mapping[str, Any]) -> Kpis:
        """From per-replication values of every metric (``metric_samples``, one axis)."""
        return cls(*(Estimate.of(samples[f.name]) for f in fields(cls)))


@dataclass(frozen=True, slots=True)
class ServiceLevelDefinitions:
    """The three service-level definitions planners meet, side by side."""

    of_offered_without_short_abandons: Estimate  # the run's service_level
    of_answered: Estimate
    of_all_offered: Estimate  # short abandons counted as offered


@dataclass(frozen=True, slots=True)
class CallerShares:
    accepted: Estimate
    connected: Estimate
    failed: Estimate


@dataclass(frozen=True, slots=True)
class QueueCallbacks:
    """Callbacks (virtual hold), means a day: counted apart from the offered calls."""

    accepted: float
    connected: float
    failed: float  # dialled, nobody answered
    connect_rate: Estimate
    mean_delay_s: Estimate
    of_callers: CallerShares  # of the offered calls + the callers who accepted a callback


@dataclass(frozen=True, slots=True)
class Callbacks:
    offered: float  # callers offered a callback, a day
    each: QueueCallbacks = field(metadata=FLAT)
    accept_rate: Estimate


@dataclass(frozen=True, slots=True)
class QueueSummary:
    kpis: Kpis = field(metadata=FLAT)
    outcomes: Mapping[str, float]  # mean calls a day by outcome
    wait_percentiles_s: WaitPercentiles
    callbacks: QueueCallbacks | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True, slots=True)
class Flow:
    """Mean calls a day from one queue to another."""

    from_queue: str = field(metadata=key("from"))
    to: str
    calls: float
    answered: float | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True, slots=True)
class ClientDay:
    """A client's mean counts a day (``analytics.metrics.CLIENT_FIELDS`` without the
    sums and the abandons of offered calls), with its service level, ASA and abandon rate
    (of offered calls, as a queue's)."""

    counts: Mapping[str, float] = field(metadata=FLAT)
    service_level: float | None
    asa_s: float | None
    abandon_rate: float | None


@dataclass(frozen=True, slots=True)
class BusyAndBalking:
    busy: float  # mean calls a day that heard busy
    busy_share: Estimate
    retrials_after_busy: int
    balked: float  # hung up on hearing the expected wait, a day


@dataclass(frozen=True, slots=True)
class Day:
    """One day of a connected run: means a day, ratios over the replications where the
    day had calls."""

    day: int
    offered: float
    answered: float
    abandoned: float
    service_level: Estimate
    abandon_rate: Estimate
    from_day_before: float  # retrials carried over from the day before


@dataclass(frozen=True, slots=True)
class Outbound:
    queue: str
    dialled: float  # numbers a day
    right_party: float
    right_party_rate: Estimate


@dataclass(frozen=True, slots=True)
class FollowUps:
    """Recalls and transfers of served calls, means a day."""

    recalls: float
    recalls_after_closing: float
    transferred: float  # served callers sent on to another queue
    recall_free_share: Estimate  # analytics.kpi.recall_free_share


@dataclass(frozen=True, slots=True)
class Summary:
    """What ``simulate`` found, with what it ran (the ``summary.json`` document)."""

    scenario: str
    scenario_hash: str
    callsim_version: str
    core_compiled: bool
    seed: int
    replications: int
    calls_simulated: int
    retrials: int
    retrials_lost_to_closing: int
    wall_time_s: float
    calls_per_s: int | None
    horizon: Mapping[str, Any]  # the scenario's, as written
    sl_threshold_s: float
    sl_target: float
    totals: Kpis
    service_level_definitions: ServiceLevelDefinitions
    wait_percentiles_s: WaitPercentiles
    queues: Mapping[str, QueueSummary]
    overflow: Sequence[Flow]
    moved: Sequence[Flow]
    clients: Mapping[str, ClientDay] | None = field(default=None, metadata=OPTIONAL)
    busy_and_balking: BusyAndBalking | None = field(default=None, metadata=OPTIONAL)
    callbacks: Callbacks | None = field(default=None, metadata=OPTIONAL)
    days: Sequence[Day] | None = field(default=None, metadata=OPTIONAL)
    outbound: Outbound | None = field(default=None, metadata=OPTIONAL)
    follow_ups: FollowUps | None = field(default=None, metadata=OPTIONAL)
    costs: Mapping[str, Any] | None = field(default=None, metadata=OPTIONAL)  # day_costs
    stopping_rule: Mapping[str, Any] | None = field(default=None, metadata=OPTIONAL)
    variance_reduction: VarianceReduction | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One agent's ``agents.csv`` row: means a simulated day."""

    agent: str
    group: str
    calls: float | None
    talk_s: float | None
    wrap_up_s: float | None
    staffed_h: float | None
    occupancy: float | None  # analytics.kpi.occupancy: busy / staffed time

    def values(self) -> tuple[Any, ...]:
        """The row's values, in ``AGENT_COLUMNS`` order (a CSV line)."""
        return astuple(self)


AGENT_COLUMNS = tuple(f.name for f in fields(AgentRow))


def document(value: Any) -> Any:
    """A summary (or any part of it) as JSON data: dataclasses as objects (see the module
    docstring), mappings as objects, sequences as lists, the rest as it is."""
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in fields(value):
            v = getattr(value, f.name)
            if v is None and f.metadata.get("optional"):
                continue
            if f.metadata.get("flat"):
                out.update(document(v))
            else:
                out[f.metadata.get("key", f.name)] = document(v)
        return out
    if isinstance(value, Mapping):
        return {k: document(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [document(v) for v in value]
    return value
