"""The core's read-only views: what a shell may know of calls, offers and agents."""

from __future__ import annotations

import dataclasses

import pytest

from callsim.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentPaused,
    AgentRejected,
    AgentState,
    AgentView,
    CallArrived,
    CallEnded,
    CallState,
    CallView,
    OfferResult,
    OfferView,
    RingTimedOut,
)
from callsim.errors import UnknownAgentError, UnknownQueueError
from tests.conftest import make_acd


def test_a_calls_view_follows_its_offers_and_agent() -> None:
    acd = make_acd({"a": ["general"], "b": ["general"]})
    acd.handle(AgentPaused("b", "lunch"), 2)
    acd.handle(CallArrived(1, "general"), 3)
    ringing = (OfferView("a", 3, 15, OfferResult.RINGING),)
    assert acd.call_view(1) == CallView(
        1, CallState.RINGING, "general", None, ringing, None, False, False
    )
    assert acd.offer_result(1, "a", 3) is OfferResult.RINGING
    acd.handle(AgentPaused("a", "lunch"), 3)
    acd.handle(AgentRejected("a", 1), 3)  # nobody else is ready: the call waits
    view = acd.call_view(1)
    assert view is not None
    assert (view.state, view.offers) == (
        CallState.WAITING,
        (OfferView("a", 3, 15, OfferResult.REJECTED),),
    )
    acd.handle(AgentLoggedIn("c", {"general": 1}), 4)
    acd.handle(AgentPaused("c", "lunch"), 19)  # after this call
    acd.handle(RingTimedOut("c", 1), 19)
    acd.handle(AgentLoggedIn("d", {"general": 1}), 20)
    acd.handle(AgentAnswered("d", 1), 22)
    view = acd.call_view(1)
    assert view is not None
    assert [(o.agent, o.result) for o in view.offers] == [
        ("a", OfferResult.REJECTED),
        ("c", OfferResult.NO_ANSWER),
        ("d", OfferResult.ANSWERED),
    ]
    assert (view.state, view.agent, acd.handler(1)) == (CallState.TALKING, "d", "d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.agent = "x"  # type: ignore[misc]
    acd.handle(CallEnded(1), 60)
    assert (acd.call_view(1), acd.handler(1)) == (None, None)  # ended: no wrap-up here
    assert acd.offer_result(1, "x", 1) is None


def test_the_roster_and_queue_views() -> None:
    acd = make_acd({"a": ["general"]})
    assert acd.knows("a")
    assert not acd.knows("z")
    assert acd.queue_names() == ("general",)
    assert acd.queue_skills("general") == ("general",)
    with pytest.raises(UnknownQueueError):
        acd.queue_skills("nowhere")
    with pytest.raises(UnknownAgentError):
        acd.agent_view("z")
    acd.handle(AgentPaused("a", "lunch"), 0)
    assert acd.roster() == [AgentView("a", AgentState.PAUSED, {"general": 1}, "lunch", None, None)]
    assert acd.call_view(99) is None
    assert acd.handler(99) is None
