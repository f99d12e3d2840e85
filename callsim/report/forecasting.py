"""The forecast's picture: history, forecast, its prediction band and the baseline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from callsim.report.plot import _pyplot

Series = Sequence[float] | np.ndarray


def plot_forecast(
    path: Path,
    first: date,
    per_day: int,
    history: Series,
    forecast: Series,
    lo: Series,
    hi: Series,
    baseline: Series,
    actual: Series,
    title: str,
) -> Path:
    """Calls per interval: ``history`` (its days from ``first``), then the forecast days
    with the band, the seasonal naive baseline and the ``actual`` calls where known."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 5), constrained_layout=True)
    n = len(history)
    ax.plot(range(n), history, color="0.35", linewidth=0.8, label="history")
    x = range(n, n + len(forecast))
    ax.fill_between(x, lo, hi, color="tab:blue", alpha=0.25, linewidth=0, label="band")
    ax.plot(x, forecast, color="tab:blue", linewidth=1.2, label="forecast (MSTL)")
    ax.plot(x, baseline, color="tab:orange", linewidth=0.8, linestyle="--",
            label="seasonal naive (a week before)")  # fmt: skip
    if len(actual):
        ax.plot(range(n, n + len(actual)), actual, color="black", linewidth=0.8,
                label="actual")  # fmt: skip
    ax.axvline(n, color="tab:red", linewidth=1)
    days = (n + len(forecast)) // per_day
    ticks = list(range(0, days * per_day, per_day))
    labels = [(first + timedelta(days=k)).strftime("%a %d %b") for k in range(days)]
    step = max(1, days // 16)
    ax.set_xticks(ticks[::step], labels[::step], rotation=45, ha="right")
    ax.set_xlim(0, days * per_day)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"calls per {1440 // per_day}-minute interval")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small", ncol=5)
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
