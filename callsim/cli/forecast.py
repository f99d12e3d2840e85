"""``callsim forecast LOG``: calls and handle time per interval and call type for the
coming days, with prediction intervals and a rolling-origin backtest against the
seasonal naive baseline (callsim.analytics.forecasting); one staffing CSV a day that
``callsim staff --forecast`` reads."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer

from callsim.analytics.forecast import REQUIRED
from callsim.analytics.forecasting import ALL, Accuracy, Forecast, History, forecast_calls
from callsim.calibrate.log import FORMATS
from callsim.cli.calibrate import TIME_ZONE
from callsim.cli.command import flag
from callsim.cli.console import err, print_table
from callsim.errors import InputError
from callsim.report.files import json_text, run_dir, write_csv, write_json

FORECAST_FORMATS = (*FORMATS, "counts")
FORECAST_FILES = ("forecast.csv", "backtest.csv", "holdout.csv", "forecast.json", "forecast.png")
_COLUMNS = ["date", "type", "interval_start", "calls", "calls_lo", "calls_hi",
            "calls_baseline", "aht_s"]  # fmt: skip
_ACCURACY = [f.name for f in dataclasses.fields(Accuracy)]


def _date(flag_name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{flag_name}: {text!r} is not a date YYYY-MM-DD") from None


def _history(log: Path, fmt: str, interval_min: int, time_zone: str) -> History:
    from callsim.analytics.forecasting import interval_counts, read_counts

    if fmt not in FORECAST_FORMATS:
        raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORECAST_FORMATS)}")
    if fmt == "counts":
        return read_counts(log, interval_min)
    from callsim.calibrate.log import read_log

    return interval_counts(read_log(log, fmt, time_zone).calls, interval_min)


def forecast_cmd(
    log: Path = typer.Argument(
        ..., help="Call log (a format `callsim calibrate` reads) or a CSV of interval counts."
    ),
    fmt: str = typer.Option(
        "anonymous-bank",
        "--format",
        help=f"{', '.join(FORMATS)} (call logs, as `callsim calibrate` reads them), or "
        "counts: a CSV of date, interval_start, calls[, type, aht_s].",
    ),
    time_zone: str = TIME_ZONE,
    until: str | None = typer.Option(
        None,
        "--until",
        help="Last day of history to learn from, YYYY-MM-DD (default: the log's last day); "
        "the log's later days are the holdout the forecast is scored on.",
    ),
    days: int = typer.Option(7, "--days", help="Days to forecast after --until."),
    interval_min: int = typer.Option(30, "--interval-min", help="Interval length, minutes."),
    level: float = typer.Option(80.0, "--level", help="Prediction interval, percent."),
    holiday: list[str] | None = typer.Option(
        None,
        "--holiday",
        help="A holiday, YYYY-MM-DD (repeat the flag): replaced in the history; a forecast "
        "day scaled as the history's holidays were.",
    ),
    origins: int = typer.Option(
        7, "--origins", help="Backtest: rolling origins, one at the end of each last day."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Directory for the files (default results/forecast-<time>/)."
    ),
    no_plots: bool = flag("--no-plots", "Do not draw forecast.png."),
    as_json: bool = flag("--json", "Print forecast.json on stdout instead of tables."),
) -> None:
    """Forecast calls and handle time per interval and call type, with prediction
    intervals (statsforecast MSTL, daily and weekly seasons) beside the seasonal naive
    baseline; a rolling-origin backtest scores both (WAPE, interval coverage)."""
    history = _history(log, fmt, interval_min, time_zone)
    fc = forecast_calls(
        history,
        until=None if until is None else _date("--until", until),
        days=days,
        level=level,
        holidays=[_date("--holiday", h) for h in holiday or []],
        origins=origins,
    )
    folder = run_dir(out, "forecast", FORECAST_FILES + tuple(_day_files(fc)))
    write_csv(folder / "forecast.csv", _COLUMNS, _rows(fc))
    for k, name in enumerate(_day_files(fc)):
        day = slice(k * fc.per_day, (k + 1) * fc.per_day)
        open_ = fc.open[day]
        rows = [
            [s, round(float(c), 2), round(float(a))]
            for s, c, a, o in zip(fc.starts(), fc.calls[ALL][day], fc.aht_s[ALL][day], open_,
                                  strict=True)
            if o and round(float(c), 2) > 0  # staff's Erlang A takes no interval of 0 calls
        ]  # fmt: skip
        write_csv(folder / name, REQUIRED, rows)
    write_csv(folder / "backtest.csv", _ACCURACY, [_values(a) for a in fc.backtest])
    if fc.holdout:
        write_csv(folder / "holdout.csv", _ACCURACY, [_values(a) for a in fc.holdout])
    summary = _summary(log, fc, folder)
    write_json(folder / "forecast.json", summary)
    if not no_plots:
        _plot(folder / "forecast.png", log, history, fc)
    if as_json:
        typer.echo(json_text(summary), nl=False)
        return
    _tables(fc, history)
    err.print(
        f"wrote {folder}/forecast.csv, {len(_day_files(fc))} day files (day-*.csv, for "
        "`callsim staff --forecast`), backtest.csv"
        + (", holdout.csv" if fc.holdout else "")
        + ", forecast.json"
        + ("" if no_plots else ", forecast.png")
    )


def _day_files(fc: Forecast) -> list[str]:
    return [f"day-{fc.day(k).isoformat()}.csv" for k in range(fc.days)]


def _rows(fc: Forecast) -> list[list[Any]]:
    starts = fc.starts()
    rows = []
    for name in fc.series:
        for i in range(fc.days * fc.per_day):
            if fc.open[i]:
                rows.append([
                    fc.day(i // fc.per_day).isoformat(), name, starts[i % fc.per_day],
                    round(float(fc.calls[name][i]), 2), round(float(fc.lo[name][i]), 2),
                    round(float(fc.hi[name][i]), 2), round(float(fc.baseline[name][i]), 2),
                    None if math.isnan(fc.aht_s[name][i]) else round(float(fc.aht_s[name][i])),
                ])  # fmt: skip
    return rows


def _values(a: Accuracy) -> list[Any]:
    return [getattr(a, f) for f in _ACCURACY]


def _summary(log: Path, fc: Forecast, folder: Path) -> dict[str, Any]:
    daily = {
        name: [float(fc.calls[name][k * fc.per_day : (k + 1) * fc.per_day].sum())
               for k in range(fc.days)]
        for name in fc.series
    }  # fmt: skip
    return {
        "log": str(log),
        "first_day": fc.first.isoformat(),
        "days": fc.days,
        "interval_min": fc.interval_min,
        "level": fc.level,
        "band": _BAND[fc.band],
        "models": {"forecast": "MSTL (daily and weekly seasons, AutoETS trend)",
                   "baseline": "SeasonalNaive (the same interval a week before)"},
        "counted": "accuracy over open intervals: (weekday, interval) cells with a call in "
        "the history; wape = sum |forecast - actual| / sum actual; coverage = share of "
        "actuals within the prediction interval",
        "history_holidays": [d.isoformat() for d in fc.holidays],
        "holiday_ratio": fc.holiday_ratio,
        "calls_per_day": daily,
        "backtest": [dataclasses.asdict(a) for a in fc.backtest],
        "holdout": [dataclasses.asdict(a) for a in fc.holdout],
        "day_files": [str(folder / n) for n in _day_files(fc)],
    }  # fmt: skip


_BAND = {
    "conformal": "conformal: the forecast plus the backtest's errors' central quantiles, "
    "each error scaled by the square root of its forecast (scored on each origin with the "
    "other origins' errors)",
    "MSTL": "MSTL's own (its trend model's errors): fewer than two backtest origins",
}


def _tables(fc: Forecast, history: History) -> None:
    pairs: dict[tuple[str, int], dict[str, Accuracy]] = {}
    for a in fc.backtest + fc.holdout:
        pairs.setdefault((a.series, a.horizon_day), {})[a.model] = a
    rows = [
        [k, p["MSTL"].origins, p["MSTL"].intervals, *_scores(p)]
        for (name, k), p in pairs.items() if name == ALL and k > 0
    ]  # fmt: skip
    if rows:
        print_table(
            f"Backtest, all calls: rolling origins, {fc.level:g} % {fc.band} band",
            ["day_ahead", "origins", "intervals", "wape", "wape_naive", "cover", "cover_naive"],
            rows,
        )
    held = [
        [name, round(p["MSTL"].actual_calls), *_scores(p)]
        for (name, k), p in pairs.items() if k == 0
    ]  # fmt: skip
    if held:
        print_table(
            f"Forecast against the log's days from {fc.first.isoformat()}",
            ["type", "calls", "wape", "wape_naive", "cover", "cover_naive"],
            held,
        )
    start = (fc.first - history.first).days
    known = min(fc.days, history.days - start)
    days: list[list[Any]] = []
    for k in range(fc.days):
        day = slice(k * fc.per_day, (k + 1) * fc.per_day)
        logged = history.calls[ALL][(start + k) * fc.per_day : (start + k + 1) * fc.per_day]
        days.append([
            fc.day(k).isoformat(), fc.day(k).strftime("%a"), round(float(fc.calls[ALL][day].sum())),
            round(float(fc.lo[ALL][day].sum())), round(float(fc.hi[ALL][day].sum())),
            round(float(fc.baseline[ALL][day].sum())),
            round(float(logged.sum())) if k < known else "-",
        ])  # fmt: skip
    print_table(
        "Calls per day, all types (lo, hi: the interval bounds added up)",
        ["date", "day", "calls", "lo", "hi", "naive", "logged"],
        days,
    )


def _scores(pair: dict[str, Accuracy]) -> list[float]:
    """WAPE and coverage of the forecast and of the baseline, to 3 decimals."""
    mstl, naive = pair["MSTL"], pair["SeasonalNaive"]
    return [round(v, 3) for v in (mstl.wape, naive.wape, mstl.coverage, naive.coverage)]


def _plot(path: Path, log: Path, history: History, fc: Forecast) -> None:
    from callsim.report.forecasting import plot_forecast

    shown = 14  # days of history before the forecast
    start = (fc.first - history.first).days
    first = max(0, start - shown)
    per_day = fc.per_day
    past = history.calls[ALL][first * per_day : start * per_day]
    actual = history.calls[ALL][start * per_day : (start + fc.days) * per_day]
    plot_forecast(
        path,
        history.first + timedelta(days=first),
        per_day,
        past,
        fc.calls[ALL],
        fc.lo[ALL],
        fc.hi[ALL],
        fc.baseline[ALL],
        actual,
        f"{log.name}: calls, {fc.days} days from {fc.first.isoformat()} ({fc.level:g} % band)",
    )
