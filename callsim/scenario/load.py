"""Read and validate a scenario file; errors name file, field path, value and expectation."""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from callsim.errors import ScenarioError, utf8_text
from callsim.scenario.model import HHMM, HOURS_SPAN, NAME, PHONE, Scenario

MAX_PROBLEMS = 20  # reported at once; the rest are counted


def load_scenario(path: Path | str) -> Scenario:
    """Parse and validate ``path``; empirical ``file`` distributions are read in as values.

    Every problem of the file is reported at once (up to ``MAX_PROBLEMS``), one line each:
    file, field path, what was expected and the value found."""
    path = Path(path)
    data = yaml_fields(path, "scenario")
    data = _read_empirical_files(data, path)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(problems(exc), f"{path}: ") from None


def yaml_fields(path: Path, what: str) -> dict[str, Any]:
    """The mapping at the top of the YAML file ``path`` (a ``what``: scenario, shift
    rules), a key given twice refused; every problem one line naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from exc
    text = utf8_text(raw, str(path), ScenarioError)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except ScenarioKeyError as exc:
        raise ScenarioError(f"{path}: {exc.problem}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: nested too deeply to be a {what}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}: {where}: not valid YAML ({problem})") from None
    if data is None:
        raise ScenarioError(f"{path}: the file is empty (expected {what} fields)")
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: expected a mapping of {what} fields at the top, got {type(data).__name__}"
        )
    return data


def scenario_error(found: list[str], where: str = "") -> ScenarioError:
    """One error for all the problems of a file, one line each, each led by ``where``
    (the file); at most ``MAX_PROBLEMS`` lines and a count of the rest."""
    lines = [f"{where}{p}" for p in found[:MAX_PROBLEMS]]
    if len(found) > MAX_PROBLEMS:
        lines.append(f"{where}... and {len(found) - MAX_PROBLEMS} more problems")
    error = ScenarioError("\n".join(lines))
    error.problems = tuple(lines)
    return error


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (the second would
    silently win)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ScenarioKeyError(
                f"line {line}: key {key!r} given twice (first on line {seen[key]})"
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class ScenarioKeyError(yaml.YAMLError):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def scenario_hash(scenario: Scenario) -> str:
    """A stable hash of the validated scenario (what a result was computed from).

    Fields left at their defaults are not hashed, so a field a later version adds (with a
    default that keeps the old behaviour) leaves an old scenario's hash as it was."""
    text = json.dumps(scenario.model_dump(mode="json", exclude_defaults=True), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# what pydantic's error types mean, in a planner's words
_EXPECTED = {
    "missing": "missing required field",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of fields",
    "model_type": "expected a mapping of fields",
    "model_attributes_type": "expected a mapping of fields",
    "date_type": "expected a date YYYY-MM-DD",
    "date_parsing": "expected a date YYYY-MM-DD",
    "date_from_datetime_parsing": "expected a date YYYY-MM-DD",
    "datetime_type": "expected a date and time YYYY-MM-DDTHH:MM",
    "datetime_parsing": "expected a date and time YYYY-MM-DDTHH:MM",
    "datetime_from_date_parsing": "expected a date and time YYYY-MM-DDTHH:MM",
    "finite_number": "expected a finite number",
}
_BOUND = {
    "greater_than": "> {gt}",
    "greater_than_equal": ">= {ge}",
    "less_than": "< {lt}",
    "less_than_equal": "<= {le}",
}
_PATTERNS = {
    HHMM: "expected a time HH:MM (00:00 to 24:00)",
    HOURS_SPAN: "expected opening hours HH:MM-HH:MM",
    NAME: "expected a name on one line (no control characters)",
    PHONE: "expected a phone number (digits, with spaces, + ( ) . / - if you like)",
    r"^[0-9*#]$": "expected one keypad key: 0-9, * or #",
}


def problems(exc: ValidationError, root: Any = Scenario) -> list[str]:
    """Every problem of a validation of ``root`` (a scenario, unless told), one line each
    (without the file name)."""
    errors = exc.errors(include_url=False)
    # a misspelt key hides the required key it was meant to be: say the typo, not both
    typos: dict[str, str] = {}
    for err in errors:
        if err["type"] == "extra_forbidden":
            parent, key = _path(err["loc"][:-1]), str(err["loc"][-1])
            guess = _suggest(key, _fields_at(err["loc"][:-1], root))
            if guess:
                typos[f"{parent}.{guess}" if parent else guess] = key
    # a value of a union (a list or a mapping, a name or a {queue: X}): the errors of the
    # branch it fits, or one line saying what it could have been
    fitting = set()
    for err in errors:
        branch = _branch(err)
        if branch is not None and not _mismatch(err, branch):
            fitting.add(branch)
    merged: dict[str, tuple[list[str], str]] = {}  # loc -> (what it could be, the value)
    found: list[str] = []  # lines, or a loc whose line is merged below
    for err in errors:
        loc = _path(err["loc"])
        if err["type"] == "missing" and loc in typos:
            continue
        branch = _branch(err)
        if branch is not None and _mismatch(err, branch):
            if any(f[:-1] == branch[:-1] for f in fitting):
                continue  # the value is not this branch's type, and another branch fits
            what, _, got = _problem(err, loc, root).split(": ", 1)[1].partition(" (got ")
            if loc not in merged:
                merged[loc] = ([], got)
                found.append(loc)
            merged[loc][0].append(what.removeprefix("expected "))
            continue
        cause = (err.get("ctx") or {}).get("error")
        several = getattr(cause, "found", None)  # a check that found several problems
        lines = [f"{e.loc}: {e}" for e in several] if several is not None else []
        for line in lines or [_problem(err, loc, root)]:
            if line not in found:
                found.append(line)
    return [
        f"{x}: expected {' or '.join(merged[x][0])}"
        + (f" (got {merged[x][1]}" * bool(merged[x][1]))
        if x in merged
        else x
        for x in found
    ]


def _problem(err: Any, loc: str, root: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    cause = ctx.get("error")
    if cause is not None and hasattr(cause, "loc"):  # a cross-field check that knows its field
        return f"{cause.loc}: {cause}"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        new = getattr(_walk(err["loc"][:-1], root)[0], "renamed", {}).get(key)
        if new is not None:
            return f"{loc}: this key is now `{new}` (see the changelog in docs/simulator.md)"
        guess = _suggest(key, _fields_at(err["loc"][:-1], root))
        hint = f"did you mean {guess!r}?" if guess else "`callsim schema` lists the fields"
        return f"{loc}: unknown field ({hint})"
    if kind == "union_tag_invalid":
        tags = ctx.get("expected_tags", "")
        tags = str(tags).replace("'", "")
        return f"{loc}: unknown dist {got.get('dist')!r} (expected one of {tags})"
    if kind == "union_tag_not_found":
        return f"{loc}: needs 'dist' (one of {', '.join(_DISTS)})"
    pattern = _pattern_at(err["loc"], root)
    if kind == "string_type" and pattern in _PATTERNS and got is not None:
        kind = "string_pattern_mismatch"
    if kind in _BOUND:
        what = "expected " + _BOUND[kind].format(**{k: f"{v:g}" for k, v in ctx.items()})
    elif kind == "literal_error":
        what = f"expected one of {ctx.get('expected', '')}".replace("'", "")
    elif kind == "string_pattern_mismatch" or (kind == "string_type" and pattern in _PATTERNS):
        what = _PATTERNS.get(pattern or str(ctx.get("pattern", "")), "unexpected text")
    elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        short = kind.endswith("short")
        n = ctx.get("min_length" if short else "max_length")
        unit = "item" if isinstance(got, list | dict) else "character"
        what = f"expected at {'least' if short else 'most'} {n} {unit}{'' if n == 1 else 's'}"
    elif kind in _EXPECTED:
        what = _EXPECTED[kind]
    else:
        what = str(err["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"{loc}: {what}"
    if got is None:
        shown = " (got nothing)"
    elif isinstance(got, dict | list) or repr(got) in what:
        shown = ""
    else:
        shown = f" (got {got!r})"
    if loc.endswith("[key]"):
        return f"{loc.removesuffix('.[key]').removesuffix('[key]')}: key {got!r}: {what}"
    return f"{loc or 'scenario'}: {what}{shown}"


def _suggest(key: str, fields: list[str]) -> str | None:
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    return close[0] if close else None


def _fields_at(loc: tuple[Any, ...], root: Any) -> list[str]:
    """The field names of the model at ``loc`` (walking the models from ``root``)."""
    model = _walk(loc, root)[0]
    return list(getattr(model, "model_fields", {}))


def _pattern_at(loc: tuple[Any, ...], root: Any) -> str | None:
    """The text pattern of the field at ``loc``, if it has one."""
    field = _walk(loc, root)[1]
    if field is None:
        return None
    found = [m.pattern for m in field.metadata if getattr(m, "pattern", None)]
    inner = typing.get_args(field.annotation)
    for arg in inner:  # list[Annotated[str, Field(pattern=...)]]
        found += [
            m.pattern for m in getattr(arg, "__metadata__", ()) if getattr(m, "pattern", None)
        ]
    return found[0] if found else None


def _walk(loc: tuple[Any, ...], root: Any) -> tuple[Any, Any]:
    """(the model at ``loc``, the field of the last step) walking the models from ``root``."""
    model: Any = root
    field: Any = None
    for part in loc:
        if (
            isinstance(part, int)
            or part in _UNION_BRANCHES
            or str(part).startswith(("literal[", "function-"))
        ):
            continue
        if model is None:
            return None, None
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None, None
        model = _model_of(field.annotation)
    return model, field


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``X | None``, ``list[X]``, ...), if one."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


_DISTS = ("exponential", "lognormal", "gamma", "constant", "uniform", "empirical")
_UNION_BRANCHES = (*_DISTS, "str", "ToQueue")


_MISMATCH = frozenset(
    ("list_type", "dict_type", "string_type", "model_type", "model_attributes_type")
)


def _branch(err: Any) -> tuple[Any, ...] | None:
    """The location of the union branch an error belongs to, if any."""
    loc = err["loc"]
    return next((loc[: i + 1] for i, part in enumerate(loc) if _is_branch(part)), None)


def _mismatch(err: Any, branch: tuple[Any, ...]) -> bool:
    """The value is not of the branch's kind at all (a number where a list goes)."""
    if err["loc"] != branch:
        return False
    return err["type"] in _MISMATCH or (
        err["type"] == "literal_error" and not isinstance(err.get("input"), str)
    )


def _is_branch(part: Any) -> bool:
    """A union branch's name in an error location (``list[str]``, ``dict[...]``, ...)."""
    text = str(part)
    return not isinstance(part, int) and (
        part in _UNION_BRANCHES or text.startswith(("literal[", "function-")) or "[" in text
    )


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _is_branch(part):
            continue  # pydantic's union branch names are not field names
        else:
            out += f".{part}" if out else str(part)
    return out


def _read_empirical_files(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Replace ``{dist: empirical, file: F}`` by its values, reading F beside the scenario.
    A node that YAML aliases reuse is visited once (an alias bomb stays cheap)."""
    seen: dict[int, Any] = {}

    def visit(node: Any, where: str) -> Any:
        if isinstance(node, dict | list):
            done = seen.get(id(node))
            if done is None:
                done = seen[id(node)] = walk(node, where)
            return done
        return node

    def walk(node: Any, where: str) -> Any:
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
        raw = file.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot read {str(file)!r} ({exc.strerror or exc})") from exc
    rows = list(csv.reader(utf8_text(raw, f"{where}: {file.name}", ScenarioError).splitlines()))
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
