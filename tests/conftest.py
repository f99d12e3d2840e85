"""Shared helpers: build a small ACD and drive it with terse calls."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest

from callsim.core import (
    Acd,
    AcdConfig,
    AgentAnswered,
    AgentConfig,
    AgentLoggedIn,
    CallArrived,
    Command,
    QueueConfig,
    Ring,
    RoutingConfig,
)


def make_acd(
    agents: Mapping[str, Mapping[str, int]] | Mapping[str, list[str]],
    queues: list[QueueConfig] | None = None,
    *,
    seed: int = 1,
    login: bool = True,
    journal: bool = False,
    trace: bool = False,
    **routing: object,
) -> Acd:
    """An ACD with the given agents (name -> skills) logged in at t=0 in declaration order."""
    agent_cfgs = tuple(
        AgentConfig(name, s if isinstance(s, Mapping) else dict.fromkeys(s, 1))
        for name, s in agents.items()
    )
    cfg = AcdConfig(
        queues=tuple(queues or [QueueConfig("general", ("general",))]),
        agents=agent_cfgs,
        routing=RoutingConfig(**routing),  # type: ignore[arg-type]
    )
    acd = Acd(cfg, random.Random(seed), journal=journal, trace=trace)
    if login:
        for i, name in enumerate(agents):
            acd.handle(AgentLoggedIn(name), float(i))
    return acd


def rung(commands: list[Command]) -> list[str]:
    return [c.agent for c in commands if isinstance(c, Ring)]


def arrive_and_answer(acd: Acd, call: int, queue: str, now: float) -> str:
    """A call arrives and the agent it rings answers at once; returns that agent."""
    (agent,) = rung(acd.handle(CallArrived(call, queue), now))
    acd.handle(AgentAnswered(agent, call), now)
    return agent


@pytest.fixture
def general() -> list[QueueConfig]:
    return [QueueConfig("general", ("general",))]
