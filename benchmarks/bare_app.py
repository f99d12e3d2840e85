"""The baseline of the live-service benchmark: a bare FastAPI endpoint that takes the same
request model as ``POST /v1/calls`` and answers 201 with a fixed body (no routing, no
database, no key check)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from callsim.api.models import CallIn

app = FastAPI()


@app.post("/v1/calls", status_code=201)
async def new_call(body: CallIn) -> dict[str, Any]:
    return {"call_id": 1, "status": "queued", "client": None, "queue": "reception",
            "position": 1, "ani": body.ani}  # fmt: skip
