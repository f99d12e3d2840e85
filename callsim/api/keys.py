"""API keys of the live service: made here, kept hashed in the store."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from callsim.api.roles import ROLES
from callsim.errors import InputError, UnknownAgentError, UnknownClientError
from callsim.store import Store


def create_key(
    store: Store,
    role: str,
    *,
    agent: str | None = None,
    client: str | None = None,
    label: str = "",
    agents: Sequence[str] | None = None,
    clients: Sequence[str] | None = None,
    at: float | None = None,
) -> dict[str, Any]:
    """A new API key (shown once; the database keeps its hash). An ``agent`` key is bound
    to one agent, a ``client`` key to one client."""
    if role not in ROLES:
        raise InputError(f"{role!r} is not a role ({', '.join(ROLES)})", field="role")
    if (role == "agent") != (agent is not None):
        raise InputError("an agent key names its agent, and only an agent key does", field="agent")
    if (role == "client") != (client is not None):
        raise InputError(
            "a client key names its client, and only a client key does", field="client"
        )
    if agent is not None and agents is not None and agent not in agents:
        raise UnknownAgentError(f"agent {agent!r} does not exist", field="agent")
    if client is not None and clients is not None and client not in clients:
        raise UnknownClientError(f"client {client!r} does not exist", field="client")
    key = "cs_" + secrets.token_urlsafe(32)
    key_id = store.add_key(
        key, role, agent=agent, client=client, label=label, at=time.time() if at is None else at
    )
    return {
        "key_id": key_id,
        "key": key,
        "role": role,
        "agent": agent,
        "client": client,
        "label": label,
    }
