"""locust users for the live service: callers (an open Poisson model), agents and a
supervisor. ``callsim load`` runs this file; plain locust runs it too:

    locust -f callsim/load/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --scenario scenarios/answering-service.yaml --speedup 60 --callsim-key KEY \\
        --run-time 60s

Every process builds the same plan from the scenario and the seed (``traffic``) and
takes its share: with N worker processes, worker i places the calls with uid % N == i
and plays every N-th agent. Each process writes what it did, one JSON line per happening,
to ``--callsim-out`` (the audit's ground truth): calls placed and acknowledged, failures
by cause, offers received, completions with what was sent.
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import gevent
import numpy as np
from locust import FastHttpUser, User, constant, events, task
from locust.exception import StopUser
from locust.runners import WorkerRunner

from callsim.load.traffic import Traffic, handling, plan_traffic, stream_of, talk_s
from callsim.scenario import load_scenario
from callsim.sim.engine import BREAK
from callsim.sim.plan import Step

OFFER_POLL_S = 25.0  # the longest an agent's long poll waits (wall seconds; under the
# network timeout): an idle roster of N agents polls N / 25 times a second


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _options(parser: Any) -> None:
    add = parser.add_argument
    add("--scenario", env_var="CALLSIM_LOAD_SCENARIO", default="", help="callsim scenario")
    add("--speedup", env_var="CALLSIM_LOAD_SPEEDUP", type=float, default=60.0)
    add("--rate-scale", env_var="CALLSIM_LOAD_RATE_SCALE", type=float, default=1.0)
    add("--calls-for-s", env_var="CALLSIM_LOAD_CALLS_FOR_S", type=float, default=0.0,
        help="seconds during which callers call (0: the whole --run-time)")  # fmt: skip
    add("--callsim-seed", env_var="CALLSIM_LOAD_SEED", type=int, default=1)
    add("--callsim-key", env_var="CALLSIM_LOAD_KEY", default="", help="an admin API key")
    add("--callsim-out", env_var="CALLSIM_LOAD_OUT", default="", help="folder for the ledger")
    add("--callsim-workers", env_var="CALLSIM_LOAD_WORKERS", type=int, default=1)


class _Process:
    """This process's share of the plan, built on first use, and its ledger file."""

    lock = threading.Lock()
    traffic: Traffic | None = None
    ledger: Any = None
    agents_taken = 0
    callers_taken = 0
    share = (0, 1)  # (this worker's index, workers)

    @classmethod
    def setup(cls, env: Any) -> Traffic:
        with cls.lock:
            if cls.traffic is None:
                o = env.parsed_options
                if not o.scenario:
                    raise StopUser()
                run_s = o.calls_for_s or _seconds(o.run_time)
                cls.traffic = plan_traffic(
                    load_scenario(o.scenario),
                    speedup=o.speedup,
                    run_s=run_s,
                    rate_scale=o.rate_scale,
                    seed=o.callsim_seed,
                )
                index = env.runner.worker_index if isinstance(env.runner, WorkerRunner) else 0
                cls.share = (index, max(1, o.callsim_workers))
                out = Path(o.callsim_out or ".")
                out.mkdir(parents=True, exist_ok=True)
                cls.ledger = open(out / f"ledger-{index}-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115
            return cls.traffic

    @classmethod
    def write(cls, **entry: Any) -> None:
        if cls.ledger is not None:
            cls.ledger.write(json.dumps(entry, separators=(",", ":")) + "\n")


def _seconds(run_time: Any) -> float:
    """locust's parsed --run-time (seconds) or a default of one minute."""
    return float(run_time) if run_time else 60.0


class _Api(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.traffic = _Process.setup(self.environment)
        key = self.environment.parsed_options.callsim_key
        self.headers = {"Authorization": f"Bearer {key}"}

    def send(
        self, method: str, path: str, name: str, ok: tuple[int, ...] = (), **kw: Any
    ) -> tuple[int, Any]:
        """One request; statuses in ``ok`` (besides 2xx) count as expected answers, not
        failures. Returns (status, JSON body or None); 0 for no answer."""
        headers = {**self.headers, **kw.pop("headers", {})}
        with self.client.request(
            method, path, name=name, headers=headers, catch_response=True, **kw
        ) as r:
            status = r.status_code or 0
            try:
                body = r.json() if r.text else None
            except ValueError:
                body = None
            if 200 <= status < 300 or status in ok:
                r.success()
            else:
                r.failure(f"{status}: {(body or {}).get('message', r.text)[:200]}")
            return status, body


class Caller(_Api):
    """Places this process's share of the planned calls at their planned times, each in
    its own greenlet, so that no call waits for another's answer (an open model); the
    time to acknowledge is measured from the planned time (no coordinated omission)."""

    fixed_count = 1

    @task
    def day(self) -> None:
        with _Process.lock:
            mine = _Process.callers_taken == 0
            _Process.callers_taken += 1
        if not mine:  # one caller per process places its share
            raise StopUser()
        t = self.traffic
        index, workers = _Process.share
        start = _Process_start()
        _Process.write(k="start", unix=start, worker=index)
        calls = [c for c in t.calls if c.uid % workers == index]
        _Process.write(k="planned", n=len(calls), worker=index)
        for c in calls:
            delay = start + c.at_s - time.time()
            if delay > 0:
                gevent.sleep(delay)
            gevent.spawn(self.place, c, start + c.at_s)
        gevent.sleep(max(0.0, start + t.run_s - time.time()))
        # the driver stops locust a drain after every process wrote this (locust's own
        # --run-time counts from before the plan was built, so it is only a backstop)
        _Process.write(k="calls_done", unix=time.time(), worker=index)
        gevent.sleep(1e9)

    def place(self, c: Any, due: float) -> None:
        headers = {"Idempotency-Key": f"load-{c.uid}"}
        _Process.write(k="send", uid=c.uid)  # an answer never seen is in flight at the end
        status, body = 0, None
        for _ in range(2):  # one retry after no answer: the key makes it safe
            status, body = self.send("POST", "/v1/calls", "/v1/calls", json=c.body,
                                     headers=headers)  # fmt: skip
            if status != 0:
                break
        late_ms = (time.time() - due) * 1e3
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type="CALL", name="placed, from its planned time",
                            response_time=late_ms, response_length=0,
                            exception=None if status == 201 else Exception(str(status)),
                            context={})  # fmt: skip
        if status != 201:
            cause = "timeout" if status == 0 else ("5xx" if status >= 500 else "4xx")
            message = body.get("message", "") if isinstance(body, dict) else ""
            _Process.write(k="fail", uid=c.uid, cause=cause, status=status, message=message)
            return
        assert isinstance(body, dict)
        _Process.write(k="call", uid=c.uid, call_id=body["call_id"], stream=c.stream,
                       scenario_s=c.scenario_s, due=due, acked=time.time(),
                       arrival_s=body["arrival_s"], status=body["status"])  # fmt: skip
        if math.isfinite(c.patience_s) and body["status"] in ("waiting", "ringing"):
            gevent.sleep(max(0.0, due + c.patience_s - time.time()))
            s, view = self.send("GET", f"/v1/calls/{body['call_id']}", "/v1/calls/{id}")
            if s == 200 and view["status"] in ("waiting", "ringing"):
                status, _ = self.send("POST", f"/v1/calls/{body['call_id']}/hangup",
                                      "/v1/calls/{id}/hangup", ok=(409,),
                                      headers={"Idempotency-Key": f"hangup-{c.uid}"})  # fmt: skip
                _Process.write(k="hangup", call_id=body["call_id"], status=status)


class Agent(_Api):
    """One of the scenario's agents: logs in per its shift, takes breaks, long-polls
    offers, answers with the scenario's probability after its answer delay, talks for a
    sampled time, completes with what the caller asked, and lets the service wrap up."""

    fixed_count = 0  # set from the scenario below

    @task
    def shift(self) -> None:
        t = self.traffic
        index, workers = _Process.share
        with _Process.lock:
            mine = [a for i, a in enumerate(t.agents) if i % workers == index]
            k = _Process.agents_taken
            _Process.agents_taken += 1
        if k >= len(mine):
            raise StopUser()
        me = mine[k]
        self.name = me.name
        # seeded by a string (hashed with SHA-512, the same in every process; hash() of
        # a str differs per process)
        self.rng = random.Random(f"{me.name}/{self.environment.parsed_options.callsim_seed}")
        self.np = np.random.default_rng(self.rng.getrandbits(63))
        self.t0 = _Process_start()
        base = f"/v1/agents/{me.name}"
        logged_in = False
        paused = False
        for i, (at, kind) in enumerate(me.steps):
            until = me.steps[i + 1][0] if i + 1 < len(me.steps) else 1e9
            self.sleep_until(at)
            if kind is Step.LOGIN:
                self.send("POST", f"{base}/login", "/v1/agents/{name}/login", ok=(409,))
                logged_in, paused = True, False
            elif kind is Step.LOGOUT:
                self.send("POST", f"{base}/logout", "/v1/agents/{name}/logout", ok=(409,))
                logged_in = False
            elif kind is Step.PAUSE:
                self.send("POST", f"{base}/pause", "/v1/agents/{name}/pause", ok=(409,),
                          json={"reason": BREAK})  # fmt: skip
                paused = True
            elif kind is Step.READY:
                self.send("POST", f"{base}/ready", "/v1/agents/{name}/ready", ok=(409,))
                paused = False
            if logged_in and not paused:
                self.work(me, until)
        gevent.sleep(1e9)

    def sleep_until(self, at: float) -> None:
        delay = self.t0 + at - time.time()
        if delay > 0:
            gevent.sleep(delay)

    def work(self, me: Any, until: float) -> None:
        """Take calls until wall second ``until`` of the run."""
        path = f"/v1/agents/{me.name}/offers"
        while (left := self.t0 + until - time.time()) > 0.05:
            status, offers = self.send("GET", path, "/v1/agents/{name}/offers",
                                       params={"wait_s": min(OFFER_POLL_S, left)})  # fmt: skip
            if status != 200:
                gevent.sleep(0.5)
                continue
            ringing = [o for o in offers or [] if o.get("result") == "ringing"]
            if ringing:
                self.answer(ringing[0], me)

    def answer(self, offer: dict[str, Any], me: Any) -> None:
        got = time.time()
        _Process.write(k="offer", call_id=offer["call_id"], agent=me.name, unix=got,
                       at_s=offer.get("at_s"))  # fmt: skip
        if self.rng.random() >= me.answer_probability:
            return  # lets it ring out, as the scenario's agents sometimes do
        t = self.traffic
        if me.answer_delay is not None:  # the scenario's, or the agent's device's
            gevent.sleep(float(me.answer_delay(self.np, 1)[0]) / t.speedup)
        status, call = self.send("POST", f"/v1/offers/{offer['offer_id']}/accept",
                                 "/v1/offers/{id}/accept", ok=(404, 409, 410))  # fmt: skip
        if status != 200:
            return  # the caller hung up or the offer expired meanwhile
        # the planned call (the world's caller and talk); what the world does meanwhile
        planned = t.planned(offer.get("ani"), got - self.t0 + 0.5)  # 0.5 s: clock skew
        stream = planned.stream if planned is not None else stream_of(t, call.get("client"),
                                                                       call["queue"])  # fmt: skip
        instruction = call.get("instruction")
        ask, tried = handling(t, call.get("client"), instruction, planned, self.rng)
        gevent.sleep(talk_s(t, planned, stream, instruction, tried, self.np))
        body = {"note": f"Load test call {call['call_id']}", **ask}
        status, done = self.send("POST", f"/v1/calls/{call['call_id']}/complete",
                                 "/v1/calls/{id}/complete", ok=(409,), json=body,
                                 headers={"Idempotency-Key": f"complete-{call['call_id']}"},
                                 )  # fmt: skip
        _Process.write(k="complete", call_id=call["call_id"], agent=me.name, status=status,
                       sent=ask, result=(done or {}).get("policy_result"))  # fmt: skip


class Supervisor(_Api):
    """A supervisor's wallboard: the real-time statistics every 2 s, and the event
    stream followed as it comes (resumed with ``Last-Event-ID`` when it ends)."""

    fixed_count = 1

    @task
    def watch(self) -> None:
        gevent.spawn(self.follow)
        while True:
            self.send("GET", "/v1/stats/realtime", "/v1/stats/realtime")
            gevent.sleep(2.0)

    def follow(self) -> None:
        last: int | None = None
        while True:
            headers = {**self.headers, **({"Last-Event-ID": str(last)} if last else {})}
            try:
                for line in self.client.iter_lines("/v1/events", headers=headers,
                                                   name="/v1/events (followed)"):  # fmt: skip
                    if line.startswith("id: "):
                        last = int(line[4:])
            except Exception:  # the stream ended or broke: resume after the last id
                pass
            gevent.sleep(0.5)


def _Process_start() -> float:  # noqa: N802
    """The wall time the run started in this process (the first caller's start)."""
    with _Process.lock:
        if not hasattr(_Process, "start"):
            _Process.start = time.time()  # type: ignore[attr-defined]
        return float(_Process.start)  # type: ignore[attr-defined]


@events.init.add_listener  # type: ignore[untyped-decorator]
def _agents(environment: Any, **_: Any) -> None:
    """As many agent users as the scenario has agents (their share per worker)."""
    o = environment.parsed_options
    if o is not None and o.scenario:
        Agent.fixed_count = len(build_agents(o.scenario))
        Caller.fixed_count = max(1, o.callsim_workers)


def build_agents(path: str) -> list[str]:
    from callsim.sim.plan import build_plan

    return [t.agent for t in build_plan(load_scenario(path)).timetables]


__all__ = ["Agent", "Caller", "Supervisor", "User"]
