"""The live service's codecs: core values as JSON, stored rows back as core values.

``jsonable`` turns dataclasses, named tuples, enums and dates into JSON values; ``dumps``
and ``json_bytes`` write them (orjson); ``record_of`` reads a stored call back as the
core's ``CallRecord``; contacts and tickets go to and from their stored JSON.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from callsim.core import (
    CallRecord,
    Category,
    Contact,
    Direction,
    InboundCall,
    Offer,
    OfferResult,
    Outcome,
    Party,
    Status,
    Transfer,
)
from callsim.core.contact import Interaction, Order
from callsim.core.ticket import ALLOWED, Change, Ticket
from callsim.errors import InputError

_ATOMS = (str, int, bool, type(None))

_FIELDS: dict[type, tuple[str, ...] | None] = {}  # a dataclass's field names, per type


def jsonable(value: Any) -> Any:
    """Dataclasses, named tuples, enums and dates as JSON values."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    names = _FIELDS.get(kind, ())
    if names == ():  # first sight of this type
        is_record = dataclasses.is_dataclass(value) and not isinstance(value, type)
        names = _FIELDS[kind] = (
            tuple(f.name for f in dataclasses.fields(value)) if is_record else None
        )
    if names is not None:
        out = {}
        for n in names:
            v = getattr(value, n)
            out[n] = v if type(v) in _ATOMS else jsonable(v)  # no call for the common case
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {k: jsonable(v) for k, v in zip(value._fields, value, strict=True)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_bytes(value: Any) -> bytes:
    """JSON of plain values (what ``jsonable`` gives): orjson, at C speed (NaN and
    infinities become null). Not for records themselves: it writes a named tuple as a
    list, where ``jsonable`` makes an object."""
    return orjson.dumps(value, option=_JSON_OPTIONS)


def dumps(value: Any) -> str:
    return json_bytes(value).decode()


def json_list(text: str) -> list[Any]:
    """A stored JSON list (most calls' are empty: no parsing for those)."""
    return [] if text == "[]" else list(json.loads(text))


def recording(inbound: InboundCall | None) -> dict[str, str] | None:
    """A call's recording as a wallboard lists it: the client's policy ("all" or
    "none") and the reference once an agent answered; None where no policy is set."""
    policy = inbound.client.recording if inbound is not None else None
    if inbound is None or policy is None:
        return None
    ref = inbound.instruction.recording_ref if inbound.instruction is not None else ""
    return {"mode": policy.mode.value, "reference": ref}


_CONTACT_FIELDS = ("name", "company", "category", "note", "city", "country", "language", "photo")


def contact_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if k in _CONTACT_FIELDS and v is not None}
    if "category" in out:
        try:
            out["category"] = Category(out["category"])
        except ValueError:
            allowed = ", ".join(c.value for c in Category)
            raise InputError(
                f"{out['category']!r} is not a category ({allowed})", field="category"
            ) from None
    return out


def contact_from(data: Mapping[str, Any]) -> Contact:
    return Contact(
        id=data["id"],
        numbers=list(data["numbers"]),
        name=data["name"],
        company=data["company"],
        category=Category(data["category"]),
        note=data["note"],
        orders=[Order(**o) for o in data["orders"]],
        city=data["city"],
        country=data["country"],
        language=data["language"],
        photo=data["photo"],
        last_agent=data["last_agent"],
        merged_into=data.get("merged_into"),  # absent in rows from before merging existed
        history=[
            Interaction(
                datetime.fromisoformat(h["at"]), Direction(h["direction"]), h["agent"], h["summary"]
            )
            for h in data["history"]
        ],
    )


def ticket_from(data: Mapping[str, Any]) -> Ticket:
    due = data["follow_up_due"]
    return Ticket(
        data["id"],
        data["contact"],
        data["subject"],
        Status(data["status"]),
        datetime.fromisoformat(due) if due else None,
        [
            Change(datetime.fromisoformat(c["at"]), Status(c["status"]), c["by"], c["note"])
            for c in data["changes"]
        ],
    )


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    data = jsonable(ticket)
    data["ticket_id"] = data.pop("id")
    data["next"] = sorted(s.value for s in ALLOWED[ticket.status])  # statuses it may take
    return dict(data)


def record_of(row: Any, midnight: float) -> CallRecord:
    """A stored call (a row, or a namespace of ``GET /v1/records``'s columns) as the core's
    record, its times in seconds since ``midnight`` (its run's epoch is ``arrived_unix -
    arrival_s``). A call closed by recovery after a kill has no times after its arrival."""
    shift = row.arrived_unix - row.arrival_s - midnight
    offers = tuple(
        Offer(o["at_s"] + shift, o["agent"], OfferResult(o["result"]), o["ring_s"])
        for o in json.loads(row.offers)
    )
    return CallRecord(
        row.id,
        row.queue,
        row.final_queue or row.queue,
        row.ani,
        row.dnis,
        row.priority or 0,
        row.arrival_s + shift,
        (row.queued_s if row.queued_s is not None else row.arrival_s) + shift,
        offers,
        None if row.answer_s is None else row.answer_s + shift,
        (row.end_s if row.end_s is not None else row.arrival_s) + shift,
        Outcome(row.outcome),
        row.agent if row.end_s is not None else None,
        row.wait_s or 0.0,
        row.ring_s or 0.0,
        row.talk_s or 0.0,
        row.wrap_up_s or 0.0,
        Party(row.ended_by) if row.ended_by else None,
        tuple(json.loads(row.overflowed)),
        tuple(
            Transfer(t["at_s"] + shift, t["agent"], t["queue"], t["to_agent"])
            for t in json.loads(row.transfers)
        ),
        None if row.callback_s is None else row.callback_s + shift,
    )
