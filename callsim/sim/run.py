"""``simulate``: replications of a scenario, in parallel, combined with confidence intervals.

Replication r draws from streams seeded by (seed, r) only, so results are the same for
any number of workers. Each worker process builds the plan once and takes one
replication at a time (the load stays even to the last); it returns a small summary,
never the calls, so memory stays flat however many replications run.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from callsim import __version__, core_compiled
from callsim.analytics import kpi
from callsim.analytics.channels import ChannelResults, combine
from callsim.analytics.costs import day_costs
from callsim.analytics.kpi import IntervalRow
from callsim.analytics.metrics import (
    CLIENT_FIELDS,
    METRICS,
    OUTCOMES,
    WAIT_BINS,
    ReplicationStats,
    control_samples,
    mean_ci,
    metric_samples,
    or_none,
    wait_percentiles,
)
from callsim.analytics.precision import CAP, HEADLINE, Figure, Precision, estimate
from callsim.analytics.summary import (
    AgentRow,
    BusyAndBalking,
    Callbacks,
    CallerShares,
    ClientDay,
    ControlledFigure,
    Day,
    Estimate,
    Flow,
    FollowUps,
    Kpis,
    Outbound,
    QueueCallbacks,
    QueueSummary,
    ServiceLevelDefinitions,
    Summary,
    VarianceReduction,
    WaitPercentiles,
    document,
)
from callsim.core import queue_log_lines
from callsim.errors import InputError
from callsim.scenario import Scenario, scenario_hash
from callsim.sim.channels import channel_window
from callsim.sim.check import check_scenario, refuse_errors
from callsim.sim.engine import Replication
from callsim.sim.execute import Executor, Looked, executor, run_days
from callsim.sim.plan import CONTROL_STEP_S, SimPlan, build_plan, paid_seconds

DEFAULT_REPLICATIONS = 10
MAX_REPLICATIONS = 10_000


@dataclass(frozen=True, slots=True)
class SimulationResult:
    stats: Summary  # what the run found, typed
    interval_rows: list[IntervalRow]  # one per interval and queue (intervals.csv)
    agent_rows: list[AgentRow]  # agents.csv
    wait_bins: np.ndarray
    wait_hist: np.ndarray  # mean count per replication
    labels: list[str] = field(default_factory=list)  # each interval's start, for people
    # per channel, from the same days (a scenario with chats or emails; docs/channels.md)
    channels: ChannelResults | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` (and ``--json``) document of ``stats``."""
        return document(self.stats)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Trace:
    """What the core knew of one replication: its journal (the Asterisk ``queue_log``
    lines) and why each offer went where it went."""

    queue_log: list[str]
    decisions: list[dict[str, Any]]


def trace_replication(
    scenario: Scenario, seed: int, replication: int = 0, *, candidates: int = 10
) -> Trace:
    """Run one replication again with the core's journal and decision trace on (the same
    draws as in ``simulate``). Each decision lists its best ``candidates`` and how many
    there were."""
    plan = build_plan(scenario)
    rep = Replication(plan, seed, replication, journal=True, trace=True)
    rep.run()
    assert rep.acd.journal is not None
    assert rep.acd.decisions is not None
    epoch = plan.calendar_start.timestamp() if plan.calendar_start else 0.0
    decisions = [
        {
            "at_s": d.at_s,
            "call": d.call,
            "queue": d.queue,
            "strategy": d.strategy,
            "chosen": list(d.chosen),
            "rule": d.rule,
            "candidates": [[c.agent, list(c.score)] for c in d.candidates[:candidates]],
            "candidates_total": d.n_candidates,
            "excluded": [list(e) for e in d.excluded[:candidates]],
        }
        for d in rep.acd.decisions
    ]
    return Trace(list(queue_log_lines(rep.acd.journal, epoch)), decisions)


def simulate(
    scenario: Scenario,
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 1,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    run_on: Executor | None = None,
    precision: Precision | None = None,
    max_replications: int = CAP,
    on_look: Looked | None = None,
    control_variates: bool = False,
    antithetic: bool = False,
) -> SimulationResult:
    """Run ``replications`` independent days of ``scenario`` and combine them, on
    ``run_on`` (default: ``workers`` local processes, one per core). With ``precision``,
    ``replications`` is the first batch, and days are added in batches until the
    headline figures' CIs are within it, or ``max_replications``
    (``analytics.precision``); ``on_look`` is told each look. With ``control_variates``,
    the headline figures are estimated with the day's drawn calls and work as controls
    (``controls``; the stopping rule judges those estimates), and the summary says by how
    much that narrowed each one (``variance_reduction``); with ``antithetic``, the days
    run in pairs (``analytics.precision.estimate``), likewise."""
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise InputError(
            f"{replications} is not from 1 to {MAX_REPLICATIONS:,} (a confidence interval "
            "narrows as 1/sqrt(n): 400 replications already halve that of 100)",
            field="replications",
        )
    if workers is not None and workers < 1:
        raise InputError(f"{workers} is not >= 1", field="workers")
    if not 0 <= seed < 2**63:
        raise InputError(f"{seed} is not a whole number from 0 to 2**63-1", field="seed")
    plan = build_plan(scenario)
    refuse_errors(check_scenario(scenario, plan, warnings=False))
    started = time.perf_counter()
    blob = scenario.model_dump_json()
    calls_in = inbound(plan)

    def figures(runs: list[list[ReplicationStats]]) -> list[Figure]:
        c = controls(plan, runs[0]) if control_variates else None
        return headline(metric_samples(runs[0], (0, 1), calls_in), c)

    def done(k: int) -> None:
        # a finished day's core (its agents, queues and clock refer to each other) is
        # cyclic garbage: freed now rather than held through the next day's peak
        gc.collect()
        if progress is not None:
            progress(k)

    most = replications if precision is None else max_replications
    # what lives now (modules, scenario, plan) is not scanned by those collections (unless
    # the caller froze objects of its own: then they are its to thaw)
    freeze = not gc.get_freeze_count()
    if freeze:
        gc.freeze()
    try:
        with (
            executor(min(workers or os.cpu_count() or 1, most)) if run_on is None
            else nullcontext(run_on) as ex
        ):  # fmt: skip
            [reps], stopping = run_days(
                ex, [blob], seed, replications, precision, max_replications, figures,
                HEADLINE, done, on_look, antithetic,
            )  # fmt: skip
    finally:
        if freeze:
            gc.unfreeze()
    method = estimator(control_variates, antithetic)
    if method and precision is not None:
        stopping = {**stopping, "estimator": method}
    return _combine(
        scenario, plan, reps, seed, time.perf_counter() - started, stopping, control_variates,
        antithetic,
    )  # fmt: skip


def headline(samples: dict[str, np.ndarray], controls: np.ndarray | None = None) -> list[Figure]:
    """The headline figures (``analytics.precision.HEADLINE``) of a run's totals (with
    ``controls``: estimated with them)."""
    return [Figure(m, samples[m], m, controls=controls) for m in HEADLINE]


CONTROLS = ("arrived", "offered_work_s", "offered_work_spread")  # as the summary says them


def controls(plan: SimPlan, reps: list[ReplicationStats]) -> np.ndarray:
    """[replication, control]: the day's first calls, their drawn work and its spread over
    the quarter hours (``CONTROLS``) minus their exact means
    (``analytics.metrics.control_samples``), over every stream with arrivals (the
    dialer's has none)."""
    s = plan.streams
    return control_samples(
        np.stack([r.arrived for r in reps]),  # type: ignore[misc]  # simulate's days have them
        np.stack([r.offered_work_s for r in reps]),  # type: ignore[misc]
        plan.expected_calls(CONTROL_STEP_S),
        np.array([x.mean_handle_s for x in s]),
        np.array([x.handle_moment2_s2 for x in s]),
        np.array([x.day_to_day.cv if x.day_to_day else 0.0 for x in s]),
    )


def estimator(control_variates: bool, antithetic: bool) -> str | None:
    """What the headline figures are estimated with, as the results say it."""
    used = ["antithetic pairs"] * antithetic + ["control variates"] * control_variates
    return " + ".join(used) or None


def _controlled(
    totals: Kpis, samples: dict[str, np.ndarray], c: np.ndarray | None, pairs: bool
) -> tuple[Kpis, VarianceReduction]:
    """The headline figures of ``totals`` estimated with the controls ``c`` (None: none)
    and ``pairs`` (antithetic), and what that did to each."""
    done = {m: estimate(samples[m], c, pairs) for m in HEADLINE}
    figures = {
        m: ControlledFigure(or_none(e.variance_ratio), getattr(totals, m)) for m, e in done.items()
    }
    better = {m: Estimate(or_none(e.mean), or_none(e.ci95)) for m, e in done.items()}
    method = estimator(c is not None, pairs) or ""
    return replace(totals, **better), VarianceReduction(method, CONTROLS if c is not None else (),
                                                        figures)  # fmt: skip


def _combine(
    scenario: Scenario,
    plan: SimPlan,
    reps: list[ReplicationStats],
    seed: int,
    wall_s: float,
    stopping: Mapping[str, Any] | None = None,
    control_variates: bool = False,
    antithetic: bool = False,
) -> SimulationResult:
    calls_in = inbound(plan)
    samples = metric_samples(reps, (0, 1), calls_in)
    totals = Kpis.of(samples)
    reduction = None
    if control_variates or antithetic:
        c = controls(plan, reps) if control_variates else None
        totals, reduction = _controlled(totals, samples, c, antithetic)
    per_queue = metric_samples(reps, (0,))
    offered_cb = np.array([r.callbacks_offered for r in reps], dtype=float)
    # virtual hold: counted apart from the queue's offered calls; by queue [rep, q, 4]
    by_queue = (
        np.stack([_no_callbacks(r, len(plan.queues)) for r in reps]) if offered_cb.sum() else None
    )
    queues: dict[str, QueueSummary] = {}
    for j, q in enumerate(plan.queues):
        outcome_counts = np.stack([r.outcomes[:, j, :].sum(axis=0) for r in reps]).mean(axis=0)
        outcomes = dict(zip(OUTCOMES, outcome_counts.tolist(), strict=True))
        del outcomes["callback_failed"]  # the callers who took a callback: in "callbacks"
        queues[q] = QueueSummary(
            Kpis.of({m: per_queue[m][:, j] for m in METRICS}),
            outcomes,
            WaitPercentiles.of(wait_percentiles(reps, j)),
            _callbacks(by_queue[:, j], per_queue["offered"][:, j])
            if by_queue is not None and by_queue[:, j, 0].any()
            else None,
        )
    calls = sum(r.calls_simulated for r in reps)
    client_means = np.stack([r.client_counts for r in reps]).mean(axis=0)
    clients = {pc.client.name: _client(client_means[i]) for i, pc in enumerate(plan.clients)}
    busy = np.array([r.outcomes[..., OUTCOMES.index("busy")].sum() for r in reps])
    balked = np.array([r.balked for r in reps], dtype=float)
    busy_and_balking = None
    if busy.sum() or balked.sum():  # finite lines or queue positions, or balking
        busy_and_balking = BusyAndBalking(
            busy=float(busy.mean()),
            busy_share=Estimate.of(kpi.share(busy, samples["offered"])),
            retrials_after_busy=sum(r.retrials_busy for r in reps),
            balked=float(balked.mean()),
        )
    callbacks = None
    if by_queue is not None:
        callbacks = Callbacks(
            offered=float(offered_cb.mean()),  # calls a day
            each=_callbacks(by_queue.sum(axis=1), samples["offered"]),
            accept_rate=Estimate.of(kpi.share(by_queue[..., 0].sum(axis=1), offered_cb)),
        )
    outbound = None
    if plan.outbound is not None:
        dialled = np.array([r.dialled for r in reps], dtype=float)
        reached = np.array([r.right_party for r in reps], dtype=float)
        outbound = Outbound(
            queue=plan.streams[plan.outbound[0]].queue,
            dialled=float(dialled.mean()),  # numbers a day
            right_party=float(reached.mean()),
            right_party_rate=Estimate.of(kpi.share(reached, dialled)),
        )
    served = np.array([r.served_first for r in reps], dtype=float)
    follow_ups = None
    if served.sum() > 0:  # recalls and forwards of served calls
        again = np.array([r.recalls + r.recalls_lost for r in reps], dtype=float)
        follow_ups = FollowUps(
            recalls=float(np.mean([r.recalls for r in reps])),
            recalls_after_closing=float(np.mean([r.recalls_lost for r in reps])),
            transferred=float(np.mean([r.forwarded for r in reps])),
            recall_free_share=Estimate.of(kpi.recall_free_share(served, again)),
        )
    costs = None
    if scenario.costs is not None:
        costs = scenario_costs(scenario, plan, reps)
        del costs["per_day"]["samples"]
    summary = Summary(
        scenario=scenario.name,
        scenario_hash=scenario_hash(scenario),
        callsim_version=__version__,
        core_compiled=core_compiled(),
        seed=seed,
        replications=len(reps),
        calls_simulated=calls,
        retrials=sum(r.retrials for r in reps),
        retrials_lost_to_closing=sum(r.retrials_lost for r in reps),
        wall_time_s=round(wall_s, 3),
        calls_per_s=round(calls / wall_s) if wall_s > 0 else None,
        horizon=scenario.horizon.model_dump(),
        sl_threshold_s=scenario.service_level.sl_threshold_s,
        sl_target=scenario.service_level.sl_target,
        totals=totals,
        service_level_definitions=ServiceLevelDefinitions(
            of_offered_without_short_abandons=totals.service_level,
            of_answered=Estimate.of(samples["service_level_of_answered"]),
            of_all_offered=Estimate.of(samples["service_level_all_offered"]),
        ),
        wait_percentiles_s=WaitPercentiles.of(wait_percentiles(reps, calls_in)),
        queues=queues,
        overflow=_pairs(plan, reps, "overflowed", "overflowed_answered"),
        moved=_pairs(plan, reps, "moved", None),
        clients=clients or None,  # mean per simulated day
        busy_and_balking=busy_and_balking,
        callbacks=callbacks,
        days=_per_day(plan, reps) if plan.days > 1 else None,
        outbound=outbound,
        follow_ups=follow_ups,
        costs=costs,
        stopping_rule=stopping,
        variance_reduction=reduction,
    )
    starts = plan.interval_labels()
    several_days = starts[-1][0] > 1 if starts else False
    labels = [f"d{d} {hhmm}" if several_days else hhmm for d, hhmm in starts]
    hist = np.stack([r.wait_hist.sum(axis=0) for r in reps]).mean(axis=0)
    window = channel_window(scenario, plan)
    channels = None
    if window is not None:
        channels = combine(window, [r.channels for r in reps if r.channels is not None])
    return SimulationResult(
        summary,
        _interval_rows(plan, reps),
        _agent_rows(plan, reps),
        WAIT_BINS,
        hist,
        labels,
        channels,
    )


def _interval_rows(plan: SimPlan, reps: list[ReplicationStats]) -> list[IntervalRow]:
    """One row per interval and queue: each metric's mean over the replications, with the
    CI half-width of the ratios planners judge by."""
    per_cell = metric_samples(reps, None)
    means = {m: mean_ci(per_cell[m]) for m in METRICS}
    staffed = np.stack([r.staffed_s for r in reps]).mean(axis=0) / plan.interval_s
    rows = []
    for i, (day, hhmm) in enumerate(plan.interval_labels()):
        for j, q in enumerate(plan.queues):

            def mean(m: str, i: int = i, j: int = j) -> float | None:
                return or_none(means[m][0][i, j])

            def half(m: str, i: int = i, j: int = j) -> float | None:
                return or_none(means[m][1][i, j])

            rows.append(
                IntervalRow(
                    day=day,
                    interval_start=hhmm,
                    queue=q,
                    offered=mean("offered"),
                    answered=mean("answered"),
                    abandoned=mean("abandoned"),
                    service_level=mean("service_level"),
                    service_level_ci95=half("service_level"),
                    abandon_rate=mean("abandon_rate"),
                    abandon_rate_ci95=half("abandon_rate"),
                    asa_s=mean("asa_s"),
                    asa_s_ci95=half("asa_s"),
                    aht_s=mean("aht_s"),
                    occupancy=mean("occupancy"),
                    occupancy_ci95=half("occupancy"),
                    p_wait=mean("p_wait"),
                    agents_staffed=or_none(staffed[i, j]),
                )
            )
    return rows


def _agent_rows(plan: SimPlan, reps: list[ReplicationStats]) -> list[AgentRow]:
    """One row per agent: means a day."""
    names = ("agent_calls", "agent_talk_s", "agent_wrap_s", "agent_busy_s", "agent_staffed_s")
    stack = {name: np.stack([getattr(r, name) for r in reps]).mean(axis=0) for name in names}
    return [
        AgentRow(
            agent=shift.agent,
            group=shift.group,
            calls=or_none(stack["agent_calls"][i]),
            talk_s=or_none(stack["agent_talk_s"][i]),
            wrap_up_s=or_none(stack["agent_wrap_s"][i]),
            staffed_h=or_none(stack["agent_staffed_s"][i] / 3600),
            occupancy=kpi.shown(
                kpi.occupancy(stack["agent_busy_s"][i], stack["agent_staffed_s"][i])
            ),
        )
        for i, shift in enumerate(plan.timetables)
    ]


def inbound(plan: SimPlan) -> np.ndarray | None:
    """The inbound queues (a mask over ``plan.queues``) when the dialer makes outbound
    calls, whose results are their queue's alone; None: every queue is inbound."""
    if plan.outbound is None:
        return None
    campaign = plan.streams[plan.outbound[0]].queue
    return np.array([q != campaign for q in plan.queues])


def _no_callbacks(r: ReplicationStats, n_q: int) -> np.ndarray:
    """A replication's callbacks by queue (zeros when nobody asked for one)."""
    return r.callbacks if r.callbacks is not None else np.zeros((n_q, 4))


def _callbacks(counts: np.ndarray, offered: np.ndarray) -> QueueCallbacks:
    """Callbacks of each replication ([rep, 4]: accepted, connected, failed, delay): calls
    a day, the connect rate and mean delay, and the whole story beside the service level,
    which counts no callback: shares of the callers (the offered calls + the callers who
    accepted a callback)."""
    accepted, connected, failed, delay = counts.T
    taken = connected + failed  # an agent took it and dialled
    callers = offered + accepted
    return QueueCallbacks(
        accepted=float(accepted.mean()),
        connected=float(connected.mean()),
        failed=float(failed.mean()),  # dialled, nobody answered
        connect_rate=Estimate.of(kpi.share(connected, accepted)),
        mean_delay_s=Estimate.of(kpi.ratio(delay, taken)),
        of_callers=CallerShares(
            *(Estimate.of(kpi.share(n, callers)) for n in (accepted, connected, failed))
        ),
    )


def _per_day(plan: SimPlan, reps: list[ReplicationStats]) -> list[Day]:
    """Each day of a connected run: its calls (means a day) and its service level and
    abandonment with CIs over the replications where the day had calls (a day of none, as
    a day-to-day multiplier can give, has no ratios); ``from_day_before``: retrials
    carried over from the day before.
    A day's intervals are those its ``day`` labels in the intervals table."""
    day_of = np.array([day for day, _ in plan.interval_labels()])
    out = []
    for d in range(plan.days):
        cut = day_of == d + 1

        def total(name: str, cut: np.ndarray = cut) -> np.ndarray:
            return np.array([getattr(r, name)[cut].sum() for r in reps], dtype=float)

        offered, answered, abandoned = total("offered"), total("answered"), total("abandoned")
        carried = np.array([r.next_day[d] if r.next_day else 0 for r in reps], dtype=float)
        out.append(
            Day(  # a day without calls has no ratios (NaN, left out of the CI)
                day=d + 1,
                offered=float(offered.mean()),
                answered=float(answered.mean()),
                abandoned=float(abandoned.mean()),
                service_level=Estimate.of(kpi.service_level(total("within"), offered)),
                abandon_rate=Estimate.of(kpi.abandon_rate(abandoned, offered)),
                from_day_before=float(carried.mean()),
            )
        )
    return out


def scenario_costs(
    scenario: Scenario, plan: SimPlan, reps: list[ReplicationStats]
) -> dict[str, Any]:
    """The scenario's costs and revenue over the replications (it has a costs block)."""
    assert scenario.costs is not None
    return day_costs(scenario.costs, reps, plan.queues, paid_seconds(plan, wages(scenario)))


def wages(scenario: Scenario) -> dict[str, float]:
    """Each agent group's wage per hour (the scenario's ``costs``)."""
    c = scenario.costs
    if c is None:
        return {}
    return {g.name: c.wage_per_hour_by_group.get(g.name, c.wage_per_hour) for g in scenario.agents}


def _client(means: np.ndarray) -> ClientDay:
    """A client's mean counts per day, with its service level, ASA and abandon rate."""
    counts = dict(zip(CLIENT_FIELDS, means.tolist(), strict=True))
    within, wait = counts.pop("within_sl"), counts.pop("wait_answered_s")
    gave_up = counts.pop("abandoned_offered")  # the queue's definition: short ones are not
    offered, answered = counts["offered"], counts["answered"]
    return ClientDay(
        counts,
        service_level=kpi.shown(kpi.service_level(within, offered)),
        asa_s=kpi.shown(kpi.asa_s(wait, answered)),
        abandon_rate=kpi.shown(kpi.abandon_rate(gave_up, offered)),
    )


def _pairs(
    plan: SimPlan, reps: list[ReplicationStats], name: str, answered: str | None
) -> list[Flow]:
    """Mean calls per day from one queue to another (only pairs with any)."""
    calls = np.stack([getattr(r, name) for r in reps]).mean(axis=0)
    done = np.stack([getattr(r, answered) for r in reps]).mean(axis=0) if answered else None
    return [
        Flow(
            plan.queues[i],
            plan.queues[j],
            float(calls[i, j]),
            None if done is None else float(done[i, j]),
        )
        for i, j in zip(*np.nonzero(calls), strict=True)
    ]
