"""Where replications run: in this process, in local worker processes (the default: one
per core), or on a Dask distributed cluster (``--dask ADDRESS``, or ``--dask local`` for a
cluster of local processes on loopback).

A job is a scenario (as its JSON), a seed and a run of replication numbers (``first`` on,
so that a sequential run adds days 10-39 to days 0-9). Replication r of
a seed draws from streams seeded by (seed, r) only, so the results are the same whichever
executor ran them and however the replications were split into tasks. Each worker process
builds a scenario's plan once and keeps the last few (a sweep or a staffing search sends
many scenarios); it returns small summaries, never the calls.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from callsim.analytics.cells import CellCounts, reduce_cells
from callsim.analytics.channels import Window, channel_day
from callsim.analytics.metrics import (
    CallColumns,
    DaySums,
    ReplicationStats,
    record_columns,
)
from callsim.analytics.precision import Figure, Look, Precision, StoppingRule, look
from callsim.core import Channel, RecordColumns
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.sim.channels import channel_window
from callsim.sim.engine import Replication
from callsim.sim.plan import SimPlan, build_plan

PLANS_KEPT = 8  # plans a worker keeps (a staffing search's current and next scenarios)


def _day_end_read(plan: SimPlan) -> bool:
    """Whether a day's sums read what is known only at its end: the inbound flow's facts
    (client calls) or whether a caller was offered a callback. Then a day's parts are
    kept and summed after it; otherwise each is summed as it is written and dropped."""
    return bool(plan.clients) or any(s.callback for s in plan.streams)


def run_cells(plan: SimPlan, seed: int, replication: int, antithetic: bool = False) -> CellCounts:
    """One replication's counts per (interval, queue) cell only (``analytics.cells``):
    what the staffing search's verdicts read."""
    frame = plan.frame()
    if not _day_end_read(plan):
        # counted as the records are written, an interval's at a time (whole numbers:
        # the same counts): a day's records are never all held, and the core writes them
        # as columns (no record per call)
        rep = Replication(plan, seed, replication, antithetic=antithetic, columns=True)
        parts: list[CellCounts] = []

        def take(got: RecordColumns) -> None:
            parts.append(reduce_cells(frame, record_columns(got, frame, False)))

        take(rep.run_columns(take))
        return CellCounts(*(sum(getattr(p, f) for p in parts) for f in CellCounts.__slots__))
    rep = Replication(plan, seed, replication, antithetic=antithetic)
    records = rep.run()  # the counts read the day's end: its facts, who was offered a callback
    facts = rep.facts() if plan.clients else None
    callbacks = bool(rep.callbacks_offered)
    del rep  # the day's per-call columns and event queue go before the reduction
    return reduce_cells(frame, records, facts, callbacks=callbacks)


def run_replication(
    plan: SimPlan,
    seed: int,
    replication: int,
    window: Window | None = None,
    antithetic: bool = False,
) -> ReplicationStats:
    """One replication summed up; with ``window`` (a scenario with chats or emails:
    ``channels.channel_window``) per channel too; ``antithetic``: in pairs
    (``sample.Streams``)."""
    # the core writes the records as columns (no record per call): all the sums read
    rep = Replication(plan, seed, replication, antithetic=antithetic, columns=True)
    frame = plan.frame()
    asked = any(s.callback for s in plan.streams)  # a caller may ask for a callback
    held = None
    if window is not None:
        held = np.array([window.channel[q] is Channel.CHAT for q in frame.queues])
    # the day summed up as its records are written, an interval's at a time, each part's
    # columns dropped once added: neither the day's records nor their columns are ever all
    # held. Unless the sums read the day's end (_day_end_read) or the channels' figures
    # read the whole day's columns: then the parts are kept and added after the day.
    day = None if _day_end_read(plan) or window is not None else DaySums(frame)
    parts: list[CallColumns] = []

    def take(records: RecordColumns) -> None:
        columns = record_columns(records, frame, asked)
        if day is not None:
            day.add(columns)
        else:
            parts.append(columns)

    take(rep.run_columns(take))
    spans = rep.spans()
    # the inbound flow's facts only where there are client calls: without, every call's
    # facts are the defaults DaySums assumes for None (a loop over every call)
    facts = rep.facts() if plan.clients else None
    counts = (rep.retrials, rep.retrials_lost, bool(rep.callbacks_offered))
    extra: dict[str, Any] = {
        "arrived": rep.calls.arrived,
        "offered_work_s": rep.calls.offered_work_s,
    }
    if rep.served_first:  # a scenario with recalls or forwards
        extra.update(served_first=rep.served_first, recalls=rep.recalls,
                     recalls_lost=rep.recalls_lost, forwarded=rep.forwarded)  # fmt: skip
    if rep.dialled:
        extra.update(dialled=rep.dialled, right_party=rep.right_party)
    if any(rep.next_day):
        extra.update(next_day=tuple(rep.next_day))
    if rep.balked or rep.retrials_busy or rep.callbacks_offered:
        extra.update(balked=rep.balked, retrials_busy=rep.retrials_busy,
                     callbacks_offered=rep.callbacks_offered)  # fmt: skip
    # the day's per-call columns (arrival, talk, patience, ...), event queue and core
    # go before the parts kept are summed: only the records' columns and spans are read
    del rep
    retrials, retrials_lost, callbacks = counts
    if day is None:
        day = DaySums(frame, facts, callbacks, held)
        for part in parts:
            day.add(part)
    if window is not None:
        extra.update(channels=channel_day(window, CallColumns.joined(parts), spans, frame.queues))
    parts.clear()
    stats = day.stats(spans, retrials, retrials_lost)
    return replace(stats, **extra)


# this process's plans and channel windows, by scenario JSON
_plans: OrderedDict[str, tuple[SimPlan, Window | None]] = OrderedDict()


def _plan(blob: str) -> tuple[SimPlan, Window | None]:
    got = _plans.get(blob)
    if got is None:
        scenario = Scenario.model_validate_json(blob)
        plan = build_plan(scenario)
        got = _plans[blob] = plan, channel_window(scenario, plan)
        if len(_plans) > PLANS_KEPT:
            _plans.popitem(last=False)
    else:
        _plans.move_to_end(blob)
    return got


def run_chunk(
    blob: str, seed: int, replications: Sequence[int], cells: bool = False,
    antithetic: bool = False,
) -> list[tuple[int, Any]]:  # fmt: skip
    """Replications of one scenario (a task of any executor): each one's
    ``ReplicationStats``, or with ``cells`` its ``CellCounts`` only; ``antithetic``: in
    pairs (``sample.Streams``)."""
    plan, window = _plan(blob)
    if cells:
        return [(r, run_cells(plan, seed, r, antithetic)) for r in replications]
    return [(r, run_replication(plan, seed, r, window, antithetic)) for r in replications]


@dataclass(frozen=True, slots=True)
class Job:
    scenario: str  # the scenario's JSON
    seed: int
    replications: int  # how many: replications first .. first + replications - 1
    first: int = 0
    antithetic: bool = False  # replications 2k and 2k + 1 a pair (``sample.Streams``)

    @property
    def numbers(self) -> range:
        return range(self.first, self.first + self.replications)


Done = Callable[[int], None]  # told how many replications just finished


class Executor:
    """Runs jobs; ``run`` returns each job's replications in order (first, first + 1, ...)."""

    name = "this process"
    slots = 1  # replications that run at once

    def run(
        self, jobs: Sequence[Job], progress: Done | None = None
    ) -> list[list[ReplicationStats]]:
        return self._gather(jobs, progress, cells=False)

    def run_cells(
        self, jobs: Sequence[Job], progress: Done | None = None
    ) -> list[list[CellCounts]]:
        """As ``run``, each replication's counts per cell only (``run_cells``)."""
        return self._gather(jobs, progress, cells=True)

    def _gather(self, jobs: Sequence[Job], progress: Done | None, cells: bool) -> list[list[Any]]:
        found: list[dict[int, Any]] = [{} for _ in jobs]
        for j, pairs in self._results(jobs, cells):
            found[j].update(pairs)
            if progress:
                progress(len(pairs))
        return [[got[r] for r in job.numbers] for got, job in zip(found, jobs, strict=True)]

    def _results(
        self, jobs: Sequence[Job], cells: bool = False
    ) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        for j, job in enumerate(jobs):
            for r in job.numbers:
                yield j, run_chunk(job.scenario, job.seed, (r,), cells, job.antithetic)

    def close(self) -> None:
        pass


def _chunks(numbers: range, size: int) -> list[range]:
    return [numbers[a : a + size] for a in range(0, len(numbers), size)]


class LocalProcesses(Executor):
    """Worker processes on this machine; one replication a task, so the load stays even
    to the last."""

    def __init__(self, workers: int) -> None:
        self.slots = workers
        self.name = f"{workers} local processes"
        # imported here: a run on one worker starts no process, and multiprocessing's
        # modules are about 1 MB of a whole run's peak memory
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(workers)

    def _results(
        self, jobs: Sequence[Job], cells: bool = False
    ) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        futures: dict[Future[Any], int] = {}
        for j, job in enumerate(jobs):
            for r in job.numbers:
                futures[
                    self._pool.submit(
                        run_chunk, job.scenario, job.seed, (r,), cells, job.antithetic
                    )
                ] = j
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class DaskCluster(Executor):
    """A Dask distributed cluster: replications in chunks (a few tasks per worker thread
    and job), streamed back as they finish. ``address`` ``local`` starts a cluster of
    local processes on loopback, one per core (``workers``), and stops it after."""

    def __init__(self, address: str, workers: int) -> None:
        try:
            import distributed
        except ImportError as exc:  # pragma: no cover - a dependency of callsim
            raise InputError(f"--dask needs the 'distributed' package ({exc})") from None
        dist: Any = distributed  # untyped
        self._cluster: Any = None
        self._client: Any = None
        try:
            if address == "local":
                self._cluster = dist.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",  # a free port: never one taken by another run
                )
                self._client = dist.Client(self._cluster)
            else:
                self._client = dist.Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise InputError(f"--dask: cannot reach a scheduler at {address!r} ({exc})") from None
        threads = sum(self._client.nthreads().values())
        self.slots = max(1, threads)
        self.name = f"Dask at {self._client.scheduler.address} ({threads} threads)"

    def _results(
        self, jobs: Sequence[Job], cells: bool = False
    ) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        import distributed

        dask_completed: Any = distributed.as_completed

        futures = {}
        blobs = []  # the scattered scenarios, held until their tasks are done
        for j, job in enumerate(jobs):
            blob = self._client.scatter(job.scenario, broadcast=True, hash=False)
            blobs.append(blob)
            size = max(1, math.ceil(job.replications / (4 * self.slots)))
            for chunk in _chunks(job.numbers, size):
                f = self._client.submit(run_chunk, blob, job.seed, tuple(chunk), cells,
                                        job.antithetic, pure=False)  # fmt: skip
                futures[f] = j
        for future in dask_completed(list(futures)):
            yield futures[future], future.result()
        del blobs

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


Judge = Callable[[list[list[ReplicationStats]]], list[Figure]]  # each job's days: figures
Looked = Callable[[Look, int | None], None]  # told each look and the next total (None: done)


def run_days(
    run_on: Executor,
    scenarios: Sequence[str],
    seed: int,
    replications: int,
    precision: Precision | None,
    max_replications: int,
    figures: Judge,
    names: Sequence[str],
    progress: Done | None = None,
    on_look: Looked | None = None,
    antithetic: bool = False,
) -> tuple[list[list[ReplicationStats]], dict[str, Any]]:
    """Replications 0, 1, ... of every scenario (JSON): ``replications`` of them, or with
    ``precision`` (``replications`` the first batch) as many as its stopping rule needs
    for the ``figures`` (``run_until``); with the record of the stopping rule, whose
    covered figures are those of ``names`` the bound holds. ``antithetic``: the days in
    pairs (``replications`` rounded up to even), the pair the unit of the CIs."""
    if precision is None:
        n = replications + replications % 2 if antithetic else replications
        reps = run_on.run([Job(s, seed, n, 0, antithetic) for s in scenarios], progress)
        return reps, {"precision": None, "replications": len(reps[0])}
    rule = StoppingRule(precision, replications, max_replications, antithetic)
    reps, looks = run_until(run_on, scenarios, seed, rule, figures, progress, on_look)
    return reps, rule.record(looks, [m for m in names if precision.covers(m)])


def run_until(
    run_on: Executor,
    scenarios: Sequence[str],
    seed: int,
    rule: StoppingRule,
    figures: Judge,
    progress: Done | None = None,
    on_look: Looked | None = None,
) -> tuple[list[list[ReplicationStats]], list[Look]]:
    """Replications 0, 1, ... of every scenario (JSON), in batches, until the stopping
    rule says the ``figures`` of what has run are precise enough, or its cap is hit.
    Every scenario runs the same days (common random numbers); a batch is one call of
    ``run_on`` and brings each scenario to the same total; the rule's ``pairs``: the days
    run in antithetic pairs (``sample.Streams``), each batch a whole number of them."""
    reps: list[list[ReplicationStats]] = [[] for _ in scenarios]
    looks: list[Look] = []
    total: int | None = rule.first
    while total is not None:
        done = len(reps[0])
        jobs = [Job(s, seed, total - done, done, rule.pairs) for s in scenarios]
        batch = run_on.run(jobs, progress)
        for got, new in zip(reps, batch, strict=True):
            got.extend(new)
        seen = look(figures(reps), rule.precision, total, rule.pairs)
        looks.append(seen)
        total = rule.next_total(seen, len(looks))
        if on_look:
            on_look(seen, total)
    return reps, looks


@contextmanager
def executor(workers: int | None = None, dask: str | None = None) -> Iterator[Executor]:
    """The executor the options ask for: ``dask`` a scheduler address or ``local``;
    otherwise ``workers`` local processes (default: one per core; 1: this process)."""
    if workers is not None and workers < 1:
        raise InputError(f"{workers} is not >= 1", field="workers")
    n = workers or os.cpu_count() or 1
    ex: Executor
    if dask is not None:
        ex = DaskCluster(dask, n)
    elif n == 1:
        ex = Executor()
    else:
        ex = LocalProcesses(n)
    try:
        yield ex
    finally:
        ex.close()
