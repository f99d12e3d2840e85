"""Read and validate a scenario file; errors name file, field path, value and expectation."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from callsim.errors import ScenarioError
from callsim.scenario.model import Scenario


def load_scenario(path: Path | str) -> Scenario:
    """Parse and validate ``path``; empirical ``file`` distributions are read in as values."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario ({exc.strerror or exc})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}: {where}: not valid YAML ({problem})") from exc
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: expected a mapping of scenario fields at the top, got {type(data).__name__}"
        )
    data = _read_empirical_files(data, path)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{path}: {_first_error(exc)}") from None


def scenario_hash(scenario: Scenario) -> str:
    """A stable hash of the validated scenario (what a result was computed from)."""
    blob = json.dumps(scenario.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = _path(err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if cause is not None and hasattr(cause, "loc"):  # a cross-field check that knows its field
        return f"{cause.loc}: {cause}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown field (check the spelling; `callsim schema` lists the fields)"
    if err["type"] == "missing":
        return f"{loc}: missing required field"
    if err["type"] == "union_tag_invalid":
        tags = (err.get("ctx") or {}).get("expected_tags", "")
        return f"{loc}: unknown dist {err['input'].get('dist')!r} (expected one of {tags})"
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    return f"{loc or 'scenario'}: {message}{shown}"


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in (
            "exponential",
            "lognormal",
            "gamma",
            "constant",
            "uniform",
            "empirical",
            "str",
            "ToQueue",
        ):
            continue  # pydantic's union branch names are not field names
        elif part.startswith(("literal[", "function-")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _read_empirical_files(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Replace ``{dist: empirical, file: F}`` by its values, reading F beside the scenario."""

    def visit(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            if node.get("dist") == "empirical" and isinstance(node.get("file"), str):
                values = _read_values(path.parent / node["file"], f"{path}: {where}.file")
                return {k: v for k, v in node.items() if k != "file"} | {"values": values}
            return {k: visit(v, f"{where}.{k}" if where else str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [visit(v, f"{where}[{i}]") for i, v in enumerate(node)]
        return node

    result = visit(data, "")
    assert isinstance(result, dict)
    return result


def _read_values(file: Path, where: str) -> list[float]:
    try:
        rows = list(csv.reader(file.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot read {str(file)!r} ({exc.strerror or exc})") from exc
    values: list[float] = []
    for n, row in enumerate(rows, start=1):
        if not row or not row[0].strip():
            continue
        try:
            value = float(row[0])
        except ValueError:
            if n == 1:
                continue  # a header line
            raise ScenarioError(
                f"{where}: {file.name} line {n}: {row[0]!r} is not a number"
            ) from None
        if value < 0:
            raise ScenarioError(f"{where}: {file.name} line {n}: {value} is negative")
        values.append(value)
    if not values:
        raise ScenarioError(f"{where}: {file.name} holds no durations")
    return values
