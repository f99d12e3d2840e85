"""The email backlog over the day as a PNG, from a simulated scenario with emails: the
count of emails arrived and not yet answered at each interval's end, not a share (no
cut at 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callsim.analytics.channels import channel_document
from callsim.scenario import load_scenario
from callsim.sim.run import simulate
from tests.live_server import ROOT

pytest.importorskip("matplotlib", reason="matplotlib is not installed")


def test_the_email_backlog_is_drawn_as_counts_over_the_day(tmp_path: Path) -> None:
    from matplotlib.image import imread

    from callsim.report.plot import plot_email_backlog

    scenario = load_scenario(ROOT / "scenarios" / "channels.yaml")
    result = simulate(scenario, replications=3, seed=1, workers=1).channels
    assert result is not None
    backlog = [(e.mean, e.ci95) for e in result.backlog]
    assert max(m for m, _ in backlog if m is not None) > 1  # counts: a share's cut would show
    labels = [f"{8 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(len(backlog))]
    path = plot_email_backlog(tmp_path / "email_backlog.png", labels, result, title="channels")
    image = imread(path)
    assert image.shape[:2] == (495, 1210)  # 11 x 4.5 inches at 110 dpi
    assert len(channel_document(result)["email_backlog"]) == len(backlog)
