"""The callsim command: in-process (main with argv) and as a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from callsim import __version__, core_compiled
from callsim.cli.app import main

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    build = "core compiled with mypyc" if core_compiled() else "pure-Python core"
    assert (code, out.strip()) == (0, f"callsim {__version__}, {build}")
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("erlang", "staff", "strategies"):
        assert command in out


def test_erlang_commands_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "erlang", "b", "--traffic-erl", "25", "--agents", "30", "--json")
    assert code == 0
    assert set(json.loads(out)) == {"model", "traffic_erl", "agents", "p_block"}
    args = [
        "--calls",
        "100",
        "--interval-min",
        "30",
        "--aht-s",
        "180",
        "--agents",
        "14",
        "--sl-threshold-s",
        "20",
        "--json",
    ]
    code, out, _ = run(capsys, "erlang", "c", *args)
    c = json.loads(out)
    assert set(c) == {
        "model",
        "traffic_erl",
        "agents",
        "p_wait",
        "service_level",
        "asa_s",
        "occupancy",
        "stable",
    }
    assert c["stable"] is True
    assert round(c["service_level"], 5) == 0.88835
    code, out, _ = run(capsys, "erlang", "a", *args, "--patience-s", "300")
    a = json.loads(out)
    # Erlang A is always stable: callers abandon
    assert set(c) - {"stable"} | {
        "p_abandon",
        "mean_wait_s",
        "service_level_answered",
        "mean_queue",
    } == set(a)
    code, out, _ = run(
        capsys,
        "erlang",
        "c",
        "--arrivals-per-hour",
        "200",
        "--aht-s",
        "180",
        "--agents",
        "14",
        "--json",
    )
    assert json.loads(out)["traffic_erl"] == pytest.approx(10)


def test_staff_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "staff",
        "--calls",
        "100",
        "--interval-min",
        "30",
        "--aht-s",
        "180",
        "--sl-target",
        "0.8",
        "--sl-threshold-s",
        "20",
        "--json",
    ]
    code, out, _ = run(capsys, *base)
    data = json.loads(out)
    assert code == 0
    assert data["agents"] == 14
    assert {
        "agents",
        "agents_fractional",
        "agents_scheduled",
        "service_level",
        "p_wait",
        "asa_s",
        "occupancy",
    } <= set(data)
    code, out, _ = run(
        capsys, *base, "--model", "a", "--patience-s", "300", "--max-abandon", "0.02"
    )
    assert "p_abandon" in json.loads(out)


def test_staff_forecast_writes_table_csv_json_and_plot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys,
        "staff",
        "--forecast",
        str(SCENARIOS / "bank-weekday-forecast.csv"),
        "--out",
        str(tmp_path),
    )
    assert code == 0, err
    assert "Staffing plan" in out
    assert "07:00" in out
    assert (tmp_path / "plan.png").stat().st_size > 10_000
    rows = (tmp_path / "plan.csv").read_text().splitlines()
    assert len(rows) == 35
    assert rows[0].startswith("interval_start,calls,aht_s,traffic_erl,agents")
    assert len(json.loads((tmp_path / "plan.json").read_text())["intervals"]) == 34


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["erlang", "c", "--calls", "-3", "--aht-s", "180", "--agents", "14"],
            "--calls: -3.0 is not a number >= 0",
        ),
        (["erlang", "c", "--calls", "3", "--aht-s", "abc", "--agents", "14"], "'--aht-s'"),
        (["erlang", "c", "--aht-s", "180", "--agents", "14"], "--calls/--arrivals-per-hour"),
        (
            ["staff", "--calls", "100", "--aht-s", "180", "--sl-target", "1.5"],
            "--sl-target: 1.5 is not within (0, 1)",
        ),
        (["staff", "--calls", "100", "--aht-s", "180", "--model", "b"], "--model: 'b'"),
        (["staff", "--forecast", "missing.csv"], "missing.csv: cannot read"),
        (["erlang", "c", "--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("Error: ")
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from callsim.errors import InputError

    with pytest.raises(InputError):
        main(["--debug", "staff", "--calls", "1", "--aht-s", "100", "--sl-target", "2"])


def test_strategies_lists_every_name(capsys: pytest.CaptureFixture[str]) -> None:
    from callsim.core import STRATEGIES

    code, out, _ = run(capsys, "strategies")
    assert code == 0
    assert all(name in out for name in STRATEGIES)


def test_subprocess_console_script(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "callsim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "callsim"]
    ok = subprocess.run(
        [*cmd, "erlang", "b", "--traffic-erl", "25", "--agents", "30", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["p_block"] == pytest.approx(0.0526, abs=1e-4)
    bad = subprocess.run(
        [*cmd, "staff", "--forecast", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: ")
    assert bad.stdout == ""


def test_piped_tables_keep_their_width(capsys: pytest.CaptureFixture[str]) -> None:
    """Into a file or a log a table is not squeezed into 80 columns (no wrapped cells)."""
    from callsim.cli.console import print_table

    columns = ["client", *(f"column number {i}" for i in range(10))]
    print_table("Wide", columns, [["Havn Pest Control AS", *range(10)]])
    out = capsys.readouterr().out
    assert "Havn Pest Control AS" in out
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) > 150


def test_terminal_tables_fit_its_width_titles_too() -> None:
    """On an 80-column terminal a table's long title goes on over lines (the calibrate
    fit report's titles are sentences): no line is wider than the terminal."""
    code = (
        "from callsim.cli.console import print_table\n"
        "print_table('Availability of the agents at work, per block of the day (fitted so "
        "the calibration days abandon as the log says)', ['figure', 'value'], "
        "[['calls that queued', '15,752']])"
    )
    env = {"PATH": "/usr/bin:/bin", "TTY_COMPATIBLE": "1", "COLUMNS": "80", "NO_COLOR": "1"}
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in shown.splitlines()]
    assert "15,752" in shown
    assert len(lines) >= 6  # the title's two lines and the table's
    assert max(len(line) for line in lines) <= 80, lines


def test_erlang_c_says_unstable_and_refuses_no_agents(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["erlang", "c", "--calls", "100", "--interval-min", "30", "--aht-s", "180"]
    code, out, _ = run(capsys, *base, "--agents", "10", "--json")
    assert code == 0
    assert json.loads(out)["stable"] is False  # 10 Erlangs on 10 agents
    code, out, _ = run(capsys, *base, "--agents", "10")
    assert "no: agents <= traffic" in out
    code, _, err = run(capsys, *base, "--agents", "0")
    assert (code, err) == (2, "Error: --agents: 0 is not a whole number >= 1\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["erlang", "c", "--calls", "100", "--aht-s", "180", "--agents", "1000000000"],
            "Error: --agents: 1,000,000,000 is more than the 1,000,000 agents callsim computes\n",
        ),
        (
            ["staff", "--calls", "1e12", "--aht-s", "180"],
            "Error: an offered load of 100,000,000,000 Erlangs needs more than the 1,000,000 "
            "agents callsim computes: check the arrival rate and aht_s\n",
        ),
        (
            ["run", "scenarios/erlang-c-twin.yaml", "-n", "1000000000", "--json"],
            "Error: --replications: 1000000000 is not from 1 to 10,000 (a confidence interval "
            "narrows as 1/sqrt(n): 400 replications already halve that of 100)\n",
        ),
    ],
)
def test_numbers_no_run_could_finish_are_refused_at_once(
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    code, _, err = run(capsys, *args)
    assert (code, err) == (2, message)


def test_staff_json_alone_writes_no_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forecast = Path(__file__).resolve().parent.parent / "scenarios" / "bank-weekday-forecast.csv"
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "staff", "--forecast", str(forecast), "--json")
    assert code == 0, err
    assert len(json.loads(out)["intervals"]) == 34
    assert list(tmp_path.iterdir()) == []
