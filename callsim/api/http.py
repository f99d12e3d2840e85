"""What every route shares: the JSON answer, the error shape, path parameter types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path as FastPath
from fastapi.responses import JSONResponse

from callsim.errors import CallsimError
from callsim.live.service import Service, json_bytes

MAX_ID = 2**53  # ids are 64-bit integers in the database; larger ones exist nowhere

Id = Annotated[int, FastPath(ge=1, le=MAX_ID, description="An id the service gave out.")]
ClientName = Annotated[str, FastPath(max_length=200, description="A client's name.")]


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
