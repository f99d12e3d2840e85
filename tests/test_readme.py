"""README commands are true: the Quickstart, CI's test command and every usage example."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
LINES = [line.strip() for block in BLOCKS for line in block.splitlines() if line.strip()]


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [c.strip() for c in re.findall(r"```sh\n(.*?)```", quick, flags=re.S)]
    assert len(commands) == 2
    install_run, test = commands
    assert "pip install" in install_run
    assert "callsim " in install_run
    assert test in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("line", [line for line in LINES if line.startswith("callsim ")])
def test_usage_examples_run(line: str, tmp_path: Path) -> None:
    args = shlex.split(line)[1:]
    if "--out" in args:  # keep runs out of the repository's results/
        i = args.index("--out") + 1
        args[i] = str(tmp_path / ("out.yaml" if args[i].endswith(".yaml") else "out"))
    elif args[0] in ("run", "staff", "sweep", "compare"):
        args += ["--out", str(tmp_path / "out")]
    if args[0] == "calibrate":
        args += ["--report", str(tmp_path / "report")]
    simulates = args[0] in ("run", "sweep", "calibrate", "compare") or "--simulate" in args
    if simulates and not {"-n", "--replications"} & set(args):
        args += ["-n", "3"]  # the command works; its statistics are other tests' business
    exe = Path(sys.executable).parent / "callsim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "callsim"]
    result = subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_quickstart_main_job_runs(tmp_path: Path) -> None:
    quick = README.split("## Quickstart", 1)[1]
    first = re.findall(r"```sh\n(.*?)```", quick, flags=re.S)[0].strip()
    job = first.split("&&")[-1].strip()  # the command after the install steps
    args = shlex.split(job)[1:]
    exe = Path(sys.executable).parent / "callsim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "callsim"]
    result = subprocess.run(
        [*cmd, *args, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
