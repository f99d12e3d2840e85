"""Channels: chat with concurrency, email as deferrable work.

Against the closed form where one exists (a chat-only centre whose agents hold one chat
at a time is M/M/c+M: Erlang A), and as properties elsewhere: an agent's chats never
exceed its capacity, an agent holding a chat holds nothing else, an email never starts
while a call or chat its agent could take waits, emails never abandon."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from callsim.analytics.channels import ChannelResults
from callsim.analytics.erlang import erlang_a
from callsim.core import (
    Acd,
    AcdConfig,
    AgentConfig,
    AgentLoggedIn,
    AgentPaused,
    AgentReady,
    AgentState,
    CallArrived,
    CallEnded,
    CallerHungUp,
    Channel,
    Connect,
    Outcome,
    QueueConfig,
    RoutingConfig,
)
from callsim.errors import ConfigError, ScenarioError
from callsim.scenario import Scenario, load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan
from callsim.sim.run import simulate
from callsim.sim.world import chat_talk_s

ROOT = Path(__file__).resolve().parent.parent
T975 = {10: 2.262}  # Student's t, 0.975, 9 degrees of freedom


def per_channel(scenario: Scenario, *, replications: int, seed: int) -> ChannelResults:
    """The per-channel results of ``simulate``'s days."""
    result = simulate(scenario, replications=replications, seed=seed, workers=1)
    assert result.channels is not None
    return result.channels


def chat_only(tmp_path: Path, chats: int, agents: int) -> Path:
    doc: dict[str, Any] = {
        "name": "chat-only",
        "horizon": {"start": "08:00", "end": "16:00", "warmup_min": 60},
        "service_level": {"sl_threshold_s": 20},
        "queues": [{"name": "chat", "skills": ["chat"], "channel": "chat"}],
        "calls": [
            {
                "queue": "chat",
                "arrivals": {"per_hour": 600},
                "talk_s": {"dist": "exponential", "mean": 240},
                "patience_s": {"dist": "exponential", "mean": 180},
            }
        ],
        "agents": [{"name": "team", "count": agents, "skills": ["chat"], "chats": chats}],
    }
    path = tmp_path / "chat.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_chat_only_centre_with_one_chat_per_agent_matches_erlang_a(tmp_path: Path) -> None:
    """k = 1: each chat takes its agent whole, pushed at once: M/M/c+M."""
    n = 10
    result = per_channel(load_scenario(chat_only(tmp_path, 1, 40)), replications=n, seed=3)
    (chat,) = result.channels
    exact = erlang_a(600 / 3600, 240, 180, 40, 20)
    for name, value in (
        ("service_level", exact.service_level),
        ("abandon_rate", exact.p_abandon),
        ("asa_s", exact.asa_s),
    ):
        est = getattr(chat, name)
        se = est.ci95 / T975[n]
        assert abs(est.mean - value) <= 3 * se, f"{name}: {est.mean} ± {est.ci95} vs {value}"


def test_holding_three_chats_serves_what_one_chat_at_a_time_cannot(tmp_path: Path) -> None:
    """The same 30 agents: one chat at a time loses callers, three at a time (no
    slowdown) hardly any: the capacity is used."""
    one = per_channel(load_scenario(chat_only(tmp_path, 1, 30)), replications=3, seed=1)
    three = per_channel(load_scenario(chat_only(tmp_path, 3, 30)), replications=3, seed=1)
    assert one.channels[0].abandon_rate.mean > 0.1
    assert three.channels[0].abandon_rate.mean < 0.01


def test_a_chats_handle_time_grows_with_the_chats_held() -> None:
    assert chat_talk_s(300.0, 1, 0.25) == 300.0
    assert chat_talk_s(300.0, 3, 0.25) == 450.0


def test_the_shipped_channels_scenario_reports_every_channel() -> None:
    result = per_channel(
        load_scenario(ROOT / "scenarios" / "channels.yaml"), replications=2, seed=1
    )
    assert [c.channel for c in result.channels] == [Channel.VOICE, Channel.CHAT, Channel.EMAIL]
    assert len(result.backlog) == 16  # half hours of 08:00-16:00
    for c in result.channels:
        assert (c.offered.mean or 0) > 0


def test_emails_never_abandon_and_no_chat_has_wrap_up() -> None:
    plan = build_plan(load_scenario(ROOT / "scenarios" / "channels.yaml"))
    records = Replication(plan, 5, 0).run()
    email = [r for r in records if r.queue == "email"]
    chat = [r for r in records if r.queue == "chat" and r.outcome is Outcome.ANSWERED]
    assert email
    assert chat
    assert all(r.outcome is not Outcome.ABANDONED for r in email)
    assert all(r.wrap_up_s == 0.0 for r in chat)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["calls"][2].update(patience_s={"dist": "exponential", "mean": 60}),
            "calls[2].patience_s: 'email' is an email queue: emails never abandon",
        ),
        (
            lambda d: d["calls"][1].update(wrap_up_s={"dist": "constant", "value": 30}),
            "calls[1].wrap_up_s: 'chat' is a chat queue: chats have no wrap-up",
        ),
        (lambda d: d["queues"][0].update(slowdown=0.5), "queues[0].slowdown: is for chat"),
        (lambda d: d["queues"][1].update(due_h=2), "queues[1].due_h: is for email queues only"),
        (
            lambda d: d["queues"][0].update(overflow={"after_s": 30, "to": ["chat"]}),
            "queues[0].overflow.to: 'chat' is a chat queue, not voice",
        ),
        (lambda d: d["queues"][1].update(channel="fax"), "queues[1].channel"),
    ],
)
def test_a_scenario_that_mixes_channels_wrongly_is_refused(
    tmp_path: Path, edit: Any, message: str
) -> None:
    doc = yaml.safe_load((ROOT / "scenarios" / "channels.yaml").read_text())
    edit(doc)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(path)


def test_the_core_refuses_moves_across_channels_and_no_chat_capacity() -> None:
    voice = QueueConfig("phone", ("s",), overflow_to=("chat",), overflow_after_s=5)
    chat = QueueConfig("chat", ("s",), channel=Channel.CHAT)
    with pytest.raises(ConfigError, match="'chat' is a chat queue, not voice"):
        Acd(AcdConfig((voice, chat)))
    agent = AgentConfig("a", {"s": 1}, chats=0)
    with pytest.raises(ConfigError, match=r"agents\[0\].chats: 0 is not >= 1"):
        Acd(AcdConfig((chat,), (agent,)))


QUEUES = (
    QueueConfig("phone", ("s",)),
    QueueConfig("chat", ("s",), channel=Channel.CHAT),
    QueueConfig("email", ("s",), channel=Channel.EMAIL, wrap_up_s=None),
    QueueConfig("chat-b", ("b",), channel=Channel.CHAT),
)
SKILLS = ({"s": 1}, {"s": 1, "b": 1}, {"b": 1})

events = st.lists(
    st.tuples(
        st.sampled_from(["arrive", "arrive", "end", "end", "hang_up", "ready", "pause"]),
        st.integers(0, 3),
        st.integers(0, 40),
        st.floats(0.0, 30.0),
    ),
    min_size=30,
    max_size=150,
)


@settings(max_examples=150, deadline=None)
@given(events, st.lists(st.integers(1, 3), min_size=4, max_size=4), st.integers(0, 2**16))
def test_chats_within_capacity_nothing_beside_them_and_email_only_when_nothing_waits(
    steps: list[tuple[str, int, int, float]], capacity: list[int], seed: int
) -> None:
    agents = tuple(AgentConfig(f"a{i}", SKILLS[i % 3], chats=capacity[i]) for i in range(4))
    acd = Acd(AcdConfig(QUEUES, agents, RoutingConfig(auto_answer=True)), random.Random(seed))
    now = 0.0
    for a in agents:
        acd.handle(AgentLoggedIn(a.name), now)
    channel = {q.name: q.channel for q in QUEUES}
    queue_of: dict[int, str] = {}
    next_id = 0
    for kind, which, pick, dt in steps:
        now += dt
        agent = agents[which].name
        if kind == "arrive":
            queue_of[next_id] = QUEUES[pick % 4].name
            out = acd.handle(CallArrived(next_id, queue_of[next_id]), now)
            next_id += 1
        elif kind == "end":  # the agent ends what it talks in (its latest chat)
            held = acd.agent_view(agent)
            if held.state is not AgentState.TALKING or held.call is None:
                continue
            out = acd.handle(CallEnded(held.call), now)
        elif kind == "hang_up" and next_id:  # any call, in any state
            out = acd.handle(CallerHungUp(pick % next_id), now)
        elif kind == "ready":
            out = acd.handle(AgentReady(agent), now)
        else:
            out = acd.handle(AgentPaused(agent, "break"), now)
        # what the agents hold
        for a, cfg in zip(acd.roster(), agents, strict=True):
            assert len(a.chats) <= cfg.chats
            if a.chats:
                assert a.state is AgentState.TALKING
                assert a.call == a.chats[-1]
                assert all(channel[queue_of[c]] is Channel.CHAT for c in a.chats)
        # email is taken only when nothing its agent could take waits
        for cmd in out:
            if type(cmd) is Connect and channel[queue_of[cmd.call]] is Channel.EMAIL:  # type: ignore[index]
                skills = acd.agent_view(cmd.agent).skills
                for q in QUEUES:
                    if q.channel is not Channel.EMAIL and all(s in skills for s in q.skills):
                        assert acd.waiting(q.name) == [], (cmd, q.name)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from callsim.cli.app import main

    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_callsim_run_reports_per_channel_in_tables_json_and_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = str(ROOT / "scenarios" / "channels.yaml")
    code, out, _ = cli(capsys, "run", scenario, "-n", "2", "--json", "--workers", "1")
    assert code == 0
    doc = json.loads(out)["channels"]
    assert list(doc["channels"]) == ["voice", "chat", "email"]
    assert set(doc["channels"]["email"]) == {
        "offered", "answered", "service_level", "abandon_rate", "asa_s", "occupancy"
    }  # fmt: skip
    assert len(doc["email_backlog"]) == 16
    code, out, err = cli(
        capsys, "run", scenario, "-n", "2", "--no-plots", "--workers", "1",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, err
    table = out.split("Per channel", 1)[1]
    assert all(len(line) <= 80 for line in table.splitlines())
    assert [line.split()[1] for line in table.splitlines() if line[:2] in ("│ ", "| ")][:3] == [
        "voice", "chat", "email"
    ]  # fmt: skip
    assert json.loads((tmp_path / "out" / "channels.json").read_text()) == doc
