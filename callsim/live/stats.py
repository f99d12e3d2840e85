"""The live service's statistics: selection only. The formulas are the simulator's
(``analytics.metrics.reduce_replication``) and Erlang's (``analytics.erlang``); here the
calls and spans of a day are selected (today's kept in memory as they are recorded) and
the results laid out as the API shows them. Occupancy counts an agent holding several
chats once (``reduce_replication``'s ``held``, as the simulator counts)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from callsim.analytics import kpi
from callsim.analytics.channels import (
    FIGURES,
    Window,
    channel_day,
    has_channels,
    judged_by,
)
from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.analytics.kpi import IntervalRow
from callsim.analytics.metrics import (
    LEFT_OPEN,
    CallFacts,
    Frame,
    ReplicationStats,
    facts_of_results,
    first_contact_resolution,
    reduce_replication,
)
from callsim.core import Acd, CallRecord, Channel, StaffedSpan, TicketBook
from callsim.errors import InputError
from callsim.live.clock import Clock
from callsim.live.codec import record_of
from callsim.live.commit import UnitOfWork
from callsim.scenario import Scenario
from callsim.scenario.centre import queue_means


class _Day:
    """One calendar day's ended calls as records on the day's clock (seconds since its
    midnight), numbered 0, 1, ... in the order they were recorded, with each call's
    policy result and client; and running call counts per client key (None: every call),
    each with how many records it has counted. Kept for today as calls are recorded, so
    statistics never read the day back from the database."""

    __slots__ = ("clients", "counts", "date", "end", "midnight", "records", "results")

    def __init__(self, date: Any, midnight: float, end: float) -> None:
        self.date = date
        self.midnight = midnight
        self.end = end  # the next midnight (a day of 23 or 25 hours when the clocks change)
        self.records: list[CallRecord] = []
        self.results: list[str] = []
        self.clients: list[str | None] = []
        self.counts: dict[str | None, tuple[int, dict[str, np.ndarray]]] = {}

    def add(self, row: Any) -> None:
        self.records.append(record_of(row, self.midnight)._replace(call=len(self.records)))
        self.results.append(row.policy_result)
        self.clients.append(row.client)

    def facts(self, picked: Sequence[int]) -> CallFacts:
        return facts_of_results([-1] * len(picked), [self.results[i] for i in picked])


class Statistics:
    """Realtime board, intervals and first-contact resolution of one centre."""

    def __init__(
        self, scenario: Scenario, acd: Acd, clock: Clock, uow: UnitOfWork, tickets: TicketBook
    ) -> None:
        self.scenario = scenario
        self.acd = acd
        self.clock = clock
        self.uow = uow
        self.tickets = tickets
        self.queues = tuple(q.name for q in scenario.queues)
        self.chat_queues = frozenset(q.name for q in scenario.queues if q.channel is Channel.CHAT)
        # Erlang A is a chat queue's closed form only when each agent holds one chat
        several = any(a.chats > 1 for a in scenario.agents)
        self.no_closed_form = self.chat_queues if several else frozenset()
        self.interval_s = scenario.horizon.interval_min * 60.0
        self._today: _Day | None = None  # today's records, from the first statistics asked

    def recorded(self, row: Any) -> None:
        """A call's row once recorded: today's statistics count it from now."""
        day = self._today
        if day is not None and day.midnight <= row.arrived_unix < day.end:
            day.add(row)

    def realtime(self, client: str | None = None) -> dict[str, Any]:
        """Per queue now: waiting calls, longest wait, agents by state; and today's
        offered, answered, abandoned and service level (the interval statistics')."""
        now = self.clock.now()
        totals = self._day_totals(client)
        queues = []
        for q in self._queues_of(client):
            view = self.acd.queue_view(q)  # O(1) in the agents: counted as they change
            day = totals[q]
            queues.append(
                {
                    "queue": q,
                    "waiting": view.waiting,
                    "longest_wait_s": 0.0
                    if view.oldest_s is None
                    else round(now - view.oldest_s, 3),
                    "agents": {state.value: n for state, n in view.agents.items()},
                    **{
                        k: day[k]
                        for k in ("offered", "answered", "abandoned", "service_level", "asa_s")
                    },
                }
            )
        return {"at_s": round(now, 3), "date": self.clock.today().isoformat(), "queues": queues}

    def _day_totals(self, client: str | None) -> dict[str, dict[str, Any]]:
        """Today's totals per queue from running call counts: only the calls recorded
        since the last time are counted (by the simulator's code), so a wallboard's
        refresh costs the same at the day's end as at its start."""
        day = self._day(self.clock.today())
        done, acc = day.counts.get(client, (0, {}))
        picked = [
            i for i in range(done, len(day.records)) if client is None or day.clients[i] == client
        ]
        if picked:
            records = [day.records[i]._replace(call=j) for j, i in enumerate(picked)]
            agents = tuple(sorted({r.agent for r in records if r.agent}))
            frame = self._frame(day, agents)
            st = reduce_replication(frame, records, [], 0, day.facts(picked), callbacks=True)
            for name in COUNTED:
                acc[name] = acc.get(name, 0.0) + getattr(st, name).sum(axis=0)
        day.counts[client] = (len(day.records), acc)
        zero = np.zeros(len(self.queues))
        return _queue_totals(self.queues, *(acc.get(name, zero) for name in COUNTED))

    def _queues_of(self, client: str | None) -> tuple[str, ...]:
        if client is None:
            return self.queues
        spec = next(c for c in self.scenario.clients if c.name == client)
        own = {spec.queue}
        own.update(self.scenario.answering.contacts.language_queues.values())
        return tuple(q for q in self.queues if q in own)

    def first_contact_resolution(
        self, day: str | None, window_h: float, client: str | None = None
    ) -> dict[str, Any]:
        """First-contact resolution of ``day``'s answered calls from identified callers:
        resolved unless the caller called again within ``window_h`` hours or the call left
        its ticket open or needing follow-up. ``complete`` is False while the window is
        still running (the figure can only fall)."""
        d = self._day(self.clock.day(day))
        window_s = window_h * 3600
        answered, calls_of, tickets = self.uow.reader().first_contacts(
            d.midnight, d.end, window_s, client
        )
        unresolved = {
            r.call
            for r in tickets
            if r.id in self.tickets.tickets and self.tickets.tickets[r.id].status in LEFT_OPEN
        }
        fcr = first_contact_resolution(answered, calls_of, unresolved, window_s)
        return {
            "date": d.date.isoformat(),
            "window_h": window_h,
            **fcr.to_dict(),
            "complete": self.clock.unix(self.clock.now()) >= d.end + window_s,
        }

    def intervals(self, day: str | None, client: str | None = None) -> dict[str, Any]:
        """Per interval and queue of ``day`` (the centre's date; today if None): the
        simulator's columns by the simulator's code, each next to the exact Erlang A
        prediction of its observed load and staffed agents."""
        calls = self._day(self.clock.day(day))
        midnight = calls.midnight
        end = calls.end
        picked = [i for i, c in enumerate(calls.clients) if client is None or c == client]
        records = [calls.records[i]._replace(call=j) for j, i in enumerate(picked)]
        spans = [
            StaffedSpan(
                r.agent, tuple(json.loads(r.queues)), r.start_unix - midnight, r.end_unix - midnight
            )
            for r in self.uow.reader().spans_between(midnight, end)
        ]
        if midnight <= self.clock.unix(self.clock.now()) < end:  # today: who is staffed now
            offset = self.clock.epoch_unix - midnight
            for sp in self.acd.staffed_now(self.clock.now()):
                spans.append(
                    StaffedSpan(sp.agent, sp.queues, sp.start_s + offset, sp.end_s + offset)
                )
        agents = tuple(sorted({sp.agent for sp in spans} | {r.agent for r in records if r.agent}))
        frame = self._frame(calls, agents)
        facts = calls.facts(picked)
        held = np.array([q in self.chat_queues for q in frame.queues])  # chats: busy once
        stats = reduce_replication(frame, records, spans, 0, facts, callbacks=True, held=held)
        table = self._interval_table(calls.date.isoformat(), stats, frame)
        if has_channels(self.scenario):
            table["channels"] = self._channels(calls, records, spans)
        return table

    def _channels(
        self, day: _Day, records: Sequence[CallRecord], spans: Sequence[StaffedSpan]
    ) -> dict[str, dict[str, Any]]:
        """The day per channel, as ``callsim run``'s per-channel table counts (one day:
        no CI): calls and chats judged by ``sl_threshold_s``, emails by their due time."""
        window = Window(0.0, day.end - day.midnight, self.interval_s, *judged_by(self.scenario))
        figures, _ = channel_day(window, records, spans)
        present = {q.channel for q in self.scenario.queues}
        return {
            kind.value: {f: kpi.shown(figures[k, j], 6) for j, f in enumerate(FIGURES)}
            for k, kind in enumerate(Channel)
            if kind in present
        }

    def _frame(self, day: _Day, agents: tuple[str, ...]) -> Frame:
        """A day's intervals by queue, on the day's clock, as the simulator counts."""
        return Frame(
            0.0,
            self.interval_s,
            round((day.end - day.midnight) / self.interval_s),
            self.queues,
            agents,
            0,
            self.scenario.service_level.sl_threshold_s,
            self.scenario.service_level.short_abandon_s,
        )

    def _day(self, date: Any) -> _Day:
        """The ended calls of ``date``: today's kept in memory from their first reading
        (then added as they are recorded); another day's read from the database."""
        if self._today is not None and self._today.date == date:
            return self._today
        start = datetime.combine(date, datetime.min.time(), self.clock.zone)
        if date < date.max:  # the next midnight (a DST day is 23 or 25 hours)
            end = datetime.combine(date + timedelta(days=1), datetime.min.time(), self.clock.zone)
            day = _Day(date, start.timestamp(), end.timestamp())
        else:  # 9999-12-31 has no next day in Python's calendar
            day = _Day(date, start.timestamp(), start.timestamp() + 86_400)
        for row in self.uow.reader().ended_between(day.midnight, day.end):
            day.add(row)
        if date == self.clock.today():
            self._today = day
        return day

    def _interval_table(self, date: str, st: Any, frame: Frame) -> dict[str, Any]:
        patience = queue_means(self.scenario, "patience_s")
        rows = []
        for k in range(frame.n_intervals):
            start = k * frame.interval_s
            label = f"{int(start // 3600):02d}:{int(start % 3600 // 60):02d}"
            for j, q in enumerate(frame.queues):
                if not st.offered[k, j] and not st.staffed_s[k, j]:
                    continue
                row = interval_row(st, k, j, label, q, frame.interval_s)
                predicted = (
                    None if q in self.no_closed_form else _predicted(row, frame, patience.get(q))
                )
                rows.append(row.to_dict() | {"predicted": predicted})
        total = _queue_totals(frame.queues, *(getattr(st, name).sum(axis=0) for name in COUNTED))
        return {
            "date": date,
            "interval_min": frame.interval_s / 60,
            "intervals": rows,
            "total": total,
        }


def interval_row(
    st: ReplicationStats, k: int, j: int, label: str, queue: str, interval_s: float
) -> IntervalRow:
    """Interval ``k`` and queue ``j`` of one observed day as the simulator's row: the same
    columns and ratios (rounded to 6 digits, agents staffed to 3); one day has no CI."""
    offered, answered = st.offered[k, j], st.answered[k, j]
    return IntervalRow(
        day=1,
        interval_start=label,
        queue=queue,
        offered=int(offered),
        answered=int(answered),
        abandoned=int(st.abandoned[k, j]),
        service_level=kpi.shown(kpi.service_level(st.within[k, j], offered), 6),
        service_level_ci95=None,
        abandon_rate=kpi.shown(kpi.abandon_rate(st.abandoned[k, j], offered), 6),
        abandon_rate_ci95=None,
        asa_s=kpi.shown(kpi.asa_s(st.wait_answered_s[k, j], answered), 6),
        asa_s_ci95=None,
        aht_s=kpi.shown(kpi.aht_s(st.handle_s[k, j], answered), 6),
        occupancy=kpi.shown(kpi.occupancy(st.busy_s[k, j], st.staffed_s[k, j]), 6),
        occupancy_ci95=None,
        p_wait=kpi.shown(kpi.p_wait(st.waited[k, j], offered), 6),
        agents_staffed=round(st.staffed_s[k, j] / interval_s, 3),
    )


COUNTED = ("offered", "answered", "abandoned", "within", "wait_answered_s")


def _queue_totals(
    queues: Sequence[str],
    offered: np.ndarray,
    answered: np.ndarray,
    abandoned: np.ndarray,
    within: np.ndarray,
    wait_answered_s: np.ndarray,
) -> dict[str, dict[str, Any]]:
    """A day's totals per queue from its counts per queue."""
    return {
        q: {
            "offered": int(offered[j]),
            "answered": int(answered[j]),
            "abandoned": int(abandoned[j]),
            "service_level": kpi.shown(kpi.service_level(within[j], offered[j]), 6),
            "asa_s": kpi.shown(kpi.asa_s(wait_answered_s[j], answered[j]), 6),
        }
        for j, q in enumerate(queues)
    }


def _predicted(
    observed: IntervalRow, frame: Frame, patience_s: float | None
) -> dict[str, Any] | None:
    """The exact Erlang A (Erlang C without patience) of an interval's observed arrivals,
    handle time and staffed agents (rounded to the nearest whole agent)."""
    staffed = observed.agents_staffed or 0.0
    agents = max(round(staffed), 1 if staffed else 0)  # at least one when anybody was staffed
    aht = observed.aht_s
    if not observed.offered or not aht or agents < 1:
        return None
    rate = observed.offered / frame.interval_s
    try:
        if patience_s:
            m: Any = erlang_a(rate, aht, patience_s, agents, frame.sl_threshold_s)
            abandon = m.p_abandon
        else:
            m = erlang_c(rate, aht, agents, frame.sl_threshold_s)
            abandon = 0.0
    except InputError:
        return None
    sl = m.service_level
    return {
        "model": "erlang_a" if patience_s else "erlang_c",
        "agents": agents,
        "traffic_erl": round(rate * aht, 4),
        "service_level": None if math.isnan(sl) else round(sl, 6),
        "abandon_rate": round(abandon, 6),
        "asa_s": round(m.asa_s, 3) if math.isfinite(m.asa_s) else None,
        "occupancy": round(m.occupancy, 6),
        "p_wait": round(m.p_wait, 6),
    }
