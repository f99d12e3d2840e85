"""Forecasting calls and handle time per interval and call type from history, with
prediction intervals, and the rolling-origin backtest that says how good it is.

The series are interval counts on a 24-hour grid (night intervals hold zeros), one per
call type and one, ``all``, of every call. Two models of statsforecast are fitted to
each (imported lazily, inside ``forecast_calls``: it takes seconds to import):

- ``MSTL``: multiple seasonal-trend decomposition with a daily and a weekly season, its
  trend forecast by ``AutoETS``; the forecast, with its prediction interval;
- ``SeasonalNaive``: the same interval a week before; the baseline it must beat.

Day types are what the weekly season learns from the log (the bank's Friday and
Saturday differ from its Sunday to Thursday). A holiday (given, or a history day with
less than half the calls of its weekday's median, as the log shows them) is replaced in
the history by the same day a week earlier (later in the first week) before fitting; a
forecast day that is a holiday is scaled by the ratio the history's holidays had to
their replacement (none learnt: forecast as a normal day, and said).

Handle time is not modelled as a series: an interval's ``aht_s`` is the mean talk of the
history's answered calls of that type in the same interval, on every day (the type's
mean where it answered none).

The forecast's prediction interval is conformal: MSTL's own band (its trend model's
errors) is far too narrow a day ahead, as it leaves out how a whole day's level varies.
So the band is drawn from the backtest's errors instead: each error is scaled by the
square root of its forecast (Poisson-like: a busier interval errs more), and the band is
the forecast plus the errors' central ``level`` % quantiles so scaled. The backtest
scores that band on each origin with the quantiles of the *other* origins' errors only
(leave one origin out), so its coverage is out of sample. Without two origins the band
is MSTL's own (``Forecast.band`` says which).

Accuracy (backtest and, where the log holds the forecast days, the holdout) counts the
*open* intervals only: those (weekday, interval) cells in which the history has at least
one call of any type. ``wape`` = sum |forecast - actual| / sum actual over them;
``coverage`` = share of them whose actual lies within the prediction interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from callsim.analytics.forecast import csv_number, csv_table
from callsim.errors import InputError

ALL = "all"
MODELS = ("MSTL", "SeasonalNaive")
MIN_HISTORY_DAYS = 14  # two weekly seasons: MSTL needs them
BACKTEST_HORIZON_DAYS = 7
UNUSUAL_SHARE = 0.5  # a history day below this share of its weekday's median is a holiday


class Call(Protocol):
    """What a logged call must tell (``callsim.calibrate.log.LoggedCall`` does)."""

    @property
    def day(self) -> date: ...
    @property
    def type(self) -> str: ...
    @property
    def arrival_s(self) -> float: ...
    @property
    def answered(self) -> bool: ...
    @property
    def talk_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class History:
    """Interval counts from ``first`` on, ``per_day`` intervals a day, per series."""

    first: date
    interval_min: int
    calls: dict[str, np.ndarray]  # series -> calls per interval
    talk_s: dict[str, np.ndarray]  # series -> talk seconds of the answered calls
    answered: dict[str, np.ndarray]  # series -> answered calls

    @property
    def per_day(self) -> int:
        return 1440 // self.interval_min

    @property
    def days(self) -> int:
        return len(self.calls[ALL]) // self.per_day

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)

    @property
    def series(self) -> list[str]:
        return [ALL, *sorted(s for s in self.calls if s != ALL)]


def _check_interval(interval_min: int) -> None:
    if interval_min <= 0 or 1440 % interval_min:
        raise InputError(
            f"{interval_min!r} does not divide a day (expected e.g. 15, 30 or 60 minutes)",
            field="interval_min",
        )


def _empty(days: int, per_day: int, names: Iterable[str]) -> dict[str, np.ndarray]:
    return {n: np.zeros(days * per_day) for n in [ALL, *names]}


def interval_counts(calls: Sequence[Call], interval_min: int = 30) -> History:
    """Calls, answered calls and their talk per interval and type (and ``all``); a call
    after midnight counts on the next day's grid (not at all after the log's last day)."""
    _check_interval(interval_min)
    first = min(c.day for c in calls)
    starts = [(c.day - first).days * 86_400 + c.arrival_s for c in calls]
    per_day = 1440 // interval_min
    days = (max(c.day for c in calls) - first).days + 1  # past the last day: not counted
    types = sorted({c.type for c in calls})
    counts, talk, answered = (_empty(days, per_day, types) for _ in range(3))
    for c, s in zip(calls, starts, strict=True):
        i = int(s // (interval_min * 60))
        if i >= days * per_day:
            continue
        for name in (ALL, c.type):
            counts[name][i] += 1
            if c.answered:
                answered[name][i] += 1
                talk[name][i] += c.talk_s
    return History(first, interval_min, counts, talk, answered)


COUNT_COLUMNS = ("date", "interval_start", "calls")
COUNT_OPTIONAL = ("type", "aht_s")


def read_counts(path: Path, interval_min: int = 30) -> History:
    """A CSV of interval counts: ``date`` (YYYY-MM-DD), ``interval_start`` (HH:MM),
    ``calls``, optional ``type`` and ``aht_s``; intervals not listed had no calls."""
    _check_interval(interval_min)
    _, table = csv_table(path, "counts", COUNT_COLUMNS, COUNT_OPTIONAL)
    rows: list[tuple[date, int, str, float, float]] = []
    for line, row in table:
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            raise InputError(
                f"{path}: row {line}: date {row['date']!r} is not a date YYYY-MM-DD"
            ) from None
        try:
            at = datetime.strptime(row["interval_start"], "%H:%M")
        except ValueError:
            at = None
        start = at.hour * 60 + at.minute if at else -1
        if start < 0 or start % interval_min:
            raise InputError(
                f"{path}: row {line}: interval_start {row['interval_start']!r} is not a time "
                f"HH:MM on the {interval_min}-minute grid"
            )
        calls = csv_number(path, line, "calls", row["calls"], positive=False)
        aht = csv_number(path, line, "aht_s", row.get("aht_s") or "0", positive=False)
        rows.append((day, start // interval_min, row.get("type") or ALL, calls, aht))
    if not rows:
        raise InputError(f"{path}: no count rows (expected one row per date and interval)")
    first = min(r[0] for r in rows)
    per_day = 1440 // interval_min
    days = (max(r[0] for r in rows) - first).days + 1
    types = sorted({r[2] for r in rows} - {ALL})
    counts, talk, answered = (_empty(days, per_day, types) for _ in range(3))
    for day, slot, kind, calls, aht in rows:
        i = (day - first).days * per_day + slot
        for name in {ALL, kind}:
            counts[name][i] += calls
            if aht > 0:
                answered[name][i] += calls
                talk[name][i] += calls * aht
    return History(first, interval_min, counts, talk, answered)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Forecast against actuals over the open intervals (see the module's docstring)."""

    series: str
    model: str
    horizon_day: int  # 1 = the day after the origin
    origins: int  # forecasts pooled (one per origin)
    intervals: int  # open intervals counted
    actual_calls: float
    wape: float
    coverage: float


@dataclass(frozen=True, slots=True)
class Forecast:
    first: date  # the first forecast day
    days: int
    interval_min: int
    level: float  # of the prediction interval, percent
    series: list[str]
    calls: dict[str, np.ndarray]  # MSTL, >= 0
    lo: dict[str, np.ndarray]
    hi: dict[str, np.ndarray]
    baseline: dict[str, np.ndarray]  # SeasonalNaive, and its band
    baseline_lo: dict[str, np.ndarray]
    baseline_hi: dict[str, np.ndarray]
    aht_s: dict[str, np.ndarray]
    open: np.ndarray  # [interval of the forecast days] open (see the module's docstring)
    holidays: list[date]  # of the history, replaced before fitting
    holiday_ratio: float | None  # learnt from them; applied to forecast holidays
    backtest: list[Accuracy] = field(default_factory=list)
    holdout: list[Accuracy] = field(default_factory=list)  # the forecast days the log holds
    band: str = "MSTL"  # "conformal" (from the backtest's errors) or MSTL's own

    @property
    def per_day(self) -> int:
        return 1440 // self.interval_min

    def day(self, k: int) -> date:
        return self.first + timedelta(days=k)

    def starts(self) -> list[str]:
        return [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, self.interval_min)]


def unusual_days(history: History, until: int) -> list[int]:
    """History days (indices) with less than half the calls of their weekday's median."""
    totals = history.calls[ALL][: until * history.per_day].reshape(until, -1).sum(axis=1)
    return [
        k for k in range(until) if totals[k] < UNUSUAL_SHARE * float(np.median(totals[k % 7 :: 7]))
    ]


def _replace_days(y: np.ndarray, days: Iterable[int], per_day: int, n_days: int) -> np.ndarray:
    y = y.copy()
    for k in days:
        src = k - 7 if k >= 7 else k + 7
        if 0 <= src < n_days:
            y[k * per_day : (k + 1) * per_day] = y[src * per_day : (src + 1) * per_day]
    return y


def _fit(
    ys: dict[str, np.ndarray], first: date, interval_min: int, h: int, level: float
) -> dict[str, dict[str, np.ndarray]]:
    """statsforecast's forecasts: series -> column ("MSTL", "MSTL-lo-80", ...) -> values."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    per_day = 1440 // interval_min
    n = len(next(iter(ys.values())))
    ds = pd.date_range(first.isoformat(), periods=n, freq=f"{interval_min}min")
    df = pd.concat([pd.DataFrame({"unique_id": name, "ds": ds, "y": y}) for name, y in ys.items()])
    models: list[Any] = [
        MSTL(season_length=[per_day, 7 * per_day], trend_forecaster=AutoETS(model="ZZN")),
        SeasonalNaive(season_length=7 * per_day),
    ]
    sf = StatsForecast(models=models, freq=f"{interval_min}min", n_jobs=1)
    out = sf.forecast(df=df, h=h, level=[round(level)])
    result: dict[str, dict[str, np.ndarray]] = {}
    for name in ys:
        part = out[out["unique_id"] == name]
        columns = [c for c in part.columns if c not in {"ds", "unique_id"}]
        result[name] = {c: part[c].to_numpy(dtype=float) for c in columns}
    return result


def _band(fit: dict[str, np.ndarray], model: str, level: float) -> tuple[np.ndarray, ...]:
    lv = round(level)
    return (
        np.maximum(fit[model], 0.0),
        np.maximum(fit[f"{model}-lo-{lv}"], 0.0),
        np.maximum(fit[f"{model}-hi-{lv}"], 0.0),
    )


MIN_ERRORS = 30  # fewer backtest errors than this: MSTL's own band


def _spread(f: np.ndarray) -> np.ndarray:
    """The scale of an interval's error: the square root of its forecast (at least 1)."""
    return np.asarray(np.sqrt(np.maximum(f, 1.0)), dtype=float)


def conformal_band(
    f: np.ndarray, errors: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` % band around forecasts ``f`` from scaled errors ``(actual - f) /
    _spread(f)`` of other forecasts: their central quantiles, scaled back, cut at 0."""
    tail = (100 - level) / 200
    q_lo = float(np.quantile(errors, tail, method="lower"))
    q_hi = float(np.quantile(errors, 1 - tail, method="higher"))
    s = _spread(f)
    return np.maximum(f + q_lo * s, 0.0), np.maximum(f + q_hi * s, 0.0)


def _accuracy(
    series: str,
    model: str,
    horizon_day: int,
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> Accuracy:
    """Pooled over ``pieces`` of (forecast, lo, hi, actual) on open intervals only."""
    f, lo, hi, a = (np.concatenate([p[i] for p in pieces]) for i in range(4))
    total = float(a.sum())
    return Accuracy(
        series=series,
        model=model,
        horizon_day=horizon_day,
        origins=len(pieces),
        intervals=len(a),
        actual_calls=total,
        wape=float(np.abs(f - a).sum() / total) if total > 0 else math.nan,
        coverage=float(np.mean((a >= lo) & (a <= hi))) if len(a) else math.nan,
    )


def _open_cells(history: History, until: int) -> np.ndarray:
    """[weekday slot of the history's first day + k, interval]: any call there."""
    per_day = history.per_day
    grid = history.calls[ALL][: until * per_day].reshape(until, per_day)
    cells = np.zeros((7, per_day), dtype=bool)
    for k in range(until):
        cells[k % 7] |= grid[k] > 0
    return cells


def forecast_calls(
    history: History,
    *,
    until: date | None = None,
    days: int = 7,
    level: float = 80.0,
    holidays: Iterable[date] = (),
    origins: int = 7,
) -> Forecast:
    """Forecast ``days`` days after ``until`` (default the history's last day) from the
    history up to it, with a ``level`` % prediction interval; backtest on ``origins``
    rolling origins (the ends of the history's last days)."""
    per_day = history.per_day
    until = history.last if until is None else until
    n_hist = (until - history.first).days + 1
    if not 1 <= days <= 366:
        raise InputError(f"{days!r} is not a number of days in 1..366", field="days")
    if not 0 < level < 100:
        raise InputError(f"{level!r} is not a percentage in (0, 100)", field="level")
    if origins < 0:
        raise InputError(f"{origins!r} is not a whole number >= 0", field="origins")
    if n_hist < MIN_HISTORY_DAYS:
        raise InputError(
            f"{until.isoformat()!r}: {max(n_hist, 0)} days of history from "
            f"{history.first.isoformat()}; the weekly season needs at least "
            f"{MIN_HISTORY_DAYS}",
            field="until",
        )
    if n_hist > history.days:
        raise InputError(
            f"{until.isoformat()!r} is after the history's last day {history.last.isoformat()}",
            field="until",
        )
    holidays = set(holidays)
    hist_holidays = sorted(
        {(d - history.first).days for d in holidays if history.first <= d <= until}
        | set(unusual_days(history, n_hist))
    )
    cut = n_hist * per_day
    ys = {
        name: _replace_days(history.calls[name][:cut], hist_holidays, per_day, n_hist)
        for name in history.series
    }
    ratio = None
    if hist_holidays:
        was = sum(history.calls[ALL][k * per_day : (k + 1) * per_day].sum() for k in hist_holidays)
        now = sum(ys[ALL][k * per_day : (k + 1) * per_day].sum() for k in hist_holidays)
        ratio = float(was / now) if now > 0 else None
    fits = _fit(ys, history.first, history.interval_min, days * per_day, level)
    cells = _open_cells(history, n_hist)
    backtest, errors = _backtest(ys, history, n_hist, cells, days, level, origins)
    open_ = np.concatenate([cells[(n_hist + k) % 7] for k in range(days)])
    scale = open_.astype(float)  # a cell the history never saw a call in stays closed
    for k in range(days):
        if until + timedelta(days=k + 1) in holidays and ratio is not None:
            scale[k * per_day : (k + 1) * per_day] *= ratio
    calls, lo, hi, base, base_lo, base_hi, aht = {}, {}, {}, {}, {}, {}, {}
    for name in history.series:
        f, low, high = _band(fits[name], "MSTL", level)
        calls[name], lo[name], hi[name] = f * scale, low * scale, high * scale
        if name in errors:
            low, high = conformal_band(calls[name], errors[name], level)
            lo[name], hi[name] = low * open_, high * open_
        f, low, high = _band(fits[name], "SeasonalNaive", level)
        base[name], base_lo[name], base_hi[name] = f * scale, low * scale, high * scale
        aht[name] = _aht_profile(history, name, n_hist, days)
    result = Forecast(
        first=until + timedelta(days=1),
        days=days,
        interval_min=history.interval_min,
        level=level,
        series=history.series,
        calls=calls,
        lo=lo,
        hi=hi,
        baseline=base,
        baseline_lo=base_lo,
        baseline_hi=base_hi,
        aht_s=aht,
        open=open_,
        holidays=[history.first + timedelta(days=k) for k in hist_holidays],
        holiday_ratio=ratio,
        backtest=backtest,
        band="conformal" if errors else "MSTL",
    )
    known = min(days, history.days - n_hist)
    if known > 0:
        result.holdout.extend(_holdout(result, history, n_hist, known))
    return result


def _aht_profile(history: History, name: str, n_hist: int, days: int) -> np.ndarray:
    """Each interval's mean talk of the history's answered calls in that interval on every
    day (the type's mean where it answered none): one weekday's cell holds a fifth of
    those calls, and on the bank's October predicted the next days' interval handle times
    no better (absolute error 42.8 s a call against 41.4 s), while its noise (a Sunday
    17:00 of 118 s in a day of 180 s) thinned the plans."""
    per_day = history.per_day
    talk = history.talk_s[name][: n_hist * per_day].reshape(n_hist, per_day).sum(axis=0)
    answered = history.answered[name][: n_hist * per_day].reshape(n_hist, per_day).sum(axis=0)
    overall = talk.sum() / answered.sum() if answered.sum() > 0 else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(answered > 0, talk / answered, overall)
    return np.tile(profile, days)


def _backtest(
    ys: dict[str, np.ndarray],
    history: History,
    n_hist: int,
    cells: np.ndarray,
    days: int,
    level: float,
    origins: int,
) -> tuple[list[Accuracy], dict[str, np.ndarray]]:
    """Rolling origins at the ends of the history's last ``origins`` days (each with two
    weeks before it), forecasting up to ``min(days, 7)`` days ahead within the history;
    with the scaled errors of MSTL per series (all origins), for the forecast's band.
    MSTL's band is the conformal one of the other origins' errors (its own where there
    are too few)."""
    per_day = history.per_day
    horizon = min(days, BACKTEST_HORIZON_DAYS)
    ends = [o for o in range(n_hist - origins, n_hist) if o >= MIN_HISTORY_DAYS]
    pieces: dict[tuple[str, str, int], list[Any]] = {}
    for o in ends:
        ahead = min(horizon, n_hist - o)
        fits = _fit(
            {n: y[: o * per_day] for n, y in ys.items()},
            history.first,
            history.interval_min,
            ahead * per_day,
            level,
        )
        for name in ys:
            for model in MODELS:
                f, lo, hi = _band(fits[name], model, level)
                for k in range(ahead):
                    day = slice(k * per_day, (k + 1) * per_day)
                    actual = history.calls[name][(o + k) * per_day : (o + k + 1) * per_day]
                    m = cells[(o + k) % 7]
                    piece = (f[day][m], lo[day][m], hi[day][m], actual[m], o)
                    pieces.setdefault((name, model, k + 1), []).append(piece)
    scaled: dict[tuple[str, int], list[np.ndarray]] = {}
    for (name, model, _), ps in pieces.items():
        if model == "MSTL":
            for f, _lo, _hi, a, o in ps:
                scaled.setdefault((name, o), []).append((a - f) / _spread(f))
    errors = {}
    for name in ys:
        mine = [np.concatenate(scaled[name, o]) for o in ends if (name, o) in scaled]
        if len(mine) >= 2 and sum(len(e) for e in mine) >= MIN_ERRORS:
            errors[name] = np.concatenate(mine)
    out = []
    for (name, model, k), ps in sorted(pieces.items(), key=_order):
        if model == "MSTL" and name in errors:
            ps = [(f, *_others_band(f, name, o, ends, scaled, level), a, o)
                  for f, _lo, _hi, a, o in ps]  # fmt: skip
        out.append(_accuracy(name, model, k, [p[:4] for p in ps]))
    return out, errors


def _others_band(
    f: np.ndarray,
    name: str,
    origin: int,
    ends: list[int],
    scaled: dict[tuple[str, int], list[np.ndarray]],
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The conformal band of ``f`` from the errors of every origin but ``origin``."""
    others = [e for o in ends if o != origin for e in scaled.get((name, o), [])]
    return conformal_band(f, np.concatenate(others), level)


def _order(item: tuple[tuple[str, str, int], Any]) -> tuple[bool, str, int, int]:
    (name, model, k), _ = item
    return (name != ALL, name, k, MODELS.index(model))


def _holdout(fc: Forecast, history: History, n_hist: int, known: int) -> list[Accuracy]:
    """The forecast against the days the log holds after ``until``, per series and model,
    pooled over those days (horizon_day 0)."""
    per_day = history.per_day
    cut = slice(0, known * per_day)
    m = fc.open[cut]
    out = []
    for name in fc.series:
        actual = history.calls[name][n_hist * per_day : (n_hist + known) * per_day][m]
        mstl = (fc.calls[name][cut][m], fc.lo[name][cut][m], fc.hi[name][cut][m], actual)
        naive = (fc.baseline[name][cut][m], fc.baseline_lo[name][cut][m],
                 fc.baseline_hi[name][cut][m], actual)  # fmt: skip
        out.append(_accuracy(name, "MSTL", 0, [mstl]))
        out.append(_accuracy(name, "SeasonalNaive", 0, [naive]))
    return out
