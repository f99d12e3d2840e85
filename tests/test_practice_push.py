"""``practice push`` against the live service (in this process, on a hand-moved clock):
each trainee gets their own calls, and the report is what the service says now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callsim.cli.app import main
from callsim.practice import practice_set
from callsim.scenario import load_scenario
from tests.live_server import clocked

pytestmark = [pytest.mark.slow, pytest.mark.live]

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"
SET = ["--count", "2", "--seed", "3", "--client", "Nord Plumbing", "--difficulty", "easy"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_the_same_set_pushed_to_a_second_trainee_rings_them_and_reports_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = practice_set(load_scenario(SCENARIO), count=2, seed=3, client="Nord Plumbing",
                         difficulty="easy")["cards"]  # fmt: skip
    assert all(c["expected"]["result"] != "blocked" for c in cards)
    with clocked(SCENARIO, str(tmp_path / "push.db")) as s:
        trainer = s.key("trainer")
        ana = s.key("agent", agent="bilingual-1")
        s.ok("POST", "/v1/agents/bilingual-1/login", ana)

        def push(agent: str) -> list[dict]:
            code, out, err = run(capsys, "practice", "push", str(SCENARIO), "--host", s.url,
                                 "--key", trainer, "--agent", agent, "--rate-per-min", "600",
                                 *SET, "--json")  # fmt: skip
            assert code == 0, err
            return json.loads(out)

        first = push("bilingual-1")
        assert [r["card"] for r in first] == [c["id"] for c in cards]
        # bilingual-1 takes the first call and completes it
        offers = s.ok("GET", "/v1/agents/bilingual-1/offers", ana, params={"wait_s": 5})
        assert offers[0]["call_id"] == first[0]["call_id"]
        s.ok("POST", f"/v1/offers/{offers[0]['offer_id']}/accept", ana)
        s.ok("POST", f"/v1/calls/{first[0]['call_id']}/complete", ana,
             json={"note": "x", "callback_number": cards[0]["screen_pop"]["caller_number"]})  # fmt: skip
        # the same set to a second trainee: new calls, for them
        second = push("bilingual-2")
        assert [r["card"] for r in second] == [c["id"] for c in cards]
        assert not {r["call_id"] for r in second} & {r["call_id"] for r in first}
        for r in second:
            view = s.ok("GET", f"/v1/calls/{r['call_id']}")
            assert view["practice"]["agent"] == "bilingual-2"
            assert r["status"] == view["status"]
        # the same set to the first trainee again: the same calls, as they are now
        again = push("bilingual-1")
        assert [r["call_id"] for r in again] == [r["call_id"] for r in first]
        assert again[0]["status"] == "wrap_up"
        assert again[0]["status"] == s.ok("GET", f"/v1/calls/{first[0]['call_id']}")["status"]


def test_a_known_caller_on_a_new_number_is_known_by_another_number_on_the_desk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--count", "2", "--seed", "1", "--client", "Nord Plumbing", "--difficulty", "hard"]
    cards = practice_set(load_scenario(SCENARIO), count=2, seed=1, client="Nord Plumbing",
                         difficulty="hard")["cards"]  # fmt: skip
    [moved] = [c for c in cards if c["caller"]["status"] == "known_new_number"]
    [old] = moved["caller"]["known_numbers"]
    assert old != moved["caller"]["number"]
    with clocked(SCENARIO, str(tmp_path / "moved.db")) as s:
        trainer = s.key("trainer")
        code, out, err = run(capsys, "practice", "push", str(SCENARIO), "--host", s.url, "--key",
                             trainer, "--rate-per-min", "600", *args, "--json")  # fmt: skip
        assert code == 0, err
        [contact] = s.ok("GET", "/v1/contacts", params={"number": old})
        assert contact["name"] == moved["caller"]["name"]
        # the new number reaches the desk as a new caller (the service's placeholder)
        [new] = s.ok("GET", "/v1/contacts", params={"number": moved["caller"]["number"]})
        assert new["name"] == ""
        assert new["contact_id"] != contact["contact_id"]
        [row] = [r for r in json.loads(out) if r["card"] == moved["id"]]
        assert s.ok("GET", f"/v1/calls/{row['call_id']}")["screen_pop"]["new_caller"]
