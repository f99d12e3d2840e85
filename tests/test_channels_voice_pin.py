"""Voice-only scenarios route bit for bit as before channels existed: each pinned seed's
call records (every field, in order) hash to what main's code produced (the digests were
taken on main before channels were added)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

PINNED = {  # scenario: (records, sha256 of their reprs, first 16 hex digits), seed 7
    "skills-centre.yaml": (6042, "cd1c149ded473ad7"),
    "blended-outbound.yaml": (1904, "15200e4acc6898af"),
    "support-followups.yaml": (1233, "0d0e81f0b9fcfad2"),
    "answering-service.yaml": (5016, "6502c3c9c2053a1d"),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_voice_scenarios_records_are_unchanged(name: str) -> None:
    records = Replication(build_plan(load_scenario(SCENARIOS / name)), 7, 0).run()
    digest = hashlib.sha256()
    for r in records:
        digest.update(repr(tuple(r)).encode())
    assert (len(records), digest.hexdigest()[:16]) == PINNED[name]
