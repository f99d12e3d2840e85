"""The roster's picture: agents required and on the phones, interval by interval."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from callsim.report.plot import _pyplot


def plot_roster(
    path: Path, first: date, required: np.ndarray, scheduled: np.ndarray, title: str
) -> Path:
    """[day, interval] agents required (step) and on the phones by the roster (line),
    the days side by side; shortfalls shaded."""
    plt = _pyplot()
    days, per_day = required.shape
    fig, ax = plt.subplots(figsize=(12, 4.5), constrained_layout=True)
    x = np.arange(days * per_day)
    need, have = required.ravel(), scheduled.ravel()
    ax.step(x, need, where="post", color="black", linewidth=1, label="required")
    ax.step(x, have, where="post", color="tab:blue", linewidth=1, label="on the phones")
    ax.fill_between(x, have, need, where=need > have, step="post", color="tab:red",
                    alpha=0.4, linewidth=0, label="short")  # fmt: skip
    ax.set_xticks(
        np.arange(0, days * per_day, per_day),
        [(first + timedelta(days=k)).strftime("%a %d %b") for k in range(days)],
        rotation=45,
        ha="right",
    )
    ax.set_xlim(0, days * per_day)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("agents")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small", ncol=3)
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
