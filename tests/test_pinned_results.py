"""Speed and memory work changes no result: for a given seed, ``simulate`` gives the same
summary, intervals, agents and wait histogram as before that work (pinned below from the
code before it: its digest, with a few figures in clear for a readable failure).

The digest is of the whole result as JSON, every float to 9 significant digits (a sum
taken in another order may differ in its last bits; no result does at 9 digits), less
what is measured rather than simulated (wall time, calls a second, the build) and the
scenario's hash (which names the input, and moves when a field is added to the format).
Regenerate after a change that means to change results:
``python -m tests.test_pinned_results`` prints the new table.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest

from callsim.scenario import load_scenario
from callsim.sim import simulate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
# measured rather than simulated, or about the input rather than the result
MEASURED = ("wall_time_s", "calls_per_s", "core_compiled", "scenario_hash")
# scenario: (replications, control variates); seed 7 throughout
RUNS = {
    "erlang-a-large": (2, True),
    "skills-centre": (2, False),
    "answering-service": (2, False),
    "callbacks": (3, False),
    "blended-outbound": (2, False),
    "lines-and-balking": (2, False),
    "support-followups": (2, False),
    "sales-costs": (2, False),
    "week-connected": (2, False),
}
# scenario: (digest, calls simulated, service level, abandon rate), as simulated before
# the speed work of issue 28
PINNED: dict[str, tuple[str, int, float | None, float | None]] = {
    "answering-service": ("62e79558ef2398c0", 9983, 0.906129136, 0.0349412102),
    "blended-outbound": ("9432da3bb8aa38b1", 3837, 0.852519627, 0.0390292907),
    "callbacks": ("0a931539f33e6c0d", 3459, 0.783288605, 0.0637049236),
    "erlang-a-large": ("64012b537cbaeea8", 108150, 0.99207591, 0.00565437756),
    "lines-and-balking": ("9600d8cecb27f9f3", 5751, 0.512714965, 0.0547588852),
    "sales-costs": ("ab9dcd4367c2306a", 2049, 0.953505038, 0.0210932452),
    "skills-centre": ("ddd28bb565545654", 12085, 0.918009, 0.0204771761),
    "support-followups": ("0691dea20e62ed77", 2423, 0.729496484, 0.0954542897),
    "week-connected": ("692ce293025e2919", 16730, 0.834302364, 0.0464846076),
}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}") if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def pinned(name: str) -> tuple[str, int, float | None, float | None]:
    """The digest and clear figures of ``name``'s run (``RUNS``)."""
    replications, control_variates = RUNS[name]
    result = simulate(
        load_scenario(SCENARIOS / f"{name}.yaml"), replications=replications, seed=7,
        workers=1, control_variates=control_variates,
    )  # fmt: skip
    summary = {k: v for k, v in result.summary.items() if k not in MEASURED}
    whole = {
        "summary": summary,
        "intervals": [r.values() for r in result.interval_rows],
        "agents": [r.values() for r in result.agent_rows],
        "wait_hist": result.wait_hist.tolist(),
        "labels": result.labels,
    }
    text = json.dumps(_rounded(whole), sort_keys=True)
    totals = summary["totals"]
    return (
        hashlib.sha256(text.encode()).hexdigest()[:16],
        summary["calls_simulated"],
        _rounded(totals["service_level"]["mean"]),
        _rounded(totals["abandon_rate"]["mean"]),
    )


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_seeds_whole_result_is_pinned(name: str) -> None:
    assert pinned(name) == PINNED[name]


if __name__ == "__main__":
    for scenario in sorted(RUNS):
        print(f"    {scenario!r}: {pinned(scenario)!r},")
