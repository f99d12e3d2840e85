"""What a call log says, per day and interval, and the fits a scenario is built from:
arrivals, talk times per call type (lognormal, with its Kolmogorov-Smirnov distance),
patience (Kaplan-Meier from waits censored by answers, an exponential tail), retrials
(callers identified by their ids) and the agents seen working."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from callsim.analytics import kpi
from callsim.calibrate.log import CallLog, LoggedCall
from callsim.errors import InputError

STAFF_STEP_MIN = 5  # the grid of the staffing written to scenarios
WORK_GAP_S = 1800.0  # a longer gap between an agent's calls is time away
RETRIAL_WINDOW_S = 3600.0  # a call within this after an abandoned one is its retrial
TAIL_AT_RISK = 30  # the Kaplan-Meier curve is kept while this many still wait
QUANTILES = 200  # values of an empirical distribution written to the scenario
DAY_TYPES = {
    6: "weekday",
    0: "weekday",
    1: "weekday",
    2: "weekday",
    3: "weekday",
    4: "friday",
    5: "saturday",
}  # Sunday to Thursday: the working days


def day_type(d: date) -> str:
    return DAY_TYPES[d.weekday()]


def select_days(log: CallLog, spec: str) -> list[date]:
    """``weekdays`` (Sunday to Thursday), ``friday``, ``saturday``, ``all``, or a comma
    list of dates and ranges (``1999-10-03..1999-10-07``); only days the log has."""
    have = log.days
    words = {"weekdays": "weekday", "friday": "friday", "saturday": "saturday"}
    if spec == "all":
        chosen = have
    elif spec in words:
        chosen = [d for d in have if day_type(d) == words[spec]]
    else:
        wanted: set[date] = set()
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("..")
            try:
                a = datetime.strptime(lo, "%Y-%m-%d").date()
                b = datetime.strptime(hi, "%Y-%m-%d").date() if hi else a
            except ValueError:
                raise InputError(
                    f"--days: {part.strip()!r} is not a date YYYY-MM-DD, a range "
                    "A..B, weekdays, friday, saturday or all"
                ) from None
            wanted.update(d for d in have if a <= d <= b)
        chosen = sorted(wanted)
    if not chosen:
        raise InputError(
            f"--days: {spec!r} selects none of the log's days ({have[0]} to {have[-1]})"
        )
    return chosen


@dataclass(frozen=True, slots=True)
class Frame:
    """The modelled day: intervals from ``start_min`` to ``end_min`` after midnight."""

    start_min: int
    end_min: int
    interval_min: int
    sl_threshold_s: float

    @property
    def n(self) -> int:
        return (self.end_min - self.start_min) // self.interval_min

    def index(self, arrival_s: float) -> int:
        i = int((arrival_s / 60 - self.start_min) // self.interval_min)
        return i if 0 <= i < self.n and arrival_s >= self.start_min * 60 else -1

    def slot_labels(self, slots: int) -> list[str]:
        """The start of each of ``slots`` equal slots of the frame, HH:MM."""
        width = (self.end_min - self.start_min) / slots
        return [
            f"{int(self.start_min + k * width) // 60:02d}:"
            f"{int(self.start_min + k * width) % 60:02d}"
            for k in range(slots)
        ]

    def labels(self) -> list[str]:
        """Each interval's start, HH:MM."""
        return self.slot_labels(self.n)


@dataclass
class Observed:
    """Per day and interval ([day, interval]) what the log shows."""

    days: list[date]
    types: list[str]
    arrivals: np.ndarray  # [day, interval, type]
    offered: np.ndarray
    answered: np.ndarray
    abandoned: np.ndarray
    within: np.ndarray  # answered within the threshold
    wait_answered_s: np.ndarray
    wait_abandoned_s: np.ndarray
    talk_s: np.ndarray  # summed talk of answered calls
    agents_seen: np.ndarray  # distinct agents talking during the interval
    agents_present: np.ndarray  # agents at work: their spells of calls, gaps included
    present_fine: np.ndarray  # [day, slot]: the same every STAFF_STEP_MIN minutes
    outside: int  # calls of these days arriving outside the frame

    def metrics(self, axis: int | None = None) -> dict[str, np.ndarray]:
        """abandon_rate, asa_s, mean_wait_s, service_level: per cell, or summed over
        ``axis`` first (1: per day)."""

        def s(x: np.ndarray) -> np.ndarray:
            return x.sum(axis=axis) if axis is not None else x

        off, ans, ab = s(self.offered), s(self.answered), s(self.abandoned)
        return {
            "abandon_rate": kpi.abandon_rate(ab, off),
            "asa_s": kpi.asa_s(s(self.wait_answered_s), ans),
            "mean_wait_s": kpi.mean_wait_s(
                s(self.wait_answered_s), s(self.wait_abandoned_s), ans, ab
            ),
            "service_level": kpi.service_level(s(self.within), off),
        }


def observe(log: CallLog, days: list[date], frame: Frame) -> Observed:
    types = sorted({c.type for c in log.calls})
    t_index = {t: k for k, t in enumerate(types)}
    d_index = {d: k for k, d in enumerate(days)}
    shape = (len(days), frame.n)
    arrivals = np.zeros((*shape, len(types)))
    cols = {
        k: np.zeros(shape)
        for k in (
            "offered",
            "answered",
            "abandoned",
            "within",
            "wait_answered_s",
            "wait_abandoned_s",
            "talk_s",
        )
    }
    seen: list[list[set[str]]] = [[set() for _ in range(frame.n)] for _ in days]
    spans: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    outside = 0
    step = frame.interval_min * 60
    for c in log.calls:
        d = d_index.get(c.day)
        if d is None:
            continue
        i = frame.index(c.arrival_s)
        if i < 0:
            outside += 1
            continue
        arrivals[d, i, t_index[c.type]] += 1
        cols["offered"][d, i] += 1
        if c.answered:
            cols["answered"][d, i] += 1
            cols["within"][d, i] += c.wait_s <= frame.sl_threshold_s
            cols["wait_answered_s"][d, i] += c.wait_s
            cols["talk_s"][d, i] += c.talk_s
            start = c.arrival_s + c.wait_s
            first = max(0, int((start - frame.start_min * 60) // step))
            last = min(frame.n - 1, int((start + c.talk_s - frame.start_min * 60) // step))
            for k in range(first, last + 1):
                seen[d][k].add(c.agent)
            spans[(d, c.agent)].append((start, start + c.talk_s))
        else:
            cols["abandoned"][d, i] += 1
            cols["wait_abandoned_s"][d, i] += c.wait_s
    agents = np.array([[len(s) for s in row] for row in seen], dtype=float)
    # agents at work, on a finer grid than the intervals (they come and go within one)
    k_fine = frame.interval_min // STAFF_STEP_MIN if frame.interval_min % STAFF_STEP_MIN == 0 else 1
    fine_step = step / k_fine
    fine = np.zeros((len(days), frame.n * k_fine))
    lo0 = frame.start_min * 60.0
    for (d, _), talks in spans.items():
        for a, b in _blocks(sorted(talks)):
            first = max(0, int((a - lo0) // fine_step))
            for k in range(first, min(fine.shape[1], int((b - lo0) // fine_step) + 1)):
                s0 = lo0 + k * fine_step
                fine[d, k] += max(0.0, min(b, s0 + fine_step) - max(a, s0)) / fine_step
    present = fine.reshape(len(days), frame.n, k_fine).mean(axis=2)
    return Observed(
        days,
        types,
        arrivals,
        agents_seen=agents,
        agents_present=present,
        present_fine=fine,
        outside=outside,
        **cols,
    )


def _blocks(talks: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """An agent's calls of a day merged into spells of work: from one call to the next
    is work unless the gap is longer than ``WORK_GAP_S`` (then they were away)."""
    out: list[tuple[float, float]] = []
    for a, b in talks:
        if out and a - out[-1][1] <= WORK_GAP_S:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass(frozen=True, slots=True)
class TalkFit:
    type: str
    calls: int
    mean_s: float
    cv: float
    mu: float  # of log talk
    sigma: float
    ks: float  # Kolmogorov-Smirnov distance of the lognormal fit
    values: tuple[float, ...]  # QUANTILES quantiles of the data (an empirical fit)


def fit_talk(calls: list[LoggedCall]) -> TalkFit:
    from scipy import stats

    t = np.array([c.talk_s for c in calls if c.answered and c.talk_s > 0])
    if len(t) < 10:
        raise InputError(
            f"call type {calls[0].type!r}: {len(t)} answered calls with a talk "
            "time, too few to fit (at least 10)"
        )
    logs = np.log(t)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=1))
    ks = float(stats.kstest(t, "lognorm", args=(sigma, 0, math.exp(mu))).statistic)
    q = np.quantile(t, (np.arange(QUANTILES) + 0.5) / QUANTILES)
    return TalkFit(
        calls[0].type,
        len(t),
        float(t.mean()),
        float(t.std(ddof=1) / t.mean()),
        mu,
        sigma,
        ks,
        tuple(round(float(v), 1) for v in q),
    )


@dataclass(frozen=True, slots=True)
class PatienceFit:
    """Kaplan-Meier survival of patience: ``times`` and ``survival`` just after each."""

    queued: int
    abandoned: int
    times: np.ndarray
    survival: np.ndarray
    exp_mean_s: float  # exponential MLE: time waited / abandonments
    tail_from_s: float  # where the curve hands over to the tail
    tail_mean_s: float  # exponential tail's mean beyond it
    median_s: float | None

    def values(self) -> list[float]:
        """QUANTILES quantiles of patience: the curve, then the exponential tail."""
        out = []
        s_end = float(self.survival[-1]) if len(self.survival) else 1.0
        for k in range(QUANTILES):
            u = (k + 0.5) / QUANTILES  # P(patience <= value)
            if 1 - u >= s_end:
                j = int(np.searchsorted(-self.survival, -(1 - u), side="left"))
                out.append(float(self.times[min(j, len(self.times) - 1)]))
            else:
                out.append(self.tail_from_s - self.tail_mean_s * math.log((1 - u) / s_end))
        return [round(v, 1) for v in out]


def fit_patience(calls: list[LoggedCall]) -> PatienceFit:
    queued = [c for c in calls if c.wait_s > 0 or not c.answered]
    if not queued:
        raise InputError("no call waited in the queue: patience cannot be estimated")
    t = np.array([c.wait_s for c in queued])
    event = np.array([not c.answered for c in queued])
    order = np.argsort(t, kind="stable")
    t, event = t[order], event[order]
    uniq, first = np.unique(t, return_index=True)
    deaths = np.add.reduceat(event.astype(float), first)
    at_risk = len(t) - first
    keep = at_risk >= TAIL_AT_RISK
    surv = np.cumprod(1 - deaths / at_risk)
    times, survival = uniq[keep], surv[keep]
    tail_from = float(times[-1]) if len(times) else 0.0
    beyond = t > tail_from
    exposure = float((t[beyond] - tail_from).sum())
    tail_events = int(event[beyond].sum())
    abandoned = int(event.sum())
    exp_mean = float(t.sum() / abandoned) if abandoned else math.inf
    tail_mean = exposure / tail_events if tail_events else exp_mean
    below = np.nonzero(survival <= 0.5)[0]
    return PatienceFit(
        len(t),
        abandoned,
        times,
        survival,
        exp_mean,
        tail_from,
        tail_mean,
        float(times[below[0]]) if len(below) else None,
    )


@dataclass(frozen=True, slots=True)
class RetrialFit:
    identified: int  # calls with a caller id
    abandoned_identified: int
    retried: int  # of those, called again within the window
    share_of_calls: float  # of identified calls, the share that were retrials
    probability: float
    mean_delay_s: float | None


def fit_retrials(calls: list[LoggedCall]) -> RetrialFit:
    by_caller: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for c in calls:
        if c.caller:
            t = datetime.combine(c.day, datetime.min.time()).timestamp() + c.arrival_s
            by_caller[c.caller].append((t, c.answered))
    identified = sum(len(v) for v in by_caller.values())
    abandoned = retried = retrials = 0
    delays = []
    for seq in by_caller.values():
        seq.sort()
        for (t, answered), (t2, _) in zip(seq, [*seq[1:], (math.inf, True)], strict=True):
            if answered:
                continue
            abandoned += 1
            if t2 - t <= RETRIAL_WINDOW_S:
                retried += 1
                retrials += 1
                delays.append(t2 - t)
    return RetrialFit(
        identified,
        abandoned,
        retried,
        retrials / identified if identified else 0.0,
        retried / abandoned if abandoned else 0.0,
        float(np.mean(delays)) if delays else None,
    )
