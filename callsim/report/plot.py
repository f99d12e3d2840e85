"""PNG plots. matplotlib is imported here only, lazily, with the non-interactive backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_staffing_day(
    path: Path,
    starts: Sequence[str],
    agents: Sequence[int],
    scheduled: Sequence[int],
    service_level: Sequence[float],
    target_sl: float,
    title: str,
) -> Path:
    """Required agents (on phones and scheduled) per interval, and the service level reached."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 5), constrained_layout=True)
    x = list(range(len(starts)))
    edges = [*x, len(x)]  # each interval drawn over its whole width
    ax.step(
        edges,
        [*agents, agents[-1]],
        where="post",
        label="agents on phones",
        color="tab:blue",
        linewidth=2,
    )
    if list(scheduled) != list(agents):
        ax.step(
            edges,
            [*scheduled, scheduled[-1]],
            where="post",
            color="tab:blue",
            label="agents scheduled (shrinkage)",
            linestyle="--",
            linewidth=1.5,
        )
    ax.set_ylim(bottom=0, top=max(scheduled) * 1.15 + 1)
    ax.set_ylabel("agents")
    ax.set_xlabel("interval start")
    step = max(1, len(starts) // 16)
    ax.set_xticks(list(x)[::step], list(starts)[::step], rotation=45, ha="right")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(
        [i + 0.5 for i in x],
        service_level,
        "o-",
        color="tab:green",
        markersize=3,
        label="service level",
    )
    ax2.axhline(target_sl, color="tab:green", linestyle=":", label=f"target {target_sl:.0%}")
    ax2.set_ylim(0, 1.02)
    ax2.set_ylabel("service level")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(
        lines[0] + lines2[0],
        lines[1] + lines2[1],
        loc="lower center",
        ncol=4,
        fontsize=9,
        framealpha=0.9,
    )
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
