"""Scenario files: shipped ones run, every documented form works, errors are one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callsim.errors import ScenarioError
from callsim.scenario import load_scenario
from callsim.sim import simulate

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))

MINIMAL = """
name: tiny
horizon: {start: "08:00", end: "09:00", interval_min: 30, warmup_min: 0}
service_level: {sl_threshold_s: 20, sl_target: 0.80}
routing: {strategy: longest_idle, ring_timeout_s: 15}
queues:
  - {name: general, skills: [general]}
calls:
  - queue: general
    arrivals: {per_hour: 120}
    talk_s: {dist: exponential, mean: 120}
    patience_s: {dist: exponential, mean: 60}
agents:
  - {name: team, count: 4, skills: [general]}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_validates_and_simulates(path: Path) -> None:
    scenario = load_scenario(path)
    result = simulate(scenario, replications=1, seed=7, workers=1)
    totals = result.summary["totals"]
    assert totals["offered"]["mean"] > 100
    assert 0 <= totals["service_level"]["mean"] <= 1
    assert totals["answered"]["mean"] + totals["abandoned"]["mean"] <= totals["offered"]["mean"]
    assert result.interval_rows
    assert result.agent_rows


def test_every_documented_form_runs(tmp_path: Path) -> None:
    (tmp_path / "talk_times.csv").write_text("talk_s\n60\n95.5\n180\n240\n")
    text = """
name: all-forms
horizon: {start: "07:00", end: "09:00", interval_min: 15, warmup_min: 0}
service_level: {sl_threshold_s: 20, sl_target: 0.8, short_abandon_s: 3}
routing: {strategy: round_robin, ring_timeout_s: 10, answer_probability: 0.9, answer_delay_s: {dist: uniform, low: 1, high: 4}}
queues:
  - {name: a, skills: [x], max_wait_s: 120, on_max_wait: {queue: b}, overflow: {after_s: 30, to: [b]}}
  - {name: b, skills: [y], strategy: ring_all, on_max_wait: note}
calls:
  - queue: a
    arrivals: {profile: [{at: "07:00", per_hour: 60}, {at: "08:00", per_hour: 150}]}
    talk_s: {dist: empirical, file: talk_times.csv}
    patience_s: {dist: lognormal, mean: 90, cv: 0.8}
    wrap_up_s: {dist: constant, value: 10}
    retrial: {probability: 0.3, delay_s: {dist: exponential, mean: 300}}
  - queue: b
    arrivals: {per_hour: 40}
    talk_s: {dist: gamma, mean: 200, cv: 0.8}
    patience_s: {dist: empirical, values: [30, 60, 120]}
agents:
  - {name: early, count: 3, skills: [x], shift: {start: "07:00", end: "07:15"}}
  - {name: day, count: 4, skills: {x: 3, y: 5}, shift: {start: "07:00", end: "09:00"}, breaks: [{start: "08:00", minutes: 15}], answer_probability: 1.0}
"""
    result = simulate(load_scenario(write(tmp_path, text)), replications=2, seed=3, workers=1)
    totals = result.summary["totals"]
    assert totals["abandoned"]["mean"] > 10  # 150 calls/h on four agents, patience ~90 s
    assert result.summary["retrials"] > 0  # so some of those callers called back
    assert {r.queue for r in result.interval_rows} == {"a", "b"}
    assert len(result.interval_rows) == 2 * 8  # two queues, eight 15-minute intervals


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("count: 4", "count: 4, colour: red"), "agents[0].colour: unknown field"),
        (
            ("count: 4, skills: [general]", "count: 4, skills: [billing]"),
            "agents[0].skills[0]: unknown skill 'billing' (declared: general)",
        ),
        (
            ("- queue: general", "- queue: sales"),
            "calls[0].queue: unknown queue 'sales' (queues: general)",
        ),
        (
            ("dist: exponential, mean: 120", "dist: weibull, mean: 120"),
            "calls[0].talk_s: unknown dist 'weibull'",
        ),
        (
            ("mean: 120", "mean: -5"),
            "calls[0].talk_s.mean: expected > 0 (got -5)",
        ),
        (
            ('end: "09:00"', 'end: "25:00"'),
            "horizon.end: expected a time HH:MM (00:00 to 24:00) (got '25:00')",
        ),
        (
            ('end: "09:00"', 'end: "08:45"'),
            "horizon: the horizon 08:00-08:45 is not a whole number of 30-minute intervals",
        ),
        (
            ("count: 4, skills", "count: 4, skils"),
            "agents[0].skils: unknown field (did you mean 'skills'?)",
        ),
        (
            ("strategy: longest_idle", "strategy: fastest"),
            "routing.strategy: unknown strategy 'fastest'",
        ),
        (
            ("sl_target: 0.80", "sl_target: 1.5"),
            "service_level.sl_target: expected < 1 (got 1.5)",
        ),
        (("    arrivals: {per_hour: 120}\n", ""), "calls[0].arrivals: missing required field"),
        (
            ("count: 4, skills: [general]", "count: 4, skills: 5"),
            "agents[0].skills: expected a list or a mapping of fields (got 5)",
        ),
        (("name: tiny", 'name: ""'), "name: expected at least 1 character (got '')"),
        (('end: "09:00", ', ""), "horizon.end: missing required field"),
        (
            ("strategy: longest_idle", "strategy: fast"),
            "routing.strategy: unknown strategy 'fast' (known: fewest_calls,",
        ),
        (("name: tiny", "name: tiny\nname2: x"), "name2: unknown field"),
        (("queues:", "queues: [\n"), "not valid YAML"),
    ],
)
def test_errors_name_file_field_and_value(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    old, new = edit
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert text.startswith(f"{path}: "), text
    assert message in text, text
    assert "\n" not in text


def test_empirical_file_errors(tmp_path: Path) -> None:
    base = MINIMAL.replace("dist: exponential, mean: 120", "dist: empirical, file: talk.csv")
    path = write(tmp_path, base)
    with pytest.raises(ScenarioError, match=r"calls\[0\].talk_s.file: cannot read"):
        load_scenario(path)
    (tmp_path / "talk.csv").write_text("10\nabc\n")
    with pytest.raises(ScenarioError, match=r"talk\.csv line 2: 'abc' is not a number"):
        load_scenario(path)
    (tmp_path / "talk.csv").write_bytes(b"10\n12\n\xe9t\xe9\n")  # Latin-1, not UTF-8
    expected = r"calls\[0\].talk_s.file: talk\.csv: line 3: byte 0xe9 is not UTF-8 text"
    with pytest.raises(ScenarioError, match=expected):
        load_scenario(path)


def test_checked_in_schema_is_fresh() -> None:
    from callsim.cli.simulate import scenario_schema

    checked_in = json.loads((ROOT / "docs" / "scenario.schema.json").read_text())
    assert checked_in == scenario_schema(), "run: callsim schema > docs/scenario.schema.json"


def test_every_schema_field_is_described() -> None:
    from callsim.cli.simulate import scenario_schema

    schema = scenario_schema()
    missing = []
    for name, model in schema["$defs"].items():
        for field, spec in model.get("properties", {}).items():
            if (
                field != "dist"
                and "description" not in spec
                and "$ref" not in spec
                and "allOf" not in spec
            ):
                missing.append(f"{name}.{field}")
    assert not missing, missing


def test_same_seed_same_result_whatever_the_workers(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, MINIMAL))
    one = simulate(scenario, replications=4, seed=11, workers=1)
    two = simulate(scenario, replications=4, seed=11, workers=2)
    assert one.summary["totals"] == two.summary["totals"]
    assert one.interval_rows == two.interval_rows
    other = simulate(scenario, replications=4, seed=12, workers=1)
    assert other.summary["totals"] != one.summary["totals"]


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        ("{mode: none, announcement: Hi}", "clients[0].recording: mode none records nothing"),
        ('{mode: all, reference: "r/{caller}"}', "unknown placeholder {caller}"),
        ('{mode: all, reference: "r/{call:05d}"}', "unknown placeholder {call:05d}"),
        ('{mode: all, reference: "r/{call"}', "expected '}' before end of string"),
        (
            "{mode: sometimes}",
            "clients[0].recording.mode: expected one of all or none (got 'sometimes')",
        ),
    ],
)
def test_recording_policy_errors(tmp_path: Path, recording: str, message: str) -> None:
    text = (ROOT / "scenarios" / "answering-service.yaml").read_text()
    start = text.index("    recording: {mode: all")
    line = text[start : text.index("\n", start)]
    path = write(tmp_path, text.replace(line, f"    recording: {recording}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert message in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_a_scenarios_hash_ignores_fields_left_at_their_defaults(tmp_path: Path) -> None:
    """A result names its input by ``scenario_hash``: writing a default out (as a field a
    later version adds, such as a queue's ``channel``) keeps the hash; a change moves it."""
    from callsim.scenario import scenario_hash

    path = Path(__file__).resolve().parent.parent / "scenarios" / "skills-centre.yaml"
    text = path.read_text()
    plain = scenario_hash(load_scenario(path))
    spelt = text.replace("{name: support-en, skills", "{name: support-en, channel: voice, skills")
    assert spelt != text
    assert scenario_hash(load_scenario(write(tmp_path, spelt))) == plain
    moved = text.replace("sl_threshold_s: 30", "sl_threshold_s: 20")
    assert scenario_hash(load_scenario(write(tmp_path, moved))) != plain
    # pinned: a field added to the format with a default (channels, 2026-12-07, moved it
    # before defaults were left out) must leave a scenario's hash where it was
    assert scenario_hash(load_scenario(write(tmp_path, MINIMAL))) == "6c92a0bb5aff6f01"
