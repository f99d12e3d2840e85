"""The scenario check refuses two employees of one client with the same name (accents
and case ignored, as the desk finds them): a caller asks for a name, and namesakes with
different handling gave self-contradicting practice cards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callsim.errors import ScenarioError
from callsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"
LAST = "      - {name: Anne Larsen, department: accounting}\n"  # Bergen Law Firm's 6th


def namesake(tmp_path: Path, name: str) -> Path:
    text = SCENARIO.read_text()
    assert text.count(LAST) == 1
    path = tmp_path / "dup.yaml"
    path.write_text(text.replace(LAST, f"      - {{name: {name}, department: accounting}}\n"))
    return path


@pytest.mark.parametrize("name", ["Kari Moen", "kari MOEN", "Kåri Moen"])
def test_two_employees_of_a_client_with_one_name_are_refused(tmp_path: Path, name: str) -> None:
    path = namesake(tmp_path, name)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "clients[2].employees[5].name" in str(info.value)
    for args in (["validate", str(path), "--strict"], ["practice", "generate", str(path)]):
        run = subprocess.run([sys.executable, "-m", "callsim", *args], capture_output=True,
                             text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        [line] = run.stderr.strip().splitlines()
        assert line == (
            f"Error: {path}: clients[2].employees[5].name: {name!r} is also the name of "
            "clients[2].employees[1] ('Kari Moen') of 'Bergen Law Firm'; expected a name no "
            "other employee of the client has, accents and case ignored "
            f"(e.g. '{name} (accounting)')"
        )


def test_the_shipped_scenarios_have_no_namesakes() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        load_scenario(path)  # raises on a namesake
