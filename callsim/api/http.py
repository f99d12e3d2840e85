"""What every route shares: the JSON answer, the error shape, path parameter types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path as FastPath
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from callsim.errors import CallsimError
from callsim.live.service import Service, json_bytes

MAX_ID = 2**53  # ids are 64-bit integers in the database; larger ones exist nowhere

Id = Annotated[int, FastPath(ge=1, le=MAX_ID, description="An id the service gave out.")]
ClientName = Annotated[str, FastPath(max_length=200, description="A client's name.")]


class ErrorOut(BaseModel):
    """The one shape of every error answer."""

    error: str
    field: str | None
    message: str
    errors: list[dict[str, Any]] | None = None  # 422: every field problem


# what any operation may answer besides its success, in the one error shape (the OpenAPI
# document says so; each route adds none of its own)
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": what}
    for status, what in (
        (400, "a body that is not JSON"),
        (401, "no key, or a key unknown, expired or revoked"),
        (403, "the key's role may not do this (docs/live.md, Keys and roles)"),
        (404, "an id or name that nothing answers to"),
        (409, "a state conflict: the call, agent or ticket cannot do this now"),
        (410, "an offer that is over"),
        (413, "a body over 64 KiB"),
        (422, "bad input: every field problem is listed"),
        (503, "the database is out or the service is stopping: no effect"),
    )
}


class Json(JSONResponse):
    """Every JSON answer, encoded by orjson (the answers are plain values: ``jsonable``)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def error_body(exc: CallsimError) -> dict[str, Any]:
    """The one JSON shape of every error: the error's class, field and message."""
    return {"error": type(exc).__name__, "field": exc.field, "message": str(exc)}


def aware(at: datetime, svc: Service) -> datetime:
    """A time without a zone is in the centre's zone."""
    return at if at.tzinfo is not None else at.replace(tzinfo=svc.zone)
