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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from callsim.analytics.kpi import abandon_rate, asa_s, occupancy, service_level, shown
from callsim.analytics.metrics import mean_ci
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


def channel_day(
    window: Window, records: Sequence[CallRecord], spans: Sequence[StaffedSpan]
) -> tuple[np.ndarray, np.ndarray]:
    """One replication: (figures by channel x ``FIGURES``, email backlog by interval)."""
    order = list(Channel)
    n_int = max(1, round((window.end_s - window.start_s) / window.interval_s))
    ends = window.start_s + window.interval_s * np.arange(1, n_int + 1)
    sums = np.zeros((len(order), 6))  # offered, answered, within, abandoned, wait, busy
    chat_spans: dict[str, list[tuple[float, float]]] = {}
    emails: list[tuple[float, float]] = []  # (arrival, answer or inf)
    for r in records:
        kind = window.channel[r.queue]
        k = order.index(kind)
        answered = r.answer_s is not None and r.outcome is not Outcome.CALLBACK_FAILED
        if kind is Channel.EMAIL:
            emails.append((r.arrival_s, r.answer_s if r.answer_s is not None else np.inf))
        if answered and r.agent is not None and r.answer_s is not None:  # the agent's time
            if kind is Channel.CHAT:
                chat_spans.setdefault(r.agent, []).append((r.answer_s, r.answer_s + r.talk_s))
            else:
                sums[k, 5] += _clip(r.answer_s, r.answer_s + r.talk_s + r.wrap_up_s, window)
        if not window.start_s <= r.arrival_s < window.end_s:
            continue
        sums[k, 0] += 1
        if answered:
            sums[k, 1] += 1
            sums[k, 2] += r.wait_s <= window.threshold_s[r.queue]
            sums[k, 4] += r.wait_s
        sums[k, 3] += r.outcome is Outcome.ABANDONED
    for held in chat_spans.values():
        sums[order.index(Channel.CHAT), 5] += sum(_clip(a, b, window) for a, b in union(held))
    staffed = sum(_clip(s.start_s, s.end_s, window) for s in spans)
    figures = np.column_stack(
        (
            sums[:, 0],
            sums[:, 1],
            service_level(sums[:, 2], sums[:, 0]),
            abandon_rate(sums[:, 3], sums[:, 0]),
            asa_s(sums[:, 4], sums[:, 1]),
            occupancy(sums[:, 5], np.full(len(order), staffed)),
        )
    )
    arrived = np.array([a for a, _ in emails])
    answered_at = np.array([b for _, b in emails])
    backlog = np.array(
        [np.sum((arrived <= t) & (answered_at > t)) for t in ends] if emails else np.zeros(n_int)
    )
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


def _clip(a: float, b: float, window: Window) -> float:
    return max(0.0, min(b, window.end_s) - max(a, window.start_s))


def union(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping spans merged (an agent's time holding at least one chat)."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def chats_held_once(
    records: Sequence[CallRecord], chat_queues: Collection[str]
) -> list[CallRecord]:
    """The records with each agent's overlapping chats as one stretch of busy time (the
    ``union`` of their talk): the first chat of a stretch talks for all of it, the others
    for none. For agents' busy time (occupancy) only: an agent holding two chats is one
    agent busy, not two."""
    held: dict[str, list[tuple[float, float, int]]] = {}
    for i, r in enumerate(records):
        if r.queue in chat_queues and r.agent is not None and r.answer_s is not None:
            held.setdefault(r.agent, []).append((r.answer_s, r.answer_s + r.talk_s, i))
    out = list(records)
    for chats in held.values():
        chats.sort()
        stretches = iter(union([(a, b) for a, b, _ in chats]))
        end = -np.inf
        for a, _, i in chats:
            talk = 0.0
            if a > end:  # the first chat of the next stretch
                start, end = next(stretches)
                talk = end - start
            out[i] = records[i]._replace(talk_s=talk)
    return out


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
