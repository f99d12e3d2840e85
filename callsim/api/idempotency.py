"""``Idempotency-Key``: a retried request gets the first answer, and its action runs once.
A refusal (4xx) is a first answer too; a 5xx is not kept (the request had no effect).

A route takes ``once: Once`` (a dependency bound to the request, its key and the
service) and answers with ``once(status, action)`` after its own checks. The first
answer is kept by the store's repository (``Repository.remember_answer``), staged with
the changes the action made, so the two commit in one transaction; a retry reads it back
(``UnitOfWork.answer``: from what is staged, else stored, without a commit of its own).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from callsim.api.access import Principal, Svc, Who
from callsim.api.http import Json, error_body
from callsim.errors import CallsimError, InputError, KeyReusedError
from callsim.live.service import Service, dumps
from callsim.store.repository import Repository

MAX_KEY = 200  # characters

IDEMPOTENT: dict[str, Any] = {  # the header Idempotent reads, declared for the schema
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_KEY},
            "description": "A retry with the same key returns the first answer, once.",
        }
    ]
}


class Idempotent:
    """Runs a request's action once per ``Idempotency-Key`` of its principal."""

    __slots__ = ("key", "request", "service", "who")

    def __init__(self, request: Request, who: Principal, service: Service) -> None:
        self.request = request
        self.who = who
        self.service = service
        self.key = request.headers.get("idempotency-key")

    def __call__(
        self, status: int, action: Callable[[], dict[str, Any] | list[Any]]
    ) -> JSONResponse:
        """``action``'s answer with ``status``, or the first answer to this key."""
        key = self.key
        if key is None:
            return Json(action(), status_code=status)
        kept = self.kept()
        if kept is not None:
            return kept
        what = f"{self.request.method} {self.request.url.path}"[:300]
        principal = self.who.key_id
        batch = self.service.unit()
        try:
            body: Any = action()
        except CallsimError as exc:  # a refusal is the first answer too (it changed
            if not 400 <= exc.http_status < 500:  # nothing): a retry gets it again,
                raise  # not a second try that may land elsewhere (a 5xx is not kept)
            body, status = error_body(exc), exc.http_status
        batch.extra.append(Repository.remember_answer(principal, key, what, status, dumps(body)))
        return Json(body, status_code=status)

    def kept(self) -> JSONResponse | None:
        """The first answer to this request's key, if there was one. A route whose own
        checks read state the action ends (an offer that is over) asks this first: the
        retry of an accept whose answer was lost gets that answer, not a 410."""
        key = self.key
        if key is None:
            return None
        if len(key) > MAX_KEY:
            raise InputError(f"at most {MAX_KEY} characters", field="Idempotency-Key")
        what = f"{self.request.method} {self.request.url.path}"[:300]
        first = self.service.uow.answer(self.who.key_id, key)
        if first is None:
            return None
        if first.request != what:
            raise KeyReusedError(
                f"{key!r} was used for {first.request}, not {what}", field="Idempotency-Key"
            )
        return Json(json.loads(first.body), status_code=first.status)


async def idempotent(request: Request, who: Who, service: Svc) -> Idempotent:
    return Idempotent(request, who, service)


Once = Annotated[Idempotent, Depends(idempotent)]
