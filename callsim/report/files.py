"""Write results for machines: JSON and CSV files in an output directory."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from callsim.errors import InputError


def run_dir(
    out: Path | None, name: str, own: Sequence[str] = (), *, now: datetime | None = None
) -> Path:
    """``out`` or ``results/<name>-<timestamp>/``, created. A reused folder is emptied of
    the files named in ``own`` (what the command writes), so it holds only this run's;
    other files in it are left alone."""
    if out is None:
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        out = Path("results") / f"{_slug(name)}-{stamp}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create directory {str(out)!r} ({exc.strerror or exc})", field="out"
        ) from exc
    for file in own:
        old = out / file
        try:
            old.unlink(missing_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot replace {str(old)!r} ({exc.strerror or exc})", field="out"
            ) from exc
    return out


def _slug(name: str) -> str:
    """A folder name from a scenario name in any script: letters and digits kept, every
    other run of characters one '-'."""
    return "-".join("".join(c if c.isalnum() else " " for c in name).split()) or "run"


def _clean(value: Any) -> Any:
    """JSON has no inf/nan: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def json_text(data: Any) -> str:
    return json.dumps(_clean(data), indent=2, allow_nan=False) + "\n"


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json_text(data), encoding="utf-8")
    return path


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
    return path


def write_json_lines(path: Path, rows: Iterable[Any]) -> Path:
    """One JSON document per line (JSON Lines)."""
    return write_lines(path, (json.dumps(_clean(r), allow_nan=False) for r in rows))


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path
