"""``callsim run``, ``validate`` and ``schema``, in-process and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import run

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
TWIN = str(SCENARIOS / "erlang-c-twin.yaml")


def test_run_json_and_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(
        capsys,
        "run",
        TWIN,
        "-n",
        "2",
        "--workers",
        "1",
        "--seed",
        "5",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert code == 0, err
    summary = json.loads(out)
    for key in (
        "scenario",
        "seed",
        "replications",
        "calls_simulated",
        "totals",
        "queues",
        "scenario_hash",
        "callsim_version",
    ):
        assert key in summary
    for metric in (
        "offered",
        "answered",
        "abandoned",
        "service_level",
        "abandon_rate",
        "asa_s",
        "aht_s",
        "occupancy",
        "p_wait",
    ):
        assert set(summary["totals"][metric]) == {"mean", "ci95"}
        assert set(summary["queues"]["general"][metric]) == {"mean", "ci95"}
    assert (summary["seed"], summary["replications"]) == (5, 2)
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "summary.json",
        "intervals.csv",
        "agents.csv",
        "service_level.png",
        "occupancy.png",
        "waits.png",
    } <= names
    header = (tmp_path / "intervals.csv").read_text().splitlines()[0].split(",")
    for column in (
        "interval_start",
        "queue",
        "offered",
        "answered",
        "abandoned",
        "service_level",
        "asa_s",
        "aht_s",
        "occupancy",
        "agents_staffed",
    ):
        assert column in header


def test_run_table_and_no_plots(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, "run", TWIN, "-n", "2", "--workers", "1", "--out", str(tmp_path), "--no-plots"
    )
    assert code == 0
    assert "service_level" in out
    assert "±" in out
    assert not list(tmp_path.glob("*.png"))


def test_validate_and_schema(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "validate", TWIN)
    assert code == 0
    assert "ok" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text((SCENARIOS / "erlang-c-twin.yaml").read_text().replace("count: 55", "count: -1"))
    code, _, err = run(capsys, "validate", str(bad))
    assert code == 2
    assert err == f"Error: {bad}: agents[0].count: expected > 0 (got -1)\n"
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out)["title"] == "Scenario"


def test_run_subprocess(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "callsim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "callsim"]
    done = subprocess.run(
        [*cmd, "run", TWIN, "-n", "2", "--quiet", "--no-plots", "--out", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["replications"] == 2
    missing = subprocess.run(
        [*cmd, "run", str(tmp_path / "none.yaml")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("Error: ")
    assert "cannot read" in missing.stderr


def test_schema_and_strategies_subprocess() -> None:
    exe = Path(sys.executable).parent / "callsim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "callsim"]
    schema = subprocess.run([*cmd, "schema"], capture_output=True, text=True, check=False)
    assert schema.returncode == 0
    assert "clients" in json.loads(schema.stdout)["properties"]
    listed = subprocess.run([*cmd, "strategies"], capture_output=True, text=True, check=False)
    assert listed.returncode == 0
    assert "fewest_skills_first" in listed.stdout


def test_run_answering_service_shows_the_clients_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = str(SCENARIOS / "answering-service.yaml")
    code, out, err = run(capsys, "run", scenario, "-n", "1", "--no-plots", "--out", str(tmp_path))
    assert code == 0, err
    assert "Clients: mean per simulated day" in out
    assert "Fjord Dental Clinic" in out
    header = (tmp_path / "clients.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["client", "calls", "answered", "abandoned"]
    assert {"note", "forwarded_target_1", "forward_failed", "deflected", "message"} <= set(header)


def test_a_reused_folder_holds_only_this_runs_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, _, err = run(capsys, "run", TWIN, "-n", "1", "--workers", "1", "--out", str(out))
    assert code == 0, err
    assert (out / "service_level.png").exists()
    (out / "notes.txt").write_text("mine")
    code, _, err = run(
        capsys, "run", TWIN, "-n", "1", "--workers", "1", "--out", str(out), "--no-plots"
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "agents.csv",
        "intervals.csv",
        "notes.txt",  # not callsim's: left alone
        "summary.json",
    ]


def test_json_without_out_writes_no_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "run", TWIN, "-n", "1", "--workers", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["replications"] == 1
    assert list(tmp_path.iterdir()) == []


def test_tables_fit_80_columns_and_help_shows_flags_as_flags() -> None:
    from callsim.cli.console import fit_columns

    columns = ["metric", *(f"queue-{i}" for i in range(6))]
    cells = [["service_level", *("0.9273 ± 0.1011" for _ in range(6))]]
    chunks = fit_columns(columns, cells, 80)
    assert [len(c) for c in chunks] == [3, 3]  # 16 + 3 x 18 + 1 = 71 <= 80 each
    assert sorted(i for c in chunks for i in c) == list(range(1, 7))
    help_text = subprocess.run(
        [sys.executable, "-m", "callsim", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    ).stdout
    assert "--json" in help_text
    assert "<bool>" not in help_text
    assert max(len(line) for line in help_text.splitlines()) <= 80


def test_trace_and_queue_log_of_one_replication(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from callsim.core import Outcome
    from callsim.scenario import load_scenario
    from callsim.sim.engine import Replication
    from callsim.sim.plan import build_plan

    skills = str(SCENARIOS / "skills-centre.yaml")
    args = ("run", skills, "-n", "1", "--seed", "4", "--no-plots", "--out", str(tmp_path))
    code, _, err = run(capsys, *args, "--trace", "--queue-log")
    assert code == 0, err
    records = Replication(build_plan(load_scenario(skills)), 4, 0).run()
    answered = sum(r.outcome is Outcome.ANSWERED for r in records)
    lines = (tmp_path / "queue_log").read_text().splitlines()
    events = [line.split("|")[4] for line in lines]
    assert events.count("CONNECT") == answered  # the same replication, the same draws
    assert events.count("ENTERQUEUE") >= len(records) - events.count("JOINEMPTY")
    decisions = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    assert len(decisions) >= answered
    for d in decisions:
        assert d["candidates_total"] >= len(d["candidates"])
        assert d["chosen"]
        assert d["rule"]


def test_a_negative_seed_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "run", TWIN, "-n", "1", "--seed", "-5", "--json")
    assert (code, err) == (2, "Error: --seed: -5 is not a whole number from 0 to 2**63-1\n")
