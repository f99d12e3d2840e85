"""What ``callsim run`` loads (issue 28: start-up is part of what the user waits for): a
command module is imported when its command runs, so a simulation never loads the
forecaster (statsforecast, fugue), the rosterer (OR-Tools), scipy or the plotting
library when it draws no plots; --help lists every command, importing none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer

from callsim.cli.app import LAZY, app, listed_help

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "statsforecast", "fugue", "ortools", "matplotlib", "pandas", "sqlalchemy")


def _loaded(argv: list[str]) -> set[str]:
    """The top-level packages loaded by ``callsim ARGV`` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from callsim.cli.app import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_run_loads_no_module_of_the_other_commands(tmp_path: Path) -> None:
    scenario = str(ROOT / "scenarios" / "erlang-c-twin.yaml")
    args = ["-n", "1", "--workers", "1", "--no-plots", "--quiet", "--out", str(tmp_path)]
    loaded = _loaded(["run", scenario, *args])
    assert "simpy" in loaded  # it did simulate
    assert (tmp_path / "summary.json").exists()
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "rich" not in loaded  # quiet: no table, no bar (rich is 54 modules, ~2 MB)


def test_help_lists_every_command_in_its_order() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "callsim", "--help"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    listed = [
        line.split()[1]
        for line in done.stdout.splitlines()
        if line.startswith("│ ") and len(line.split()) > 2 and not line.split()[1].startswith("-")
        and line[2] != " "
    ]  # fmt: skip
    assert listed == [
        "strategies", "calibrate", "compare", "forecast", "staff", "roster", "intraday",
        "load", "serve", "run", "validate", "schema", "sweep", "erlang", "practice", "keys",
    ]  # fmt: skip


def test_help_lists_every_command_without_importing_one() -> None:
    """``callsim --help`` read each command's help from its module's source: it took
    1.8-2.0 s and 134 MB importing them all (the intraday command alone loads the
    forecaster), 0.3 s and 32 MB without."""
    loaded = _loaded(["--help"])
    assert loaded.isdisjoint({*HEAVY, "numpy", "pydantic", "simpy"}), sorted(loaded)


def test_each_listed_help_is_its_commands_own() -> None:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    for name, (module, function) in LAZY.items():
        command = root.get_command(ctx, name)  # imported: not listing
        assert listed_help(module, function) == command.help, name
