"""Shift rules (the ``--shifts`` file of ``callsim staff``) and writing a scenario back as
YAML. Errors name file, field, value and what was expected, as a scenario's do."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, model_validator

from callsim.scenario.load import problems, scenario_error, yaml_fields
from callsim.scenario.model import HHMM, Scenario, Strict, minutes


class StartWindow(Strict):
    """Allowed start times from ``first`` to ``last``, every ``every_min`` minutes."""

    first: str = Field(pattern=HHMM, description="Earliest start, HH:MM.", examples=["07:00"])
    last: str = Field(pattern=HHMM, description="Latest start, HH:MM.", examples=["16:00"])
    every_min: int = Field(
        30, gt=0, le=720, description="Minutes between allowed starts.", examples=[30]
    )

    @model_validator(mode="after")
    def _order(self) -> StartWindow:
        if minutes(self.last) < minutes(self.first):
            raise ValueError(f"last {self.last} is before first {self.first}")
        return self

    def times(self) -> list[int]:
        return list(range(minutes(self.first), minutes(self.last) + 1, self.every_min))


class BreakRule(Strict):
    """A break in every shift of at least ``from_length_h`` hours, starting anywhere from
    ``after_min`` after the shift's start to ``before_end_min`` before its end, on the
    start grid (the solver picks where, shift by shift)."""

    minutes: int = Field(gt=0, le=240, description="Break length, minutes.", examples=[30])
    from_length_h: float = Field(
        0, ge=0, le=24, description="Shifts at least this long get it, hours.", examples=[6]
    )
    after_min: int = Field(
        120, ge=0, le=1440, description="Earliest start after the shift's start, minutes."
    )
    before_end_min: int = Field(
        60, ge=0, le=1440, description="Latest end before the shift's end, minutes."
    )


class ShiftRules(Strict):
    """Which shifts may be worked: allowed starts, paid lengths and break rules."""

    starts: (
        Annotated[list[Annotated[str, Field(pattern=HHMM)]], Field(min_length=1)] | StartWindow
    ) = Field(
        description="Allowed start times: a list of HH:MM, or {first, last, every_min}.",
        examples=[{"first": "07:00", "last": "16:00", "every_min": 30}],
    )
    lengths_h: list[float] = Field(
        min_length=1,
        max_length=12,
        description="Allowed shift lengths, hours (paid, breaks included).",
        examples=[[4, 6, 8]],
    )
    breaks: list[BreakRule] = Field(default_factory=list, max_length=3,
                                    description="Break rules.")  # fmt: skip
    break_every_min: int = Field(
        30, gt=0, le=240, description="Grid of break start times within a shift, minutes."
    )

    @model_validator(mode="after")
    def _valid(self) -> ShiftRules:
        if isinstance(self.starts, list):
            import re

            bad = [t for t in self.starts if not re.match(HHMM, t)]
            if bad:
                raise ValueError(f"starts: {bad[0]!r} is not a time HH:MM")
            if not self.starts:
                raise ValueError("starts: give at least one start time")
        for h in self.lengths_h:
            if not 0.25 <= h <= 24 or round(h * 60) != h * 60:
                raise ValueError(f"lengths_h: {h!r} is not a whole number of minutes "
                                 "from 0.25 to 24 hours")  # fmt: skip
        return self

    def start_times(self) -> list[int]:
        if isinstance(self.starts, StartWindow):
            return self.starts.times()
        return sorted({minutes(t) for t in self.starts})


def load_shift_rules(path: Path) -> ShiftRules:
    data = yaml_fields(path, "shift rules")
    try:
        return ShiftRules.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(problems(exc, ShiftRules), f"{path}: ") from None


def scenario_yaml(scenario: Scenario, header: str) -> str:
    """The scenario as a YAML file that ``load_scenario`` reads back to the same scenario,
    led by ``header`` as comment lines."""
    data: Any = scenario.model_dump(mode="json", exclude_unset=True)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
