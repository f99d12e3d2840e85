"""The live service over HTTP: ``create_app`` composes the routers of ``callsim.api.routes``
(service and pages, calls, agents and offers, the desk's contacts, notes, tickets and
clients, statistics and events) behind the body gate (``gate``), with who asks as a
dependency (``access``), idempotency keys kept by the store's repository
(``idempotency``), and every error mapped to one JSON shape here. No routing or policy
rule lives in the API (``callsim.live.service`` calls the core for every decision).

``create_app(scenario_path, db_url)`` builds the application; its lifespan opens the
database, starts the service inside uvicorn's event loop and stops it on shutdown
(SIGTERM): open calls end ``interrupted`` and are recorded.

A request read from endpoint to row: ``POST /v1/calls`` is ``routes.calls.new_call``,
which checks the role (``access.allow``) and runs ``Service.arrive`` once per
idempotency key (``idempotency.Idempotent``); the service stages the call's row and the
kept answer in the turn's unit of work, whose flush is ``Repository.save``; the gate
answers once that transaction has committed.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import Match

from callsim.api.gate import KEEP_ALIVE_S, Gate, Protocol
from callsim.api.http import ERRORS, Json, error_body
from callsim.api.keys import create_key, ensure_admin_key
from callsim.api.routes import agents, calls, desk, practice, service, stats
from callsim.errors import CallsimError, InputError
from callsim.live.service import Service
from callsim.scenario import load_scenario
from callsim.store import Store, hash_key

ADMIN_KEY_ENV = "CALLSIM_ADMIN_KEY"
MAX_SPEEDUP = 10_000.0
SHUTDOWN_S = 10  # SIGTERM to exit, at most: then requests still open are cut
GC_THRESHOLDS = (50_000, 20, 100)  # the collector's (Python's own: 700, 10, 10)
# the busiest first: a request is matched against the routes in this order
ROUTERS = (calls.router, agents.router, service.router, desk.router, stats.router, practice.router)


def create_app(
    scenario_path: str | Path,
    db: str | Store,
    *,
    speedup: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The application for one scenario and database (a URL, opened when the server
    starts, or an open ``Store``); ``clock`` runs the centre's timers (a test's own)."""
    scenario = load_scenario(scenario_path)
    if not 0 < speedup <= MAX_SPEEDUP:
        raise InputError(f"{speedup!r} is not in (0, {MAX_SPEEDUP}]", field="speedup")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = db if isinstance(db, Store) else Store(db)
        admin = os.environ.get(ADMIN_KEY_ENV)
        if admin:
            ensure_admin_key(store, admin, ADMIN_KEY_ENV)  # a changed one retires the old
        svc = Service(
            scenario, store, speedup=speedup, scenario_name=str(scenario_path), clock=clock
        )
        # what start-up built (modules, the app, the scenario) lives as long as the process:
        # moved out of the collector's reach, its full passes no longer stall the loop
        # for it (100+ ms with a few thousand calls open, 20 ms after)
        gc.collect()
        thresholds, thaw = gc.get_threshold(), not gc.get_freeze_count()
        gc.freeze()
        # and the collector runs far less often: a request allocates hundreds of objects,
        # so the young generations were collected every few requests and the whole heap
        # (every open call, every agent) every few hundred (POST /v1/calls in process
        # with 10,000 calls open: 1.1 ms a request, 0.8 ms so); cyclic garbage waits longer
        gc.set_threshold(*GC_THRESHOLDS)
        app.state.callsim = {"store": store, "service": svc, "keys": {}}
        try:
            yield
        finally:
            svc.stop()
            store.close()
            # run inside a longer process (a test, a host app), it gives the collector
            # back as it found it (a host's own freeze is the host's to thaw)
            gc.set_threshold(*thresholds)
            if thaw:
                gc.unfreeze()

    app = FastAPI(
        title="callsim live service",
        version="1",
        description="The callsim routing core in wall-clock time: calls, agents, offers, "
        "contacts, notes, tickets, statistics. See docs/live.md.",
        lifespan=lifespan,
        default_response_class=Json,
    )
    app.add_middleware(Gate)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_exception_handler(CallsimError, _callsim_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    for router in ROUTERS:
        app.include_router(router, responses=ERRORS)
    app.mount("/static", StaticFiles(directory=service.STATIC), name="static")  # after them
    return app


async def _callsim_error(_request: Request, exc: CallsimError) -> JSONResponse:
    return Json(error_body(exc), status_code=exc.http_status)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """What the framework refuses itself (an unknown path 404, a wrong method 405, a body
    that is no JSON 400): the one error shape too; a 405 lists every method of the path
    in ``Allow`` (the framework named only those of the first route it matched)."""
    phrase = HTTPStatus(exc.status_code).phrase.title().replace(" ", "").replace("-", "")
    body = {"error": phrase, "field": None, "message": str(exc.detail)}
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        methods: set[str] = set()
        for route in (r for router in ROUTERS for r in router.routes):
            if route.matches(request.scope)[0] is not Match.NONE:
                methods |= getattr(route, "methods", None) or set()
        headers["Allow"] = ", ".join(sorted(methods - {"HEAD"}))
    return Json(body, status_code=exc.status_code, headers=headers or None)


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request FastAPI could not validate: 422 in the one error shape, every error listed."""
    errors = [
        {
            "field": ".".join(str(p) for p in e["loc"][1:]) or e["loc"][0],
            "message": str(e["msg"]).removeprefix("Value error, "),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    return Json(
        {
            "error": "InputError",
            "field": first["field"],
            "message": first["message"],
            "errors": errors,
        },
        status_code=422,
    )


def serve(
    scenario_path: str | Path,
    db_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    speedup: float = 1.0,
) -> None:
    """Run the service on uvicorn until SIGINT or SIGTERM (then it stops gracefully),
    cutting connections that do not keep up (``gate.Protocol``)."""
    import socket

    import uvicorn

    app_store = Store(db_url)  # a bad URL or an unreachable server: one line, before serving
    try:
        app = create_app(scenario_path, app_store, speedup=speedup)
        with socket.socket() as probe:
            # as uvicorn binds: a restart must not fail on the last run's closed connections
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise InputError(
                    f"{host}:{port} cannot be served ({exc.strerror})", field="port"
                ) from None
    except BaseException:
        app_store.close()
        raise

    class Server(uvicorn.Server):
        """A SIGINT or SIGTERM first stops the service (open calls are stored
        ``interrupted``; event streams and long polls end at once), so the requests in
        flight end and the process exits 0, within ``SHUTDOWN_S`` whatever clients do."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            state = getattr(app.state, "callsim", None)
            if state is not None and not self.should_exit:
                svc = state["service"]
                svc.centre.loop.call_soon_threadsafe(svc.stop)  # on the loop, not in here
            super().handle_exit(sig, frame)
            self._captured_signals.clear()  # stopped as asked: exit 0, no signal re-raised

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_S,
        http=Protocol, timeout_keep_alive=KEEP_ALIVE_S,  # peers that do not keep up are cut
    )  # fmt: skip
    Server(config).run()


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with the API key as the bearer scheme every path but /healthz needs."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "a callsim API key"}
        }
        for path, operations in schema["paths"].items():
            if path != "/healthz":
                for operation in operations.values():
                    operation["security"] = [{"apiKey": []}]
        app.openapi_schema = schema
    return app.openapi_schema


__all__ = ["create_app", "create_key", "hash_key", "serve"]
