"""The simulator holds no answering-service rule: the inputs of a simulated day (who
called which number when, the keys pressed, the employee asked for, which forward
targets picked up, which agent answered when), replayed through a fresh inbound flow of
the core alone, give exactly the decisions the simulator recorded."""

from __future__ import annotations

from pathlib import Path

from callsim.analytics.metrics import _RESULT_INDEX
from callsim.core import CallArrived, CallDiverted, Identification, PolicyResult
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "answering-service.yaml"


def test_a_simulated_day_replays_through_the_core_flow_alone() -> None:
    plan = build_plan(load_scenario(SCENARIO))
    simulated = Replication(plan, 11, 0, inputs=True)
    records = {r.call: r for r in simulated.run()}
    facts = simulated.facts()
    assert simulated.flow_inputs is not None
    # the same day's starting point (clients, known contacts), not run: a fresh flow
    flow = Replication(plan, 11, 0).flow
    assert flow is not None
    queue_priority = {q.name: q.priority for q in plan.acd.queues}
    calls = {}
    seen = dict.fromkeys(PolicyResult, 0)
    for kind, now, cid, *rest in simulated.flow_inputs:
        if kind == "arrive":
            ani, dnis, keys, advertising, language = rest
            call = flow.arrive(
                cid, ani, dnis, now, keys=keys, advertising=advertising, language=language
            )
            calls[cid] = call
            record = records[cid]
            event = call.event
            if isinstance(event, CallDiverted):
                assert record.outcome is event.outcome
                assert record.queue == event.queue
            else:
                assert isinstance(event, CallArrived)
                assert record.queue == event.queue  # the queue the call first joined
                expected = queue_priority[event.queue] if event.priority is None else event.priority
                assert record.priority == expected
            assert facts.vip[cid] == call.vip
            assert facts.new_caller[cid] == (call.identification is Identification.NEW)
        else:
            agent, employee, faq, tried = rest
            call = calls[cid]
            assert records[cid].agent == agent
            flow.answer(call, agent, now)
            flow.treat(call, employee=employee, faq=faq, answered=tried)
            assert facts.off_hours[cid] == call.off_hours
            assert facts.by_last_agent[cid] == call.served_by_last_agent
    for cid, call in calls.items():
        assert facts.result[cid] == _RESULT_INDEX[call.result], (cid, call.result)
        seen[call.result] += 1
    # the day exercised every decision the flow can make
    assert all(seen[r] > 0 for r in PolicyResult), seen
    assert len(calls) == sum(1 for c in simulated.calls.inbound if c is not None) > 1000
