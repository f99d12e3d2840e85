"""``callsim staff`` by Erlang says when its figures do not hold for a scenario's chats:
agents who hold k > 1 chats at once have no closed form (k = 1 is Erlang A)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def staff(capsys: pytest.CaptureFixture[str], scenario: Path) -> tuple[dict[str, Any], str]:
    from callsim.cli.app import main

    with pytest.raises(SystemExit) as exc:
        main(["staff", str(scenario), "--json"])
    out, err = capsys.readouterr()
    assert not exc.value.code, err
    return json.loads(out), err


def test_erlang_staffing_warns_when_agents_hold_several_chats(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc, err = staff(capsys, ROOT / "scenarios" / "channels.yaml")  # chats: 3
    assert "hold up to 3 chats at once ('chat'): Erlang has no closed form" in err
    assert err.count("\n") == 1  # one line
    assert doc["warning"].startswith("agents hold up to 3 chats")
    one = yaml.safe_load((ROOT / "scenarios" / "channels.yaml").read_text())
    for group in one["agents"]:
        group["chats"] = 1  # a chat takes its agent whole: Erlang A holds
    path = tmp_path / "one-chat.yaml"
    path.write_text(yaml.safe_dump(one))
    doc, err = staff(capsys, path)
    assert "chats at once" not in err
    assert "warning" not in doc
