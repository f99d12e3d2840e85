"""The roster file of ``callsim roster``: named agents (contracted hours a week, skills,
availability, preferences, days off wanted), the allowed shifts (the shift rules of
``callsim staff --shifts``) and the working-time rules. Errors name file, field, value
and what was expected, as a scenario's do."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from callsim.scenario.load import problems, scenario_error, yaml_fields
from callsim.scenario.model import HOURS_SPAN, Name, Strict
from callsim.scenario.shifts import ShiftRules

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Span = Annotated[str, Field(pattern=HOURS_SPAN)]
WEEKEND: tuple[Weekday, ...] = ("sat", "sun")


def span_minutes(span: str) -> tuple[int, int]:
    """``"07:00-16:00"`` as minutes after midnight (already validated)."""
    a, b = span.split("-")
    return int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])


class Rules(Strict):
    """Working-time rules every agent's roster keeps (hard constraints)."""

    min_rest_h: float = Field(
        11, ge=0, le=24, description="Least rest between two shifts, hours.", examples=[11]
    )
    max_consecutive_days: int = Field(
        5, ge=1, le=14, description="Most days worked in a row.", examples=[5]
    )
    hours_tolerance_h: float = Field(
        2,
        ge=0,
        le=40,
        description="Paid hours of each week within the contract plus or minus this, hours.",
        examples=[2],
    )
    weekend: list[Weekday] = Field(
        default_factory=lambda: list(WEEKEND),
        min_length=1,
        max_length=3,
        description="The weekend's days, shared fairly among the agents.",
        examples=[["fri", "sat"]],
    )


class Person(Strict):
    """One named agent."""

    name: Name = Field(description="The agent's name.", examples=["Ann"])
    skills: list[str] = Field(min_length=1, description="Skills.", examples=[["general"]])
    hours_per_week: float = Field(
        gt=0, le=60, description="Contracted paid hours a week (breaks included).", examples=[38]
    )
    available: dict[Weekday, Span] | None = Field(
        None,
        description="Weekdays and hours the agent can work (a shift lies within them); a "
        "weekday not listed is not worked. None: any day, any hour.",
        examples=[{"sun": "07:00-24:00", "mon": "07:00-16:00"}],
    )
    days_off: list[date] = Field(
        default_factory=list,
        description="Days off wanted (a preference, granted where the coverage allows).",
        examples=[["1999-10-29"]],
    )
    prefer_start: Span | None = Field(
        None,
        description="Preferred shift starts, HH:MM-HH:MM (a preference for each shift).",
        examples=["07:00-10:00"],
    )


class People(Strict):
    """The roster file: who, which shifts, which rules."""

    skill: str = Field(
        description="The skill the requirement is for: only agents with it are rostered.",
        examples=["general"],
    )
    shifts: ShiftRules = Field(description="Allowed shifts (as callsim staff --shifts).")
    rules: Rules = Field(
        default_factory=lambda: Rules.model_validate({}), description="Working-time rules."
    )
    agents: list[Person] = Field(min_length=1, description="The named agents.")

    @model_validator(mode="after")
    def _agents(self) -> People:
        names = [p.name for p in self.agents]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise ValueError(f"agents: the name {twice!r} is given twice")
        if not any(self.skill in p.skills for p in self.agents):
            raise ValueError(f"skill: no agent has the skill {self.skill!r}")
        return self

    def rostered(self) -> list[Person]:
        return [p for p in self.agents if self.skill in p.skills]


def load_people(path: Path) -> People:
    data = yaml_fields(path, "roster file")
    try:
        return People.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(problems(exc, People), f"{path}: ") from None
