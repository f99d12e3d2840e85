"""``callsim serve`` and ``callsim keys``: the live routing service and its API keys."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from callsim.api.roles import ROLES
from callsim.cli.command import Command, Group
from callsim.cli.console import err

DEFAULT_DB = "callsim.db"


def serve(
    scenario: Path = typer.Option(
        ...,
        "--scenario",
        help="Scenario file (YAML): queues, agents (they start logged out), clients, routing.",
    ),
    db: str = typer.Option(
        DEFAULT_DB,
        "--db",
        help="Database: a SQLite file or URL, or postgresql+psycopg://USER@HOST/DB.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    speedup: float = typer.Option(
        1.0,
        "--speedup",
        help="Run every core timer F times faster; times are reported in scenario seconds.",
    ),
) -> None:
    """Route live calls through the core over HTTP (API under /v1, docs at /docs).

    SIGTERM stops it gracefully; slow or idle connections are cut (docs/live.md).
    """
    from callsim.api import serve as run_server  # here: the web stack loads only to serve

    err.print(f"callsim serve: {scenario} on http://{host}:{port} (db {db}, speedup {speedup:g})")
    run_server(scenario, db, host=host, port=port, speedup=speedup)


keys_app = typer.Typer(cls=Group, no_args_is_help=True, help="API keys of the live service.")


@keys_app.command("create", cls=Command)
def keys_create(
    db: str = typer.Option(DEFAULT_DB, "--db", help="The service's database."),
    role: str = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}."),
    agent: str | None = typer.Option(None, "--agent", help="The agent an agent key acts as."),
    client: str | None = typer.Option(None, "--client", help="The client a client key sees."),
    label: str = typer.Option("", "--label", help="A note on whom the key is for."),
) -> None:
    """Create an API key and print it (once: the database keeps only its hash)."""
    from callsim.api.keys import create_key
    from callsim.store import Store

    store = Store(db)
    try:
        out = create_key(store, role, agent=agent, client=client, label=label, at=time.time())
    finally:
        store.close()
    print(out["key"])
    err.print(
        f"key {out['key_id']}: role {role}"
        + (f", agent {agent}" if agent else "")
        + (f", client {client}" if client else "")
    )
