"""Intraday reforecast: the rest of a day's forecast scaled by the calls that have
arrived so far, the agents it needs (``analytics.staffing.required_agents``, as ``staff``)
against the agents planned, and the service level the planned agents give.

The estimator: calls of interval i are Poisson with mean ``r * f_i`` (``f_i`` the
forecast). The day's elapsed intervals give ``A`` actual calls against ``F`` forecast,
so the ratio's estimate is ``A / F`` (its maximum likelihood; 1 when the actuals equal
the forecast) and, with Jeffreys' prior, ``r`` is Gamma(A + 1/2, rate F) after them; its
central ``level`` % interval is the ratio's band. A remaining interval's reforecast is
``r_hat * f_i`` and its band the predictive interval of its calls (Poisson given r, r
from that gamma: negative binomial with n = A + 1/2, p = F / (F + f_i)), so it holds
both the ratio's uncertainty and the interval's own Poisson noise.

The rest of the day is also written as a scenario (``rest_scenario``) that the simulator
runs: the reforecast's calls per interval (each with its handle time), the planned
agents logged in per interval,
and the current state approximated by a warm-up: the run starts an hour before ``now``
with the actual calls of that hour and its planned agents, so the calls waiting and the
agents busy at ``now`` are those the morning's last hour leaves (the simulator cannot be
started from a given queue; those warm-up calls are not counted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from scipy import stats

from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.analytics.forecast import Interval, csv_number, csv_table, is_hhmm, plan_day
from callsim.analytics.staffing import Staffing, Target
from callsim.errors import InputError
from callsim.plan.check import ROUTING, call_streams
from callsim.plan.requirement import read_need
from callsim.scenario.model import Scenario, hhmm

WARMUP_MIN = 60  # the actual morning simulated before now, to set the current state
QUEUE = "calls"


@dataclass(frozen=True, slots=True)
class Actual:
    calls: float
    aht_s: float | None


@dataclass(frozen=True, slots=True)
class Ratio:
    """Actual over forecast calls of the elapsed intervals, and its band."""

    actual_calls: float
    forecast_calls: float
    estimate: float
    lo: float
    hi: float
    level: float
    aht_ratio: float  # actual over forecast handle time (1 without actual aht_s)


@dataclass(frozen=True, slots=True)
class Row:
    start: str
    forecast: float
    reforecast: float
    lo: float
    hi: float
    aht_s: float
    required: Staffing
    planned: int
    service_level: float | None  # with the planned agents at the reforecast; None: no calls

    @property
    def short(self) -> int:
        """Agents short (> 0) or over (< 0) on the phones."""
        return self.required.agents - self.planned


def _hhmm(text: str) -> str:
    """``HH:MM`` of a time or an ISO date-time's time part."""
    return text.partition("T")[2][:5] if "T" in text else text


def minutes(start: str) -> int:
    hh, _, mm = start.partition(":")
    return int(hh) * 60 + int(mm)


def read_actuals(path: Path) -> dict[str, Actual]:
    """A CSV of ``interval_start, calls[, aht_s]``, or the JSON of the live service's
    ``GET /v1/stats/intervals`` (its rows' ``offered`` summed over queues)."""
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            rows = doc["intervals"] if isinstance(doc, dict) else doc
            found: dict[str, float] = {}
            for row in rows:
                start = _hhmm(str(row["interval_start"]))
                if not is_hhmm(start):
                    raise ValueError(f"interval_start {start!r} is not a time HH:MM")
                found[start] = found.get(start, 0.0) + float(row["offered"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{path}: not the JSON of GET /v1/stats/intervals ({exc}; expected "
                "intervals of interval_start and offered)"
            ) from None
        return {s: Actual(c, None) for s, c in found.items()}
    _, table = csv_table(path, "actual calls", ("interval_start", "calls"), ("aht_s",))
    out = {}
    for line, row in table:
        start = _hhmm(row["interval_start"])
        if not is_hhmm(start):
            raise InputError(f"{path}: row {line}: interval_start {start!r} is not a time HH:MM")
        aht = row.get("aht_s", "")
        out[start] = Actual(
            csv_number(path, line, "calls", row["calls"], positive=False),
            csv_number(path, line, "aht_s", aht, positive=True) if aht else None,
        )
    if not out:
        raise InputError(f"{path}: no interval rows (expected interval_start, calls)")
    return out


def read_planned(path: Path, interval_min: int, day: str | None) -> dict[str, int]:
    """Agents on the phones per interval: ``agents`` of a ``staff --forecast`` plan.csv,
    or ``scheduled`` of a roster's coverage.csv on ``day`` (its only date if not given),
    whose fractional agents (breaks in the interval) count as the whole ones."""
    header, table = csv_table(path, "plan", (), None)
    if "scheduled" not in header or "date" not in header:
        need = read_need(path, interval_min, "agents")
        step = interval_min
        return {f"{i * step // 60:02d}:{i * step % 60:02d}": int(a) for i, a in
                enumerate(need.agents)}  # fmt: skip
    dates = sorted({row["date"] for _, row in table})
    if day is None and len(dates) > 1:
        raise InputError(
            f"{path}: holds {len(dates)} dates ({dates[0]} to {dates[-1]}; expected --date "
            "naming one)"
        )
    day = day or (dates[0] if dates else None)
    if day not in dates:
        raise InputError(f"{path}: no rows of date {day!r} (found: {', '.join(dates)})")
    return {
        _hhmm(row["interval_start"]): int(
            csv_number(path, line, "scheduled", row["scheduled"], positive=False)
        )
        for line, row in table
        if row["date"] == day
    }


def ratio(forecast: list[Interval], actuals: dict[str, Actual], now: int, level: float) -> Ratio:
    """The ratio estimate of the elapsed intervals (start before ``now`` minutes); an
    elapsed interval the actuals do not name had no calls."""
    elapsed = [iv for iv in forecast if minutes(iv.start) < now]
    f = sum(iv.calls for iv in elapsed)
    a = sum(actuals[iv.start].calls for iv in elapsed if iv.start in actuals)
    if f <= 0:
        raise InputError(
            "the forecast has no calls before now: nothing to scale (expected actuals "
            "that cover forecast intervals)",
            field="actuals",
        )
    tail = (1 - level / 100) / 2
    post = stats.gamma(a + 0.5, scale=1 / f)
    timed = [(actuals[iv.start], iv) for iv in elapsed
             if iv.start in actuals and actuals[iv.start].aht_s is not None]  # fmt: skip
    handled = sum(x.calls * (x.aht_s or 0.0) for x, _ in timed)
    planned = sum(x.calls * iv.aht_s for x, iv in timed)
    return Ratio(
        a, f, a / f, float(post.ppf(tail)), float(post.ppf(1 - tail)), level,
        handled / planned if planned > 0 else 1.0,
    )  # fmt: skip


def reforecast(
    forecast: list[Interval],
    planned: dict[str, int],
    est: Ratio,
    now: int,
    interval_min: int,
    target: Target,
    *,
    model: str = "c",
    patience_s: float | None = None,
) -> list[Row]:
    """Each interval from ``now`` on: its reforecast, band, requirement, planned agents
    and the service level those give."""
    rest = [iv for iv in forecast if minutes(iv.start) >= now]
    scaled = [
        replace(iv, calls=iv.calls * est.estimate, aht_s=iv.aht_s * est.aht_ratio) for iv in rest
    ]
    plan = plan_day(scaled, interval_min, target, model=model, patience_s=patience_s)
    tail = (1 - est.level / 100) / 2
    rows = []
    for iv, p in zip(rest, plan, strict=True):
        n = est.actual_calls + 0.5
        pred = stats.nbinom(n, est.forecast_calls / (est.forecast_calls + iv.calls))
        agents = planned.get(iv.start, 0)
        rate = p.interval.calls / (interval_min * 60.0)
        patience = iv.patience_s if iv.patience_s is not None else patience_s
        sl: float | None = None
        if rate > 0:
            if agents == 0:
                sl = 0.0
            elif model == "a" and patience is not None:
                sl = erlang_a(rate, p.interval.aht_s, patience, agents,
                              target.sl_threshold_s).service_level  # fmt: skip
            else:
                sl = erlang_c(rate, p.interval.aht_s, agents, target.sl_threshold_s).service_level
        lo, hi = (float(pred.ppf(tail)), float(pred.ppf(1 - tail))) if iv.calls > 0 else (0, 0)
        rows.append(Row(iv.start, iv.calls, p.interval.calls, lo, hi, p.interval.aht_s,
                        p.staffing, agents, sl))  # fmt: skip
    return rows


def day_service_level(rows: list[Row]) -> float | None:
    """Share of the remaining reforecast calls answered within the threshold with the
    planned agents: the interval service levels weighted by their calls."""
    calls = sum(r.reforecast for r in rows if r.service_level is not None)
    if calls <= 0:
        return None
    return sum(r.reforecast * (r.service_level or 0.0) for r in rows) / calls


def check_now(now: str) -> int:
    if not is_hhmm(now):
        raise InputError(f"{now!r} is not a time HH:MM", field="now")
    return minutes(now)


def default_now(actuals: dict[str, Actual], interval_min: int) -> int:
    """The end of the last interval with actual calls."""
    return max(minutes(s) for s in actuals) + interval_min if actuals else 0


def rest_scenario(
    rows: list[Row],
    actuals: dict[str, Actual],
    planned: dict[str, int],
    interval_min: int,
    target: Target,
    *,
    patience_s: float | None = None,
    name: str = "intraday",
) -> Scenario | None:
    """The rest of the day (``rows`` of ``reforecast``) as a scenario: reforecast calls
    and planned agents per interval, after a warm-up of up to an hour of the actual
    calls and planned agents before it; None when no call is reforecast."""
    if not rows or sum(r.reforecast for r in rows) <= 0:
        return None
    start = minutes(rows[0].start)
    end = minutes(rows[-1].start) + interval_min
    warm = min(WARMUP_MIN - WARMUP_MIN % interval_min, start)
    before = [hhmm(m) for m in range(start - warm, start, interval_min)]
    first_aht = rows[0].aht_s  # the warm-up's calls take the first interval's handle time
    streams = [(minutes(at), actuals[at].calls if at in actuals else 0.0, first_aht)
               for at in before]  # fmt: skip
    streams += [(minutes(r.start), r.reforecast, r.aht_s) for r in rows]
    counts = [(at, planned.get(at, 0)) for at in before] + [(r.start, r.planned) for r in rows]
    data = {
        "name": name,
        "description": f"The rest of the day from {rows[0].start}: the reforecast's calls "
        f"and the planned agents, after a warm-up of the actual {warm} minutes before.",
        "horizon": {"start": rows[0].start, "end": hhmm(end), "interval_min": interval_min,
                    "warmup_min": warm},
        "service_level": {"sl_threshold_s": target.sl_threshold_s,
                          "sl_target": target.sl_target},
        "routing": ROUTING,
        "queues": [{"name": QUEUE, "skills": [QUEUE]}],
        "calls": call_streams(QUEUE, streams, interval_min, patience_s),
        "agents": [{"name": "planned", "count": max(1, *(n for _, n in counts)),
                    "skills": [QUEUE],
                    "on_duty": [{"at": at, "count": n} for at, n in counts]}],
    }  # fmt: skip
    return Scenario.model_validate(data)
