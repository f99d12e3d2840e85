"""Practice calls into a running live service: each card placed as a practice call
(``POST /v1/calls`` with the card; a trainer key), dated by its card and ringing only the
trainee's desk when one is named; the service scores the trainee's handling when they
complete it (``practice.score`` of ``GET /v1/calls/{id}``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from callsim.core import Outcome
from callsim.errors import InputError
from callsim.practice.cards import cards_hash

ENDED = {o.value for o in Outcome}  # a call's status once its record is final


class _Api:
    def __init__(self, host: str, key: str) -> None:
        self.host = host.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self.http.request(method, self.host + path, timeout=30, **kw)
        except requests.RequestException as exc:
            raise InputError(f"{self.host} does not answer ({exc.__class__.__name__})",
                             field="host") from None  # fmt: skip
        if r.status_code >= 400:
            try:
                message = r.json().get("message", r.text)
            except ValueError:
                message = r.text
            raise InputError(f"{method} {path}: {r.status_code} {message[:200]}", field="host")
        return r.json()


def push(
    cards: Sequence[dict[str, Any]],
    host: str,
    key: str,
    *,
    agent: str | None = None,
    rate_per_min: float = 6.0,
    placed: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Place the cards as practice calls, ``rate_per_min`` a minute; returns the calls.
    Known callers are registered as contacts first, so that the desk knows them.

    Each call's idempotency key is made of the set's hash, the trainee and the card: the
    same set pushed again to the same trainee places nothing new (the same calls come
    back), pushed to another trainee places their own calls."""
    if not 0 < rate_per_min <= 600:
        raise InputError(f"{rate_per_min} is not in (0, 600]", field="rate_per_min")
    api = _Api(host, key)
    for card in cards:
        c = card["caller"]
        # a known caller by this number; a known caller on a new number by the number the
        # contact is known by (the trainee finds them by name and attaches the new one)
        numbers = {"known": [c["number"]], "known_new_number": c.get("known_numbers")}.get(
            c["status"]
        )
        if numbers and not api("GET", "/v1/contacts", params={"number": numbers[0]}):
            api("POST", "/v1/contacts", json={"numbers": numbers, "name": c["name"],
                                              "category": c["category"],
                                              "language": c["language"]})  # fmt: skip
    who = hashlib.sha256(f"{cards_hash(cards)}|{agent or ''}".encode()).hexdigest()[:24]
    calls = []
    start = time.monotonic()
    for k, card in enumerate(cards):
        delay = start + k * 60.0 / rate_per_min - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = {
            "ani": card["caller"]["number"],
            "dnis": card["dialled"],
            "advertising": bool(card["request"].get("advertising")),
            "practice": {"card": card, "agent": agent},
        }
        call = api("POST", "/v1/calls", json=body,
                   headers={"Idempotency-Key": f"practice-{who}-{card['id']}"})  # fmt: skip
        practice = call.get("practice") or {}
        if (practice.get("card") or {}).get("id") != card["id"] or practice.get("agent") != agent:
            raise InputError(
                f"call {call.get('call_id')} answered for card {card['id']} is not that card's "
                f"practice call for {agent or 'any agent'} (it is card "
                f"{(practice.get('card') or {}).get('id')!r} for {practice.get('agent')!r})",
                field="host",
            )
        calls.append(call)
        if placed is not None:
            placed(card, call)
    return calls


def scores(
    calls: Sequence[dict[str, Any]], host: str, key: str, wait_s: float
) -> list[dict[str, Any]]:
    """Each call's state and score, waiting up to ``wait_s`` for them to end."""
    api = _Api(host, key)
    deadline = time.monotonic() + wait_s
    while True:
        views = [api("GET", f"/v1/calls/{c['call_id']}") for c in calls]
        if all(v["status"] in ENDED for v in views) or time.monotonic() >= deadline:
            return views
        time.sleep(1.0)


def desk_results(host: str, key: str) -> list[dict[str, Any]]:
    """Every scored practice call the live service keeps (``GET /v1/practice/results``,
    page by page)."""
    api = _Api(host, key)
    rows: list[dict[str, Any]] = []
    while True:
        page = api("GET", "/v1/practice/results", params={"after": rows[-1]["call_id"] if rows
                                                          else 0, "limit": 5000})  # fmt: skip
        rows += page
        if len(page) < 5000:
            return rows
