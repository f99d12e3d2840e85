"""``callsim load``: a real locust run against a real ``callsim serve`` it starts, the
audit of every call, and the prediction of the same arrivals; the audit's checks on
hand-made ledgers (each can fail); the simulator on a recorded arrival trace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from callsim.load.run import _audit, _wrong_handling
from callsim.load.traffic import plan_traffic
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"


def callsim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callsim", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, check=False)  # fmt: skip


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.parametrize("workers", [0, 2], ids=["one process", "distributed"])
def test_a_load_run_audits_every_call_and_predicts_the_same_arrivals(
    tmp_path: Path, workers: int
) -> None:
    out = tmp_path / "load"
    run = callsim("load", "--scenario", str(SCENARIO), "--spawn-server", "--run-time", "12s",
                  "--drain", "4s", "--workers", str(workers), "--out", str(out), "--json",
                  "--max-error-rate", "0")  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    audit = report["audit"]
    assert audit["ok"], audit
    assert audit["planned"] == audit["sent"] == report["planned_calls"] > 40  # all shares
    assert report["thresholds"]["load_delivered"]["held"]
    assert audit["acknowledged"] == audit["stored"] == report["placed_calls"]
    assert audit["outcomes"]["answered"] > 0.6 * audit["stored"]
    offer = report["time_to_offer_ms"]
    assert offer["n"] > 10
    assert offer["p50"] <= offer["p99"] <= offer["p99_9"]
    names = {r["name"] for r in report["endpoints"]}
    assert {"/v1/calls", "/v1/offers/{id}/accept", "/v1/calls/{id}/complete"} <= names
    # the supervisor's wallboard: refreshed, and the event stream followed
    assert {"/v1/stats/realtime", "/v1/events (followed)"} <= names
    total = report["live_vs_predicted"]["total"]
    # the same arrivals and (in replication 0 of the seed) the same callers; the other
    # replications draw keys and advertising anew, so the calls that reach a queue
    # (offered) differ a little
    assert total["offered"]["predicted"] == pytest.approx(total["offered"]["live"], rel=0.15)
    assert total["service_level"]["ci95"] is not None
    for name in ("load.json", "load.png", "locust_stats.csv", "locust_stats_history.csv"):
        assert (out / name).stat().st_size > 0, name
    assert len(list(out.glob("ledger-*.jsonl"))) == max(1, workers)


@pytest.mark.slow
@pytest.mark.live
def test_a_failed_threshold_exits_1(tmp_path: Path) -> None:
    run = callsim("load", "--scenario", str(SCENARIO), "--spawn-server", "--run-time", "4s",
                  "--drain", "2s", "--warmup", "1s", "--out", str(tmp_path / "o"), "--max-p95-ms", "0.001")  # fmt: skip
    assert run.returncode == 1, run.stderr[-2000:]
    assert "max_p95_ms" in run.stderr
    assert "FAILED" in run.stderr


@pytest.mark.slow
@pytest.mark.live
def test_find_ceiling_steps_up_and_reports_the_curve(tmp_path: Path) -> None:
    out = tmp_path / "ceiling"
    run = callsim("load", "--scenario", str(SCENARIO), "--spawn-server", "--run-time", "3s",
                  "--drain", "1s", "--warmup", "0s", "--find-ceiling", "--repeats", "1", "--max-runs", "2",
                  "--offer-p99-ms", "100000", "--out", str(out), "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    assert [s["rate_scale"] for s in found["steps"]] == [1.0, 1.5]  # up by half while passing
    assert all(s["passed"] and s["lost"] == 0 for s in found["steps"]), found["steps"]
    assert found["ceiling"] == found["steps"][1]
    assert (out / "ceiling.png").stat().st_size > 0
    assert (out / "step-2-1" / "locust_stats.csv").exists()
    never = callsim("load", "--scenario", str(SCENARIO), "--spawn-server", "--run-time", "2s",
                    "--drain", "1s", "--warmup", "0s", "--find-ceiling", "--repeats", "1", "--max-runs", "1",
                    "--offer-p99-ms", "1", "--out", str(tmp_path / "never"))  # fmt: skip
    assert never.returncode == 1, never.stderr[-2000:]  # no step passed
    assert "no step passed" in never.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "http://example.com:80"], "--host: 'http://example.com:80' is not a loopback"),
        (["--run-time", "soon"], "--run-time: 'soon' is not a duration"),
        (["--drain", "-5s"], "--drain: '-5s' is not a duration from 0 to 24h"),
        (["--run-time", "4s", "--warmup", "5s"], "--warmup: 5 s is not shorter than --run-time"),
        (["--speedup", "0"], "--speedup: 0.0 is not in (0, 3600]"),
        (["--host", "http://127.0.0.1:9", "--spawn-server"], "not both"),
        (["--rate-scale", "1e9"], "--rate-scale"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    run = callsim("load", "--scenario", str(SCENARIO), "--out", str(tmp_path / "o"), *args,
                  timeout=60)  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "Traceback" not in run.stderr


def _ledger(ids: list[int]) -> dict[str, list[dict]]:
    return {
        "planned": [{"n": len(ids)}],
        "call": [{"call_id": i, "uid": i, "status": "waiting"} for i in ids],
    }


def test_the_audit_counts_lost_duplicated_and_unexpected_calls() -> None:
    traffic = plan_traffic(load_scenario(SCENARIO), speedup=60, run_s=1)
    ledger = _ledger([1, 2, 3])
    ledger["send"] = [{"uid": u} for u in (1, 2, 3, 99, 7)]  # every placement answered
    ledger["call"].append({"call_id": 3, "uid": 99, "status": "waiting"})  # two acks, one id
    ledger["fail"] = [{"uid": 7, "cause": "5xx"}]
    records = [
        {"id": 1, "outcome": "answered"},
        {"id": 4, "outcome": "abandoned"},  # stored, never acknowledged
        {"id": 3, "outcome": None},
    ]
    audit = _audit(traffic, ledger, records, [{"agent": "day-1"}], {"still_open": 0})
    assert not audit["ok"]
    assert audit["causes"] == {
        "rejected_4xx": 0, "server_5xx": 1, "timeout": 0, "lost": 1, "duplicated": 1,
        "unexpected": 1, "stuck_agent": 1, "wrong_handling": 0, "no_outcome": 1,
    }  # fmt: skip
    assert audit["call_ids"]["lost"] == [2]
    assert audit["stuck_agents"] == ["day-1"]


def test_wrong_handling_is_found_by_the_cores_rules() -> None:
    traffic = plan_traffic(load_scenario(SCENARIO), speedup=60, run_s=1)
    dental = "Fjord Dental Clinic"  # forwards to target 1, then 2, then a note
    instruction = {
        "greeting": "Welcome", "tone": "formal", "messages": [], "in_hours": True,
        "hours_text": "", "exception": False,
        "treatment": {"kind": "forward", "targets": ["+47 9010 00 01", "+47 9010 00 02"],
                      "info": ""},
    }  # fmt: skip
    row = {"client": dental, "instruction": json.dumps(instruction)}
    sent = {"forward_answered": {"+47 9010 00 01": False, "+47 9010 00 02": True}}
    completes = [
        {"call_id": 1, "status": 200, "sent": sent},
        {"call_id": 2, "status": 200, "sent": sent},
    ]
    by_id = {
        1: {**row, "policy_result": "forwarded_target_2"},  # right
        2: {**row, "policy_result": "note"},  # target 2 took it: no note
    }
    assert _wrong_handling(traffic, completes, by_id) == [2]


def test_the_simulator_runs_a_recorded_arrival_trace() -> None:
    traffic = plan_traffic(load_scenario(SCENARIO), speedup=60, run_s=30)
    trace = [(c.scenario_s, c.stream) for c in traffic.calls]
    assert len(trace) > 50
    sim = Replication(traffic.plan, 1, 0, arrivals=trace)
    records = sim.run()
    assert len(records) == len(trace)  # no more (callers do not call back), no fewer
    assert sorted(r.arrival_s for r in records) == pytest.approx(sorted(t for t, _ in trace))
    assert sim.retrials == 0
