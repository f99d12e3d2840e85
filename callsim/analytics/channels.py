"""Results per channel (voice, chat, email) from a replication's call records.

What each figure counts, per channel, over the contacts that arrived in the counted day
(``start_s`` to ``end_s``), by the channel of the queue they arrived at:

- ``offered``: contacts that arrived; ``answered``: those an agent took;
- ``service_level``: answered within the threshold / offered (abandoned included in the
  denominator); the threshold is the scenario's ``sl_threshold_s`` for voice and chat,
  and each email queue's due time (``due_h``) for email: the share answered when due;
- ``abandon_rate``: abandoned / offered (0 for email: emails never abandon);
- ``asa_s``: the mean wait of the answered, seconds;
- ``occupancy``: agent time spent on the channel / all agents' staffed time (a chat
  agent's time counts once while it holds one chat or several); the channels' sum is
  the centre's occupancy;
- ``backlog``: emails arrived and not yet answered at the end of each interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from callsim.analytics.kpi import abandon_rate, asa_s, occupancy, service_level, shown
from callsim.analytics.metrics import (
    OUTCOMES,
    CallColumns,
    Frame,
    call_columns,
    held_once,
    mean_ci,
)
from callsim.core import CallRecord, Channel, Outcome, StaffedSpan
from callsim.scenario.model import Scenario

FIGURES = ("offered", "answered", "service_level", "abandon_rate", "asa_s", "occupancy")
EMAIL_DUE_H = 24.0  # an email queue's due time when it sets none


@dataclass(frozen=True, slots=True)
class Window:
    """Where a day's contacts are counted, and the thresholds each queue is judged by."""

    start_s: float
    end_s: float
    interval_s: float
    channel: Mapping[str, Channel]  # by queue
    threshold_s: Mapping[str, float]  # by queue: sl_threshold_s, or an email queue's due


@dataclass(frozen=True, slots=True)
class Estimate:
    mean: float | None
    ci95: float | None


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    """One channel's figures over the replications (see the module docstring)."""

    channel: Channel
    offered: Estimate
    answered: Estimate
    service_level: Estimate
    abandon_rate: Estimate
    asa_s: Estimate
    occupancy: Estimate


@dataclass(frozen=True, slots=True)
class ChannelResults:
    """Every channel the scenario has, in ``Channel`` order, and the email backlog at
    the end of each interval (``backlog_at_s``: those ends, on the plan's clock)."""

    channels: tuple[ChannelFigures, ...]
    backlog_at_s: tuple[float, ...]
    backlog: tuple[Estimate, ...]
    replications: int


def has_channels(scenario: Scenario) -> bool:
    """Whether the scenario has chat or email queues."""
    return any(q.channel is not Channel.VOICE for q in scenario.queues)


def judged_by(scenario: Scenario) -> tuple[dict[str, Channel], dict[str, float]]:
    """Each queue's channel, and the wait it is judged by: the scenario's
    ``sl_threshold_s``, or an email queue's due time (``EMAIL_DUE_H`` when it sets none)."""
    sl = scenario.service_level.sl_threshold_s
    return (
        {q.name: q.channel for q in scenario.queues},
        {
            q.name: (q.due_h or EMAIL_DUE_H) * 3600.0 if q.channel is Channel.EMAIL else sl
            for q in scenario.queues
        },
    )


def erlang_caveat(scenario: Scenario) -> str | None:
    """Why Erlang's figures do not hold for the scenario's chats, if they do not: agents
    who hold k > 1 chats at once have no closed form (Erlang A holds for k = 1)."""
    chats = [q.name for q in scenario.queues if q.channel is Channel.CHAT]
    k = max((g.chats for g in scenario.agents), default=1)
    if not chats or k <= 1:
        return None
    return (
        f"agents hold up to {k} chats at once ({', '.join(map(repr, chats))}): Erlang has "
        "no closed form for that and staffs each chat as taking its agent whole; "
        "--simulate staffs them by the routing"
    )


def channel_day(
    window: Window,
    calls: Sequence[CallRecord] | CallColumns,
    spans: Sequence[StaffedSpan],
    queues: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One replication, from its records or their columns (``queues``: the columns'
    queue order): (figures by channel x ``FIGURES``, email backlog by interval)."""
    order = list(Channel)
    n_int = max(1, round((window.end_s - window.start_s) / window.interval_s))
    ends = window.start_s + window.interval_s * np.arange(1, n_int + 1)
    if not isinstance(calls, CallColumns):
        queues = tuple(window.channel)
        agents = tuple(sorted({r.agent for r in calls if r.agent is not None}))
        frame = Frame(window.start_s, window.interval_s, n_int, queues, agents, 0, 0.0, 0.0)
        calls = call_columns(list(calls), frame, False)
    assert queues is not None
    kind = np.array([order.index(window.channel[q]) for q in queues], np.intp)[calls.queue]
    threshold = np.array([window.threshold_s[q] for q in queues])[calls.queue]
    answered = calls.outcome == OUTCOMES.index(Outcome.ANSWERED.value)
    answer = calls.queued_s + calls.wait_s  # when an agent took it (the answered)
    wait = calls.wait_s
    in_day = (calls.arrival_s >= window.start_s) & (calls.arrival_s < window.end_s)

    def by_channel(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(kind[mask], None if weights is None else weights[mask], len(order))

    def clipped(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(
            np.maximum(0.0, np.minimum(b, window.end_s) - np.maximum(a, window.start_s))
        )

    offered = by_channel(in_day)
    taken = in_day & answered
    chat = kind == order.index(Channel.CHAT)
    # the agents' time: talk + wrap-up, a chat agent's talk once while it holds several
    busy = by_channel(answered & ~chat, clipped(answer, answer + calls.talk_s + calls.wrap_up_s))
    held = answered & chat
    a, b, _ = held_once(answer[held], answer[held] + calls.talk_s[held], calls.agent[held])
    busy[order.index(Channel.CHAT)] += clipped(a, b).sum()
    staffed = sum(max(0.0, min(s.end_s, window.end_s) - max(s.start_s, window.start_s))
                  for s in spans)  # fmt: skip
    abandoned = by_channel(in_day & (calls.outcome == OUTCOMES.index(Outcome.ABANDONED.value)))
    figures = np.column_stack(
        (
            offered,
            by_channel(taken),
            service_level(by_channel(taken & (wait <= threshold)), offered),
            abandon_rate(abandoned, offered),
            asa_s(by_channel(taken, wait), by_channel(taken)),
            occupancy(busy, np.full(len(order), staffed)),
        )
    )
    email = kind == order.index(Channel.EMAIL)
    arrived = calls.arrival_s[email]
    answered_at = np.where(answered, answer, np.inf)[email]
    backlog = np.array([np.sum((arrived <= t) & (answered_at > t)) for t in ends])
    return figures, backlog.astype(float)


def combine(window: Window, days: Sequence[tuple[np.ndarray, np.ndarray]]) -> ChannelResults:
    """The replications' means and 95 % CI half-widths, for the channels present."""
    figures = np.stack([f for f, _ in days])
    backlog = np.stack([b for _, b in days])
    mean, half = mean_ci(figures)
    b_mean, b_half = mean_ci(backlog)
    present = set(window.channel.values())
    channels = tuple(
        ChannelFigures(
            kind,
            *(_estimate(mean[k, j], half[k, j]) for j in range(len(FIGURES))),
        )
        for k, kind in enumerate(Channel)
        if kind in present
    )
    n_int = len(b_mean)
    ends = tuple(window.start_s + window.interval_s * (i + 1) for i in range(n_int))
    return ChannelResults(
        channels,
        ends,
        tuple(_estimate(m, h) for m, h in zip(b_mean, b_half, strict=True)),
        len(days),
    )


def _estimate(mean: float, half: float) -> Estimate:
    return Estimate(shown(mean), shown(half))


def channel_document(r: ChannelResults) -> dict[str, Any]:
    """The results as JSON data (``channels.json``, the ``channels`` of ``--json``)."""

    def est(e: Estimate) -> dict[str, float | None]:
        return {"mean": e.mean, "ci95": e.ci95}

    return {
        "replications": r.replications,
        "counts": "contacts that arrived in the counted day, by their queue's channel; "
        "service_level: answered within sl_threshold_s (email: within its queue's due_h) "
        "of offered; occupancy: time on the channel of all staffed time",
        "channels": {c.channel.value: {f: est(getattr(c, f)) for f in FIGURES} for c in r.channels},
        "email_backlog": [
            {"at_s": t, **est(e)} for t, e in zip(r.backlog_at_s, r.backlog, strict=True)
        ],
    }


def channel_rows(r: ChannelResults) -> list[list[str]]:
    """The per-channel table's rows (``CHANNEL_COLUMNS``): mean ± CI half-width."""
    return [
        [
            c.channel.value,
            _pm(c.offered, 0),
            _pm(c.service_level, 3),
            _pm(c.abandon_rate, 3),
            _pm(c.asa_s, 1),
            _pm(c.occupancy, 3),
        ]
        for c in r.channels
    ]


CHANNEL_COLUMNS = ["channel", "offered", "SL/due", "abandon", "ASA s", "occupancy"]


def _pm(e: Estimate, digits: int) -> str:
    if e.mean is None:
        return "-"
    ci = "" if e.ci95 is None else f"±{e.ci95:.{digits}f}"
    return f"{e.mean:.{digits}f}{ci}"
