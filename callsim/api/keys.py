"""API keys of the live service: made here, kept hashed in the store; listed without their
secrets, revoked, and expired by their own ``expires_unix``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from callsim.api.roles import ROLES
from callsim.errors import InputError, NotFoundError, UnknownAgentError, UnknownClientError
from callsim.store import Store


class UnknownKeyError(NotFoundError):
    """No API key has this id."""


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
    expires_unix: float | None = None,
) -> dict[str, Any]:
    """A new API key (shown once; the database keeps its hash). An ``agent`` key is bound
    to one agent, a ``client`` key to one client; ``expires_unix`` (None: never) must be
    after ``at``."""
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
    now = time.time() if at is None else at
    if expires_unix is not None and expires_unix <= now:
        raise InputError(
            f"the key would expire at {expires_unix:.0f}, not after now ({now:.0f})",
            field="expires_at",
        )
    key = "cs_" + secrets.token_urlsafe(32)
    key_id = store.add_key(
        key, role, agent=agent, client=client, label=label, at=now, expires_unix=expires_unix
    )
    return {
        "key_id": key_id,
        "key": key,
        "role": role,
        "agent": agent,
        "client": client,
        "label": label,
        "expires_unix": expires_unix,
    }


def list_keys(store: Store) -> list[dict[str, Any]]:
    """Every key, by id, without its secret (the store has only its hash anyway)."""
    return [_row(r) for r in store.api_keys()]


def revoke_key(store: Store, key_id: int, *, at: float | None = None) -> dict[str, Any]:
    """Revoke key ``key_id`` (again: no change); its row. 404 for an unknown id."""
    if not store.revoke_key(key_id, time.time() if at is None else at):
        raise UnknownKeyError(f"key {key_id} does not exist", field="key_id")
    return next(k for k in list_keys(store) if k["key_id"] == key_id)


def ensure_admin_key(store: Store, key: str, label: str, *, at: float | None = None) -> None:
    """Keep ``key`` (the environment's admin key) valid as an admin key labelled ``label``
    and revoke the keys the environment gave before (the same label, another secret): a
    changed ``CALLSIM_ADMIN_KEY`` retires the old one. A key an admin revoked stays
    revoked (set a new one)."""
    now = time.time() if at is None else at
    store.revoke_keys_labelled(label, key, now)
    if store.find_key(key, revoked=True) is None:
        store.add_key(key, "admin", agent=None, client=None, label=label, at=now)


def _row(r: Any) -> dict[str, Any]:
    return {
        "key_id": r.id,
        "role": r.role,
        "agent": r.agent,
        "client": r.client,
        "label": r.label,
        "created_unix": r.created_unix,
        "expires_unix": r.expires_unix,
        "revoked_unix": r.revoked_unix,
    }
