"""Practice calls on the desk: the caller who talks (the conversation, the caller's lines
as speech) and the trainees' scored calls (the history, kept after wrap-up)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from callsim.api.access import Svc, Who, allow, own_call
from callsim.api.http import MAX_ID, Id
from callsim.api.models import Body
from callsim.api.routes.service import STATIC
from callsim.errors import InputError, InvalidEventError

router = APIRouter(tags=["practice"])


class SayIn(Body):
    text: str = Field(
        min_length=1, max_length=500,
        description="What the trainee says to the caller: the greeting first, then "
        "questions (name, number, spelling, what they want, whom they want).",
    )  # fmt: skip


@router.get("/v1/calls/{call_id}/practice/lines")
async def lines(call_id: Id, who: Who, svc: Svc) -> list[dict[str, Any]]:
    """The practice call's conversation so far: the caller's first words (line 0), then
    each line the trainee said and the caller's answers (409: no open practice call)."""
    allow(who, "supervisor", "agent", "trainer")
    own_call(who, svc.call_view(call_id))
    return svc.desk.practice_lines(call_id)


@router.post("/v1/calls/{call_id}/practice/say")
async def say(call_id: Id, who: Who, svc: Svc, body: SayIn | None = None) -> list[dict[str, Any]]:
    """The trainee says ``text`` to the caller, who answers what it asks for from the
    card: the new lines (the trainee's, then the caller's). Talking calls only."""
    allow(who, "supervisor", "agent")
    own_call(who, svc.call_view(call_id))
    if body is None:
        raise InputError("say something to the caller", field="text")
    return svc.desk.practice_say(call_id, body.text)


@router.get(
    "/v1/calls/{call_id}/practice/audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "The caller's line (WAV)."}},
)
async def audio(
    call_id: Id, who: Who, svc: Svc, line: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> Response:
    """One of the caller's lines as speech (espeak-ng, the caller's voice): line 0 is
    their first words."""
    allow(who, "supervisor", "agent", "trainer")
    own_call(who, svc.call_view(call_id))
    said = svc.desk.practice_lines(call_id)
    if line >= len(said) or said[line]["who"] != "caller":
        raise InvalidEventError(f"line {line} of call {call_id} is no line of the caller")
    _, card = svc.desk.practice_call(call_id)
    from callsim.practice.audio import say as speech  # espeak-ng, when a line is played

    wav = await run_in_threadpool(speech, dict(card), said[line]["text"])
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/v1/practice/results")
async def results(
    who: Who,
    svc: Svc,
    agent: Annotated[str | None, Query(max_length=200)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[dict[str, Any]]:
    """Scored practice calls with call ids above ``after``, oldest first: each its
    trainee, grade (criteria, weights, why), pass and conversation. An agent key gets
    its own; a trainer or supervisor everyone's, or ``agent``'s."""
    allow(who, "supervisor", "trainer", "agent")
    if who.role == "agent":
        agent = who.agent
    return svc.desk.practice_results(agent, after, limit)


@router.get("/v1/practice/class")
async def class_progress(
    who: Who, svc: Svc, count: Annotated[int, Query(ge=1, le=100)] = 10
) -> dict[str, Any]:
    """The class's progress from the scored practice calls: per trainee their sessions
    (calendar days, UTC) with the score and each criterion's share right, per client,
    the weakest branches and the next set to practise (``count`` branches, by spaced
    repetition); and the class's. A trainer's or supervisor's."""
    allow(who, "supervisor", "trainer")
    from callsim.practice.progress import progress  # the page's numbers, on request

    return progress(svc.desk.practice_results(None, 0, 1_000_000), count=count)


@router.get("/trainer", include_in_schema=False)
async def trainer() -> FileResponse:
    """The trainer's page: the class's progress (the page asks for a trainer's key)."""
    return FileResponse(STATIC / "trainer.html")
