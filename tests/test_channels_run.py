"""Per-channel results from the days ``simulate`` runs (each day once, whichever executor
runs it), occupancy with an agent's overlapping chats counted once, and the email
backlog's PNG from ``callsim run``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from callsim.analytics.metrics import Frame, reduce_replication
from callsim.analytics.precision import parse_precision
from callsim.core import CallRecord, Outcome, StaffedSpan
from callsim.scenario import load_scenario
from callsim.sim.run import simulate

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ROOT / "scenarios" / "channels.yaml"


def test_the_per_channel_figures_come_from_simulates_days_on_any_executor() -> None:
    scenario = load_scenario(CHANNELS)
    here = simulate(scenario, replications=3, seed=5, workers=1)
    spread = simulate(scenario, replications=3, seed=5, workers=2)
    assert here.channels is not None
    assert here.channels == spread.channels  # carried back by the worker processes
    assert here.channels.replications == 3
    precise = simulate(
        scenario, replications=2, seed=5, workers=1, precision=parse_precision("0.1%"),
        max_replications=4,
    )  # fmt: skip
    assert precise.stats.replications == 4  # the cap: every day the stopping rule added
    assert precise.channels is not None
    assert precise.channels.replications == 4
    voice = simulate(load_scenario(ROOT / "scenarios" / "erlang-c-twin.yaml"), replications=2,
                     seed=5, workers=1)  # fmt: skip
    assert voice.channels is None


def test_occupancy_counts_an_agent_holding_two_chats_as_one_busy_agent() -> None:
    result = simulate(load_scenario(CHANNELS), replications=4, seed=1, workers=1)
    assert result.channels is not None
    total = result.stats.totals.occupancy.mean
    assert total is not None
    assert total <= 1.0  # it was 1.11: each of an agent's chats counted apart
    by_channel = [c.occupancy.mean or 0.0 for c in result.channels.channels]
    assert total == pytest.approx(sum(by_channel), rel=1e-9)  # the channels add up
    assert all((q.kpis.occupancy.mean or 0.0) <= 1.0 for q in result.stats.queues.values())
    assert all((r.occupancy or 0.0) <= 1.0 + 1e-9 for r in result.interval_rows)


def contact(n: int, queue: str, agent: str, start: float, talk: float) -> CallRecord:
    return CallRecord(
        call=n, queue=queue, final_queue=queue, ani="", dnis="", priority=0, arrival_s=start,
        queued_s=start, offers=(), answer_s=start, end_s=start + talk,
        outcome=Outcome.ANSWERED, agent=agent, wait_s=0.0, ring_s=0.0, talk_s=talk,
        wrap_up_s=0.0, ended_by=None,
    )  # fmt: skip


def test_the_reduction_merges_overlapping_chats_only_when_told_which_queues_hold_them() -> None:
    frame = Frame(0.0, 100.0, 2, ("chat", "phone"), ("ann",), 0, 20.0, 0.0)
    records = [
        contact(0, "chat", "ann", 0.0, 60.0),
        contact(1, "chat", "ann", 10.0, 30.0),  # inside the first
        contact(2, "chat", "ann", 50.0, 70.0),  # overlaps it: ann busy 0-120
        contact(3, "phone", "ann", 150.0, 30.0),
    ]
    spans = [StaffedSpan("ann", ("chat", "phone"), 0.0, 200.0)]
    merged = reduce_replication(frame, records, spans, 0, held=np.array([True, False]))
    assert merged.busy_total_s.tolist() == [100.0, 50.0]  # 0-120 and 150-180
    assert merged.agent_busy_s.tolist() == [150.0]
    assert merged.agent_talk_s.tolist() == [190.0]  # each chat's talk, as before
    apart = reduce_replication(frame, records, spans, 0)  # calls: never merged
    assert apart.busy_total_s.tolist() == [140.0, 50.0]


def test_callsim_run_draws_the_email_backlog_and_clears_a_reused_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    from callsim.cli.app import main

    out = tmp_path / "out"

    def run(scenario: Path) -> None:
        with pytest.raises(SystemExit) as exc:
            main(["run", str(scenario), "-n", "2", "--workers", "1", "--quiet", "--out",
                  str(out)])  # fmt: skip
        assert not exc.value.code, capsys.readouterr().err

    run(CHANNELS)
    assert (out / "email_backlog.png").stat().st_size > 10_000
    doc = json.loads((out / "channels.json").read_text())
    assert doc["replications"] == 2
    run(ROOT / "scenarios" / "erlang-c-twin.yaml")  # voice only: no channel files left
    assert not (out / "email_backlog.png").exists()
    assert not (out / "channels.json").exists()
