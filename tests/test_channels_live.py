"""Chats and emails through the live service: the same core routes them, so a chat is a
call whose agent may hold several, pushed to the agent at once (no offer to accept), and
an email waits while a call waits for the same agent. A real uvicorn on loopback with a
real SQLite file, on a clock the test moves (``tests/live_server.clocked``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_server import clocked

pytestmark = [pytest.mark.slow, pytest.mark.live]

SCENARIO = """
name: live-channels
horizon: {start: "00:00", end: "24:00", interval_min: 60}
queues:
  - {name: phone, skills: [service]}
  - {name: chat, skills: [service], channel: chat}
  - {name: email, skills: [service], channel: email}
calls:
  - {queue: phone, arrivals: {per_hour: 10}, talk_s: {dist: exponential, mean: 120}}
  - {queue: chat, arrivals: {per_hour: 10}, talk_s: {dist: exponential, mean: 120}}
  - {queue: email, arrivals: {per_hour: 10}, talk_s: {dist: exponential, mean: 120}}
agents:
  - {name: desk, count: 1, skills: [service], chats: 2}
"""


def test_an_agent_holds_two_chats_and_takes_the_waiting_call_before_the_email(
    tmp_path: Path,
) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(SCENARIO)
    with clocked(path, str(tmp_path / "live.db")) as s:
        key = s.key("agent", agent="desk-1")
        s.ok("POST", "/v1/agents/desk-1/login", key)
        first = s.ok("POST", "/v1/calls", json={"ani": "+4790000001", "queue": "chat"})
        second = s.ok("POST", "/v1/calls", json={"ani": "+4790000002", "queue": "chat"})
        third = s.ok("POST", "/v1/calls", json={"ani": "+4790000003", "queue": "chat"})
        assert [c["status"] for c in (first, second, third)] == ["talking", "talking", "waiting"]
        assert first["agent"] == second["agent"] == "desk-1"
        desk = s.ok("GET", "/v1/agents/desk-1", key)
        assert desk["chat_ids"] == [first["call_id"], second["call_id"]]
        assert (desk["state"], desk["call_id"]) == ("talking", second["call_id"])
        email = s.ok("POST", "/v1/calls", json={"ani": "+4790000004", "queue": "email"})
        call = s.ok("POST", "/v1/calls", json={"ani": "+4790000005", "queue": "phone"})
        assert (email["status"], call["status"]) == ("waiting", "waiting")
        s.advance(30.0)
        # one chat ends: its place goes to the waiting chat at once (no wrap-up)
        done = s.ok("POST", f"/v1/calls/{first['call_id']}/complete", key, json={})
        assert (done["outcome"], done["talk_s"], done["wrap_up_s"]) == ("answered", 30.0, 0.0)
        assert s.ok("GET", f"/v1/calls/{third['call_id']}")["status"] == "talking"
        s.ok("POST", f"/v1/calls/{second['call_id']}/complete", key, json={})
        s.ok("POST", f"/v1/calls/{third['call_id']}/complete", key, json={})
        # chats over: the call before the email, which waits (deferrable work)
        assert s.ok("GET", f"/v1/calls/{call['call_id']}")["status"] == "ringing"
        assert s.ok("GET", f"/v1/calls/{email['call_id']}")["status"] == "waiting"
        offers = s.ok("GET", "/v1/agents/desk-1/offers", key, params={"wait_s": 5})
        s.ok("POST", f"/v1/offers/{offers[0]['offer_id']}/accept", key)
        s.advance(60.0)
        s.ok("POST", f"/v1/calls/{call['call_id']}/complete", key, json={})
        s.advance(1.0)  # the phone queue's wrap-up (none here) is over
        # nothing else waits: the email is pushed to the agent, no offer to accept
        assert s.ok("GET", f"/v1/calls/{email['call_id']}")["status"] == "talking"
        assert s.ok("GET", "/v1/agents/desk-1", key)["call_id"] == email["call_id"]


def test_an_agent_holding_two_chats_is_one_agent_busy_in_the_live_statistics(
    tmp_path: Path,
) -> None:
    """Two chats held together for 60 s of 100 s staffed: the agent was busy 60 s (the
    union of the chats' time, as the per-channel table counts), not 120 s."""
    path = tmp_path / "channels.yaml"
    path.write_text(SCENARIO)
    with clocked(path, str(tmp_path / "live.db")) as s:
        key = s.key("agent", agent="desk-1")
        s.ok("POST", "/v1/agents/desk-1/login", key)
        chats = [
            s.ok("POST", "/v1/calls", json={"ani": f"+479000000{i}", "queue": "chat"})["call_id"]
            for i in (1, 2)
        ]
        s.advance(40.0)
        s.ok("POST", f"/v1/calls/{chats[0]}/complete", key, json={})
        s.advance(20.0)
        s.ok("POST", f"/v1/calls/{chats[1]}/complete", key, json={})
        s.advance(40.0)
        rows = [r for r in s.ok("GET", "/v1/stats/intervals")["intervals"] if r["queue"] == "chat"]
        interval_s = s.ok("GET", "/v1/stats/intervals")["interval_min"] * 60
        staffed = sum(r["agents_staffed"] * interval_s for r in rows)
        busy = sum(r["occupancy"] * r["agents_staffed"] * interval_s for r in rows)
        assert sum(r["answered"] for r in rows) == 2
        # two chats at once: Erlang A (one chat per agent) is no prediction for them
        assert [r["predicted"] for r in rows if r["offered"]] == [None]
        # agents_staffed is rounded to 3 digits: to 3.6 s of an hour
        assert staffed == pytest.approx(100.0, abs=2.0)
        assert busy == pytest.approx(60.0, abs=2.0)  # not 100 s: each chat's talk counted
        # the day per channel, as callsim run's per-channel table counts: the email
        # judged by its due time (24 h here), occupancy of all staffed time
        email = s.ok("POST", "/v1/calls", json={"ani": "+4790000009", "queue": "email"})
        assert email["status"] == "talking"  # nothing waits: pushed to the idle agent
        s.advance(10.0)
        s.ok("POST", f"/v1/calls/{email['call_id']}/complete", key, json={})
        channels = s.ok("GET", "/v1/stats/intervals")["channels"]
        assert set(channels) == {"voice", "chat", "email"}
        assert (channels["voice"]["offered"], channels["voice"]["service_level"]) == (0, None)
        chat, mail = channels["chat"], channels["email"]
        assert (chat["offered"], chat["answered"], chat["service_level"]) == (2, 2, 1.0)
        assert chat["occupancy"] == pytest.approx(60.0 / 110.0, abs=1e-6)
        assert (mail["offered"], mail["service_level"], mail["abandon_rate"]) == (1, 1.0, 0.0)
        assert mail["occupancy"] == pytest.approx(10.0 / 110.0, abs=1e-6)
