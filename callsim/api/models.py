"""The request bodies of the live API (pydantic: they are the OpenAPI schema). Every
string and list is bounded, so nothing a client sends can exhaust memory."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callsim.api.roles import ROLES
from callsim.core import Category, Status

if TYPE_CHECKING:  # the checker sees strings; pydantic sees the closed sets
    TicketStatus = str
    ContactCategory = str
    Role = str
else:  # the values of the core's enums (and the API's roles), as JSON Schema enums
    TicketStatus = Literal[tuple(s.value for s in Status)]
    ContactCategory = Literal[tuple(c.value for c in Category)]
    Role = Literal[ROLES]

Short = Annotated[str, Field(min_length=1, max_length=200)]
Number = Annotated[str, Field(max_length=64, description="A phone number.")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """Text every database stores, refused here (422, naming the field) rather than
        failing a commit: no NUL (PostgreSQL refuses it in text) and no lone surrogate
        (not UTF-8)."""
        problem = unstorable(value)
        if problem is not None:
            raise ValueError(problem)
        return value


def unstorable(value: Any) -> str | None:
    """Why ``value`` (text, or text inside lists and mappings) cannot be stored, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character (\\u0000), which cannot be stored"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate: not UTF-8 text"
        return None
    items = value.items() if isinstance(value, dict) else value
    if isinstance(value, dict | list | tuple):
        for item in items:
            problem = unstorable(item)
            if problem is not None:
                return problem
    return None


class CallIn(Body):
    ani: Number = Field(description="The caller's number ('' when withheld).")
    dnis: Number = Field("", description="The dialled number: selects the client.")
    ivr_digits: str = Field(
        "", max_length=32, pattern=r"^[0-9*#]*$", description="Keys pressed in the voice menu."
    )
    language: str | None = Field(None, max_length=20, description="The caller's language.")
    advertising: bool = Field(False, description="The call is rated as advertising.")
    queue: Short | None = Field(None, description="An in-house line: straight to this queue.")
    practice: PracticeIn | None = Field(None, description="A practice call (trainer keys).")


class PracticeIn(Body):
    """A practice call: the card it re-enacts (from callsim practice generate) and the
    trainee whose desk alone it rings."""

    card: dict[str, Any] = Field(description="The practice card (JSON).")
    agent: Short | None = Field(None, description="Ring only this trainee.")


class TicketSpec(Body):
    subject: str | None = Field(None, max_length=500, description="Opens a ticket.")
    ticket_id: int | None = Field(None, ge=1, le=2**53, description="Updates this ticket.")
    status: TicketStatus | None = None
    note: str = Field("", max_length=2000)
    follow_up_due: datetime | None = None


class CompleteIn(Body):
    note: str | None = Field(None, max_length=10_000, description="The call note.")
    callback_number: Number | None = Field(None, description="Where the client calls back.")
    ticket: TicketSpec | None = None
    employee: Short | None = Field(None, description="Whom the caller asked for.")
    faq: list[Short] = Field(default_factory=list, max_length=20, description="FAQ path.")
    forward_answered: dict[Number, bool] | None = Field(
        None, max_length=10, description="Forward target -> it took the call."
    )


class TransferIn(Body):
    """Where the agent sends the call: a queue, or one ready agent (not both)."""

    queue: Short | None = Field(None, description="Into this queue, at its back.")
    agent: Short | None = Field(None, description="To this agent, who must be ready.")

    @model_validator(mode="after")
    def _one_target(self) -> TransferIn:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("name a queue or an agent to transfer to, not both")
        return self


class DraftIn(Body):
    text: str = Field(max_length=10_000, description="The note as written so far.")


class LoginIn(Body):
    paused_reason: Short | None = Field(None, description="Log in paused for this reason.")


class PauseIn(Body):
    reason: Short = "break"


class DialResultIn(Body):
    reached: bool = Field(description="The right party answered the number dialled.")
    number: Short = Field("", description="The number dialled (for the call's record).")


class SkillsIn(Body):
    skills: dict[Short, Annotated[int, Field(ge=1, le=5)]] = Field(
        max_length=100, description="Skill -> proficiency 1-5."
    )


class ContactIn(Body):
    numbers: list[Number] = Field(default_factory=list, max_length=20)
    name: str | None = Field(None, max_length=200)
    company: str | None = Field(None, max_length=200)
    category: ContactCategory | None = None
    note: str | None = Field(None, max_length=2000)
    city: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=200)
    language: str | None = Field(None, max_length=20)


class NumberIn(Body):
    number: Number


class TicketIn(Body):
    contact: int = Field(ge=1, le=2**53)
    subject: str = Field(max_length=500)


class TicketStatusIn(Body):
    status: TicketStatus
    note: str = Field("", max_length=2000)
    follow_up_due: datetime | None = None


class KeyIn(Body):
    role: Role
    agent: Short | None = None
    client: Short | None = None
    label: str = Field("", max_length=200)
    expires_in_h: float | None = Field(
        None, gt=0, le=24 * 366 * 10, description="The key expires this many hours from now."
    )
    expires_at: datetime | None = Field(
        None, description="The key expires at this time (without a zone: the centre's)."
    )

    @model_validator(mode="after")
    def _one_expiry(self) -> KeyIn:
        if self.expires_in_h is not None and self.expires_at is not None:
            raise ValueError("give expires_in_h or expires_at, not both")
        return self
