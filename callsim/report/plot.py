"""PNG plots. matplotlib is imported here only, lazily, with the non-interactive backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callsim.analytics.channels import ChannelResults


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _interval_axis(ax: Any, labels: Sequence[str]) -> None:
    """Interval start times under the x axis, at most 16 of them."""
    step = max(1, len(labels) // 16)
    ax.set_xticks(list(range(len(labels)))[::step], list(labels)[::step], rotation=45, ha="right")


def plot_staffing_day(
    path: Path,
    starts: Sequence[str],
    agents: Sequence[int],
    scheduled: Sequence[int],
    service_level: Sequence[float],
    sl_target: float,
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
    _interval_axis(ax, starts)
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
    ax2.axhline(sl_target, color="tab:green", linestyle=":", label=f"target {sl_target:.0%}")
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


def plot_day(
    path: Path,
    labels: Sequence[str],
    series: Mapping[str, tuple[Sequence[float | None], Sequence[float | None]]],
    *,
    title: str,
    ylabel: str,
    target: float | None = None,
) -> Path:
    """One line per series of shares over the day's intervals, with its 95 % band (mean,
    half-width) cut to [0, 1]."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.5), constrained_layout=True)
    x = list(range(len(labels)))
    for name, (mean, half) in series.items():
        m = [float("nan") if v is None else v for v in mean]
        h = [0.0 if v is None else v for v in half]
        ax.plot(x, m, "o-", markersize=3, label=name)
        ax.fill_between(
            x,
            [max(a - b, 0.0) for a, b in zip(m, h, strict=True)],
            [min(a + b, 1.0) for a, b in zip(m, h, strict=True)],
            alpha=0.2,
        )
    if target is not None:
        ax.axhline(target, color="grey", linestyle=":", label=f"target {target:g}")
    _interval_axis(ax, labels)
    ax.set_xlabel("interval start")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="best")
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_email_backlog(
    path: Path, labels: Sequence[str], results: ChannelResults, *, title: str
) -> Path:
    """Emails waiting (arrived, not yet answered) at the end of each interval over the
    simulated days: a count, its 95 % band cut at 0 only; interval ``i`` ends at
    ``i + 1`` on the axis of interval starts (``labels``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.5), constrained_layout=True)
    ends = [i + 1 for i in range(len(results.backlog))]
    mean = [float("nan") if e.mean is None else e.mean for e in results.backlog]
    half = [0.0 if e.ci95 is None else e.ci95 for e in results.backlog]
    ax.plot(ends, mean, "o-", markersize=3, color="tab:purple", label="emails waiting (mean)")
    ax.fill_between(
        ends,
        [max(m - h, 0.0) for m, h in zip(mean, half, strict=True)],
        [m + h for m, h in zip(mean, half, strict=True)],
        alpha=0.2,
        color="tab:purple",
        label=f"95 % CI over {results.replications} days",
    )
    _interval_axis(ax, labels)
    ax.set_xlim(-0.2, len(ends) + 0.2)
    ax.set_xlabel("time of day (each point: the end of an interval)")
    ax.set_ylabel("emails arrived, not yet answered")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="best")
    ax.set_title(f"{title}: the email backlog over the day")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_waits(
    path: Path, bins: Sequence[float], counts: Sequence[float], threshold_s: float, title: str
) -> Path:
    """Distribution of answered calls' waits (share of answered calls per bin)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    edges = [min(b, 1800.0) for b in bins]
    total = sum(counts) or 1.0
    widths = [max(edges[i + 1] - edges[i], 1.0) for i in range(len(counts))]
    ax.bar(
        edges[:-1],
        [c / total for c in counts],
        width=widths,
        align="edge",
        color="tab:blue",
        alpha=0.8,
    )
    ax.axvline(threshold_s, color="tab:red", linestyle="--", label=f"threshold {threshold_s:g} s")
    last = max((edges[i + 1] for i, c in enumerate(counts) if c > 0), default=60.0)
    ax.set_xlim(0, max(60.0, last))
    ax.set_yscale("log")
    ax.set_xlabel("wait of answered calls, s")
    ax.set_ylabel("share of answered calls")
    ax.legend(fontsize=9)
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def load_plots(folder: Path, report: Mapping[str, Any]) -> list[Path]:
    """A load run over its wall time: calls placed per second and calls open; the
    latency of placing a call (p50, p95) and the time to offer's p95."""
    t = report.get("timeline") or {}
    if not t.get("calls_per_s"):
        return []
    plt = _pyplot()
    step = t["step_s"][0]
    x = [i * step for i in range(len(t["calls_per_s"]))]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, constrained_layout=True)
    ax1.plot(x, t["calls_per_s"], label="calls placed per second", color="#1f5fbf")
    ax1.set_ylabel("calls/s")
    twin = ax1.twinx()
    twin.plot(x, t["open_calls"], label="calls open", color="#a15c00")
    twin.set_ylabel("calls open")
    ax1.legend(loc="upper left")
    twin.legend(loc="upper right")
    ax1.set_title(
        f"callsim load: {report['scenario']}, {report['placed_calls']:,} calls, "
        f"speedup {report['speedup']:g}"
    )

    def line(key: str, label: str, color: str) -> None:
        ys = [float("nan") if v is None else v for v in t[key]]
        ax2.plot(x, ys, label=label, color=color, marker=".", linewidth=1)

    line("p50_ms", "POST /v1/calls p50", "#1d7a3a")
    line("p95_ms", "POST /v1/calls p95", "#b3261e")
    line("time_to_offer_p95_ms", "time to offer p95", "#6b3fa0")
    ax2.set_ylabel("milliseconds")
    ax2.set_xlabel("seconds into the run")
    ax2.legend(loc="upper left")
    ax2.set_ylim(bottom=0)
    path = folder / "load.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def ceiling_plot(path: Path, found: Mapping[str, Any]) -> Path:
    """The ceiling search: the time to offer's p99 against the calls per second of each
    step, passed and failed steps marked, the bound as a line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5), constrained_layout=True)
    top = 2 * found["offer_p99_ms_bound"]  # a failed step with no p99 is drawn here
    for passed, marker, color in ((True, "o", "#1d7a3a"), (False, "x", "#b3261e")):
        pts = [s for s in found["steps"] if s["passed"] is passed]
        ax.scatter([s["calls_per_s"] for s in pts], [s["offer_p99_ms"] or top for s in pts],
                   marker=marker, color=color, label="passed" if passed else "failed")  # fmt: skip
    for s in found["steps"]:
        if not s["passed"]:
            at = (s["calls_per_s"], s["offer_p99_ms"] or top)
            ax.annotate(s["why"][:40], at, fontsize=8, rotation=20, xytext=(4, 4),
                        textcoords="offset points")  # fmt: skip
    ax.axhline(found["offer_p99_ms_bound"], color="#a15c00", linestyle="--", label="bound")
    best = found.get("ceiling")
    title = f"ceiling {best['calls_per_s']} calls/s" if best else "no step passed"
    ax.set_title(f"callsim load --find-ceiling: {title}")
    ax.set_xlabel("calls placed per second")
    ax.set_ylabel("time to offer p99 (ms)")
    ax.set_yscale("log")
    ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def scores_by_branch(
    path: Path, scores: Mapping[str, float], title: str = "Practice calls: scores by policy branch"
) -> Path:
    """A class's mean score per kind of policy branch (or per ``title``'s), worst first."""
    plt = _pyplot()
    items = sorted(scores.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(items) + 1.5), constrained_layout=True)
    ax.barh([k for k, _ in items], [100 * v for _, v in items], color="#1f5fbf")
    for y, (_, v) in enumerate(items):
        ax.text(100 * v + 1, y, f"{100 * v:.0f}%", va="center", fontsize=9)
    ax.set_xlim(0, 110)
    ax.set_xlabel("mean score (%)")
    ax.set_title(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_sweep(path: Path, doc: Mapping[str, Any]) -> Path:
    """Service level and abandonment of every point of a sweep, with 95 % bands: along
    the first numeric --vary (else the first), one line per value of the others."""
    plt = _pyplot()
    paths = [v["path"] for v in doc["vary"]]
    numeric = [
        p
        for p, v in zip(paths, doc["vary"], strict=True)
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in v["values"])
    ]
    x_path = numeric[0] if numeric else paths[0]
    others = [p for p in paths if p != x_path]
    lines: dict[str, list[Mapping[str, Any]]] = {}
    for r in doc["points"]:
        key = ", ".join(f"{p}={r[p]}" for p in others) or "all points"
        lines.setdefault(key, []).append(r)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    panels = (
        ("service_level", f"service level ({doc['sl_threshold_s']:g} s)"),
        ("abandon_rate", "abandon rate"),
    )
    categories = [str(v) for v in doc["vary"][paths.index(x_path)]["values"]]
    for ax, (metric, title) in zip(axes, panels, strict=True):
        for key, rows in lines.items():
            xs = [r[x_path] if numeric else categories.index(str(r[x_path])) for r in rows]
            m = [float("nan") if r[metric] is None else r[metric] for r in rows]
            h = [r[f"{metric}_ci95"] or 0.0 for r in rows]
            ax.plot(xs, m, "o-", markersize=4, label=key)
            ax.fill_between(
                xs,
                [a - b for a, b in zip(m, h, strict=True)],
                [a + b for a, b in zip(m, h, strict=True)],
                alpha=0.2,
            )
        if metric == "service_level":
            ax.axhline(
                doc["sl_target"],
                color="grey",
                linestyle=":",
                label=f"target {doc['sl_target']:.0%}",
            )
        if not numeric:
            ax.set_xticks(range(len(categories)), categories, rotation=20, ha="right")
        ax.set_xlabel(x_path)
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(
        f"{doc['scenario']}: sweep, {doc['replications']} days a point "
        "(common random numbers), 95 % bands"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_staff_plan(path: Path, doc: Mapping[str, Any]) -> Path:
    """Agents per interval, Erlang against simulated (and shifts, when planned), over the
    service level the simulated plan achieves with its 95 % band."""
    plt = _pyplot()
    rows = doc["intervals"]
    labels = [r["interval_start"] for r in rows]
    x = list(range(len(rows)))
    edges = [*x, len(x)]
    fig, ax = plt.subplots(figsize=(11, 5), constrained_layout=True)

    def steps(values: Sequence[float], **kw: Any) -> None:
        ax.step(edges, [*values, values[-1]], where="post", **kw)

    steps(
        [r["erlang_agents"] for r in rows],
        color="tab:grey",
        linestyle="--",
        linewidth=1.5,
        label="Erlang plan",
    )
    simulated = "simulated_agents" in rows[0]
    if simulated:
        steps(
            [r["simulated_agents"] for r in rows],
            color="tab:blue",
            linewidth=2,
            label="simulated plan",
        )
    shifts = doc.get("shifts")
    if shifts:
        on = [sum(p["scheduled"][i] for p in shifts["profiles"]) for i in x]
        steps(on, color="tab:orange", linewidth=1.2, label="shifts (on the phones)")
    ax.set_ylabel("agents on the phones")
    ax.set_ylim(bottom=0)
    _interval_axis(ax, labels)
    ax.set_xlabel("interval start")
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    t = doc["target"]
    if simulated:
        ax2 = ax.twinx()
        centre = [i + 0.5 for i in x]
        for key, color, label in (
            ("erlang_simulated", "tab:red", "SL of the Erlang plan"),
            ("achieved", "tab:green", "SL of the simulated plan"),
        ):
            m = [r[key]["service_level"] for r in rows]
            h = [r[key]["service_level_ci95"] or 0.0 for r in rows]
            mm = [float("nan") if v is None else v for v in m]
            ax2.plot(centre, mm, "o-", color=color, markersize=3, label=label)
            ax2.fill_between(
                centre,
                [a - b for a, b in zip(mm, h, strict=True)],
                [a + b for a, b in zip(mm, h, strict=True)],
                color=color,
                alpha=0.15,
            )
        ax2.axhline(
            t["sl_target"], color="tab:green", linestyle=":", label=f"target {t['sl_target']:.0%}"
        )
        ax2.set_ylim(0, 1.02)
        ax2.set_ylabel(f"service level ({t['sl_threshold_s']:g} s), all queues")
        h2, n2 = ax2.get_legend_handles_labels()
        handles, names = handles + h2, names + n2
    ax.legend(handles, names, loc="lower center", ncol=3, fontsize=8, framealpha=0.9)
    ax.set_title(
        f"{doc['scenario']}: agents per interval"
        + (" (simulated under its routing)" if simulated else " (Erlang)")
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def calibration_plots(
    folder: Path, doc: Mapping[str, Any], talk_s: Mapping[str, Sequence[float]]
) -> list[Path]:
    """The fit report's pictures: arrivals per interval by day type (with the agents
    seen), talk-time histograms with their lognormal fits, the patience survival curve."""
    import math

    import numpy as np

    plt = _pyplot()
    labels = doc["intervals"]
    x = list(range(len(labels)))
    fig, ax = plt.subplots(figsize=(11, 4.5), constrained_layout=True)
    for kind, values in doc["arrivals_per_interval"].items():
        ax.plot(x, values, "o-", markersize=3, label=f"calls, {kind}")
    ax2 = ax.twinx()
    ax2.step(
        [*x, len(x)],
        [*doc["agents_seen_per_interval"], doc["agents_seen_per_interval"][-1]],
        where="post",
        color="grey",
        linestyle="--",
        label="agents seen talking",
    )
    ax2.set_ylabel("agents seen talking (mean)")
    ax2.set_ylim(bottom=0)
    _interval_axis(ax, labels)
    ax.set_ylabel("calls per interval (mean)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    h1, n1 = ax.get_legend_handles_labels()
    h2, n2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, n1 + n2, fontsize=8, loc="upper right")
    ax.set_title(f"Arrivals by interval and day type ({len(doc['days'])} days)")
    arrivals = folder / "arrivals.png"
    fig.savefig(arrivals, dpi=110)
    plt.close(fig)

    kinds = sorted(talk_s, key=lambda t: -len(talk_s[t]))[:4]
    fig, axes = plt.subplots(
        1, len(kinds), figsize=(3.2 * len(kinds) + 1, 3.8), constrained_layout=True, squeeze=False
    )
    for ax, t in zip(axes[0], kinds, strict=True):
        v = np.asarray(talk_s[t])
        top = float(np.quantile(v, 0.99))
        ax.hist(v[v <= top], bins=40, density=True, color="tab:blue", alpha=0.6, label="log")
        fit = doc["talk"][t]
        mu, sigma = fit["lognormal_mu"], fit["lognormal_sigma"]
        grid = np.linspace(1, top, 300)
        pdf = np.exp(-((np.log(grid) - mu) ** 2) / (2 * sigma**2)) / (
            grid * sigma * math.sqrt(2 * math.pi)
        )
        ax.plot(grid, pdf, color="tab:red", label="lognormal fit")
        ax.set_title(f"{t}: {fit['calls']:,} calls, KS {fit['ks_distance']:.3f}", fontsize=9)
        ax.set_xlabel("talk time, s")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Talk time per call type (99 % of calls shown)")
    talk = folder / "talk.png"
    fig.savefig(talk, dpi=110)
    plt.close(fig)

    p = doc["patience"]
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    ax.step(p["km"]["t"], p["km"]["survival"], where="post", label="Kaplan-Meier")
    t_max = max(p["km"]["t"] or [1.0]) * 1.6
    grid = np.linspace(0, t_max, 200)
    ax.plot(
        grid,
        np.exp(-grid / p["exponential_mean_s"]),
        linestyle="--",
        label=f"exponential fit, mean {p['exponential_mean_s']:.0f} s",
    )
    s_end = p["km"]["survival"][-1] if p["km"]["survival"] else 1.0
    tail = grid[grid >= p["tail_from_s"]]
    ax.plot(
        tail,
        s_end * np.exp(-(tail - p["tail_from_s"]) / p["tail_mean_s"]),
        color="tab:red",
        label=f"tail used beyond {p['tail_from_s']:.0f} s",
    )
    ax.set_xlabel("seconds waited")
    ax.set_ylabel("share still willing to wait")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    ax.set_title(f"Patience: {p['queued']:,} calls queued, {p['abandoned']:,} abandoned")
    patience = folder / "patience.png"
    fig.savefig(patience, dpi=110)
    plt.close(fig)
    return [arrivals, talk, patience]


def compare_plots(folder: Path, doc: Mapping[str, Any]) -> list[Path]:
    """Observed against predicted: per day (with the 5-95 % band and Erlang A), and over
    the day's intervals (means over the days)."""
    import numpy as np

    plt = _pyplot()
    panels = (
        ("abandon_rate", "abandon rate"),
        ("asa_s", "ASA, s"),
        ("service_level", f"service level ({doc['sl_threshold_s']:g} s)"),
    )
    days = doc["per_day"]
    x = list(range(len(days)))
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 9), sharex=True, constrained_layout=True)
    for ax, (m, title) in zip(axes, panels, strict=True):
        obs = [r[m]["observed"] for r in days]
        pred = [r[m]["predicted"] for r in days]
        lo = [r[m]["band"][0] for r in days]
        hi = [r[m]["band"][1] for r in days]
        ax.fill_between(x, lo, hi, alpha=0.2, color="tab:blue", label="simulation 5-95 %")
        ax.plot(x, pred, "o-", color="tab:blue", markersize=3, label="simulation, mean")
        ax.plot(
            x,
            [r[m]["erlang_a"] for r in days],
            "s--",
            color="tab:orange",
            markersize=3,
            label="Erlang A",
        )
        ax.plot(x, obs, "D", color="black", markersize=4, label="log")
        s = doc["summary"][m]
        ax.set_title(f"{title}: MAE {s['mae']:.3g} (Erlang A {s['erlang_a_mae']:.3g})", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, ncol=4)
    axes[-1].set_xticks(
        x, [f"{r['day'][5:]} {r['weekday']}" for r in days], rotation=45, ha="right"
    )
    fig.suptitle(
        "Each logged day: observed against "
        + (
            "forecast (no day's own calls, talk or staffing)"
            if doc.get("forecast")
            else "predicted"
        )
    )
    per_day = folder / "days.png"
    fig.savefig(per_day, dpi=110)
    plt.close(fig)

    cells = doc["per_interval"]
    labels = sorted({c["interval_start"] for c in cells})
    xi = list(range(len(labels)))
    fig, axes = plt.subplots(1, len(panels), figsize=(15, 4.5), constrained_layout=True)
    for ax, (m, title) in zip(axes, panels, strict=True):

        def mean(key: str, m: str = m) -> list[float]:
            out = []
            for at in labels:
                v = [
                    c[m][key] if key not in {"lo", "hi"} else c[m]["band"][key == "hi"]
                    for c in cells
                    if c["interval_start"] == at
                ]
                v = [a for a in v if a is not None]
                out.append(float(np.mean(v)) if v else float("nan"))
            return out

        ax.fill_between(
            xi,
            mean("lo"),
            mean("hi"),
            alpha=0.2,
            color="tab:blue",
            label="simulation 5-95 % (mean)",
        )
        ax.plot(xi, mean("predicted"), color="tab:blue", label="simulation")
        ax.plot(xi, mean("erlang_a"), "--", color="tab:orange", label="Erlang A")
        ax.plot(xi, mean("observed"), "D", color="black", markersize=3, label="log")
        _interval_axis(ax, labels)
        ax.set_title(f"{title}, mean over the days", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    over_day = folder / "intervals.png"
    fig.savefig(over_day, dpi=110)
    plt.close(fig)
    return [per_day, over_day]
