"""Variations of a scenario: any field set by its path (``routing.strategy``,
``agents[0].count``, ``agents[support-en].count``) to each of a list or range of values,
and the grid of every combination; each variant is validated as a scenario file is."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from pydantic import ValidationError

from callsim.errors import InputError
from callsim.scenario.load import problems, scenario_error
from callsim.scenario.model import Scenario

MAX_POINTS = 1000  # grid points of one sweep
MAX_VALUES = 1000  # values of one --vary
_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")
_RANGE = re.compile(r"^\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*(?::\s*([\d.]+)\s*)?$")


@dataclass(frozen=True, slots=True)
class Vary:
    path: str  # as the user wrote it
    steps: tuple[str | int, ...]  # keys and list indices (names resolved later)
    values: tuple[Any, ...]

    @property
    def label(self) -> str:
        """A short name for tables: the last step, with its owner when that is a list item."""
        parts = self.path.replace("]", "").split(".")
        return parts[-1] if len(parts) == 1 else ".".join(parts[-2:]).replace("[", ":")


def parse_vary(spec: str) -> Vary:
    """``PATH=VALUES``: values a comma list (YAML scalars or flow collections) or a range
    ``low..high[:step]`` (both ends included; step 1 if not given)."""
    where = f"--vary {spec!r}"
    path, eq, text = spec.partition("=")
    path = path.strip()
    if not eq or not path or not text.strip():
        raise InputError(f"{where}: expected PATH=VALUES, e.g. agents[0].count=40..48:2")
    steps = _steps(path, where)
    values = _range(text, where) if _RANGE.match(text) else _list(text, where)
    if len(values) > MAX_VALUES:
        raise InputError(f"{where}: {len(values):,} values; at most {MAX_VALUES:,}")
    if len(set(map(repr, values))) < len(values):
        raise InputError(f"{where}: a value is given twice")
    return Vary(path, steps, tuple(values))


def _steps(path: str, where: str) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    pos = 0
    for m in _STEP.finditer(path):
        between = path[pos : m.start()]
        if between not in ("", "."):
            break
        key, index = m.group(1), m.group(2)
        if key is not None:
            steps.append(key)
        else:
            steps.append(int(index) if index.strip().lstrip("-").isdigit() else index.strip())
        pos = m.end()
    if pos != len(path) or not steps or not isinstance(steps[0], str):
        raise InputError(
            f"{where}: {path!r} is not a field path (fields by '.', list items "
            "by [index] or [name], e.g. agents[support-en].count)"
        )
    return tuple(steps)


def _range(text: str, where: str) -> list[Any]:
    m = _RANGE.match(text)
    assert m is not None
    try:
        low, high = Decimal(m.group(1)), Decimal(m.group(2))
        step = Decimal(m.group(3) or "1")
    except InvalidOperation:
        raise InputError(f"{where}: {text!r} is not a range low..high[:step]") from None
    if step <= 0 or high < low:
        raise InputError(f"{where}: {text!r}: expected low <= high and a step > 0")
    if (high - low) / step >= MAX_VALUES:
        raise InputError(f"{where}: {text!r} has more than {MAX_VALUES:,} values")
    whole = all(x == x.to_integral_value() for x in (low, step))
    out: list[Any] = []
    x = low
    while x <= high:
        out.append(int(x) if whole else float(x))
        x += step
    return out


def _list(text: str, where: str) -> list[Any]:
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    values = []
    for item in items:
        try:
            values.append(yaml.safe_load(item.strip()))
        except yaml.YAMLError:
            raise InputError(f"{where}: {item.strip()!r} is not a value") from None
    if any(v is None for v in values):
        raise InputError(f"{where}: an empty value (two commas, or one at an end)")
    return values


def _set(data: Any, steps: tuple[str | int, ...], value: Any, where: str) -> None:
    node = data
    walked = ""
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        if isinstance(step, int) or (isinstance(node, list) and isinstance(step, str)):
            if not isinstance(node, list):
                raise InputError(f"{where}: {walked or 'the scenario'} is not a list")
            if isinstance(step, str):  # an item by its name (calls: by queue)
                named = [
                    i
                    for i, x in enumerate(node)
                    if isinstance(x, dict) and step in (x.get("name"), x.get("queue"))
                ]
                if len(named) != 1:
                    names = [x.get("name") or x.get("queue") for x in node if isinstance(x, dict)]
                    how = "several items" if named else "no item"
                    raise InputError(
                        f"{where}: {walked} has {how} named {step!r} "
                        f"(names: {', '.join(map(str, names))})"
                    )
                step = named[0]
            if not -len(node) <= step < len(node):
                raise InputError(
                    f"{where}: {walked} has {len(node)} items (index 0 to "
                    f"{len(node) - 1}), not [{step}]"
                )
            walked += f"[{step}]"
            if last:
                node[step] = value
            else:
                node = node[step]
            continue
        if not isinstance(node, dict):
            raise InputError(f"{where}: {walked} is not a mapping of fields")
        walked += ("." if walked else "") + step
        if last:
            node[step] = value
        else:
            if node.get(step) is None:
                node[step] = {}
            node = node[step]


@dataclass(frozen=True, slots=True)
class Point:
    values: tuple[Any, ...]  # one per Vary, in order
    scenario: Scenario


def grid(base: Scenario, varies: list[Vary], where: str = "") -> list[Point]:
    """Every combination of the values (the last --vary changing fastest), each a
    validated scenario; errors name the --vary and the value."""
    if not varies:
        raise InputError("--vary: give at least one PATH=VALUES")
    paths = [v.path for v in varies]
    if len(set(paths)) < len(paths):
        raise InputError(f"--vary: {next(p for p in paths if paths.count(p) > 1)!r} given twice")
    n = 1
    for v in varies:
        n *= len(v.values)
    if n > MAX_POINTS:
        raise InputError(f"--vary: {n:,} points in the grid; at most {MAX_POINTS:,}")
    data = base.written()
    points = []
    for values in itertools.product(*(v.values for v in varies)):
        variant = _copy(data)
        for v, value in zip(varies, values, strict=True):
            _set(variant, v.steps, value, f"{where}--vary {v.path}={value}")
        try:
            points.append(Point(tuple(values), Scenario.model_validate(variant)))
        except ValidationError as exc:
            at = ", ".join(f"{v.path}={x}" for v, x in zip(varies, values, strict=True))
            raise scenario_error(problems(exc), f"{where}with {at}: ") from None
    return points


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data
