"""Shifts from a per-interval requirement: the set-covering integer programme (Dantzig's
shift scheduling) solved with SciPy's ``milp`` (HiGHS).

Each column is one way to work: a start, a length and where each break falls. It covers
every interval it is on the phones for (a fraction of an interval where it starts, ends
or breaks within one). Choose how many agents work each column so that every interval's
requirement is covered, at the fewest paid agent-hours (a shift is paid whole, breaks
included). Intervals no allowed shift can cover are left out of the programme and
reported as gaps.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from callsim.errors import InputError
from callsim.scenario.model import hhmm
from callsim.scenario.shifts import ShiftRules

MAX_COLUMNS = 200_000
TIME_LIMIT_S = 60.0


@dataclass(frozen=True, slots=True)
class ShiftType:
    start_min: int  # after midnight
    length_min: int
    breaks: tuple[tuple[int, int], ...]  # (start after midnight, minutes)

    @property
    def label(self) -> str:
        out = f"{hhmm(self.start_min)}-{hhmm(self.start_min + self.length_min)}"
        return out + "".join(f" b{hhmm(b)}+{m}" for b, m in self.breaks)


def shift_types(rules: ShiftRules) -> list[ShiftType]:
    """Every allowed shift: each start and length (ending by midnight), with each break
    rule's allowed placements (on the break grid, not overlapping one another)."""
    out: list[ShiftType] = []
    for start in rules.start_times():
        for hours in rules.lengths_h:
            length = round(hours * 60)
            if start + length > 1440:
                continue
            placements = []
            for rule in rules.breaks:
                if length < rule.from_length_h * 60:
                    continue
                first = start + rule.after_min
                last = start + length - rule.before_end_min - rule.minutes
                grid = rules.break_every_min
                first = start + math.ceil((first - start) / grid) * grid
                placements.append([(b, rule.minutes) for b in range(first, last + 1, grid)])
            if any(not p for p in placements):
                continue  # a break that must be taken has no room in this shift
            for combo in itertools.product(*placements):
                spans = sorted(combo)
                if all(a + m <= b for (a, m), (b, _) in itertools.pairwise(spans)):
                    out.append(ShiftType(start, length, tuple(spans)))
                if len(out) > MAX_COLUMNS:
                    raise InputError(
                        f"the shift rules allow more than {MAX_COLUMNS:,} "
                        "shifts: fewer starts, lengths or break places"
                    )
    if not out:
        raise InputError(
            "the shift rules allow no shift (each must end by 24:00 and have room for its breaks)"
        )
    return out


def coverage(types: list[ShiftType], starts_min: list[int], interval_min: int) -> np.ndarray:
    """[interval, shift type]: the share of each interval the shift is on the phones."""
    a = np.zeros((len(starts_min), len(types)))
    for k, t in enumerate(types):
        on = [(t.start_min, t.start_min + t.length_min)]
        for b, m in t.breaks:
            on = [
                piece
                for lo, hi in on
                for piece in ((lo, min(hi, b)), (max(lo, b + m), hi))
                if piece[1] > piece[0]
            ]
        for i, s in enumerate(starts_min):
            e = s + interval_min
            a[i, k] = sum(max(0, min(hi, e) - max(lo, s)) for lo, hi in on) / interval_min
    return a


@dataclass(frozen=True, slots=True)
class ShiftPlan:
    types: list[ShiftType]
    counts: np.ndarray  # agents per type (only types with any are kept)
    required: np.ndarray  # [interval]
    scheduled: np.ndarray  # [interval] agents on the phones
    paid_hours: float
    lower_bound_hours: float  # the requirement's own agent-hours
    status: str  # "optimal", or why not

    @property
    def gaps(self) -> np.ndarray:
        return np.asarray(np.maximum(self.required - self.scheduled, 0))

    @property
    def over(self) -> np.ndarray:
        return np.asarray(np.maximum(self.scheduled - self.required, 0))


def plan_shifts(
    required: np.ndarray, starts_min: list[int], interval_min: int, rules: ShiftRules
) -> ShiftPlan:
    """The fewest paid agent-hours covering ``required`` agents in each interval."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # scipy: imported when used

    required = np.asarray(required, dtype=float)
    types = shift_types(rules)
    a = coverage(types, starts_min, interval_min)
    cost = np.array([t.length_min / 60 for t in types])
    coverable = (a.sum(axis=1) > 0) | (required <= 0)
    rows = np.nonzero(coverable & (required > 0))[0]
    if len(rows):
        res = milp(
            cost,
            constraints=LinearConstraint(a[rows], lb=required[rows], ub=np.inf),
            integrality=np.ones(len(types)),
            bounds=Bounds(0, np.inf),
            options={"time_limit": TIME_LIMIT_S, "mip_rel_gap": 1e-4},
        )
        if res.x is None:
            raise InputError(f"the shift programme found no solution ({res.message})")
        x = np.round(res.x).astype(int)
        status = "optimal" if res.status == 0 else f"stopped: {res.message}"
    else:
        x = np.zeros(len(types), dtype=int)
        status = "optimal"
    keep = np.nonzero(x)[0]
    scheduled = a @ x
    return ShiftPlan(
        types=[types[k] for k in keep],
        counts=x[keep],
        required=required,
        scheduled=scheduled,
        paid_hours=float(cost @ x),
        lower_bound_hours=float(required.sum() * interval_min / 60),
        status=status,
    )
