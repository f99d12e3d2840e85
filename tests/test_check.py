"""The semantic check: what a valid file can still get wrong is an error or a warning,
one line each naming the field and the value; overnight and 24/7 centres simulate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callsim.cli.app import main
from callsim.errors import ScenarioError
from callsim.scenario import load_scenario
from callsim.sim import simulate
from callsim.sim.check import Level, check_scenario

BASE = """
name: check
horizon: {start: "08:00", end: "16:00", interval_min: 60}
queues: [{name: q, skills: [s]}, {name: r, skills: [t]}]
calls:
  - {queue: q, arrivals: {per_hour: 60}, talk_s: {dist: constant, value: 120}, patience_s: {dist: exponential, mean: 60}}
agents:
  - {name: a, count: 3, skills: [s, t], shift: {start: "08:00", end: "16:00"}, breaks: [{start: "12:00", minutes: 30}]}
  - {name: b, count: 3, skills: [s, t], shift: {start: "08:00", end: "16:00"}, breaks: [{start: "12:30", minutes: 30}]}
"""


def problems(tmp_path: Path, old: str, new: str) -> list[tuple[Level, str]]:
    """The problems of BASE with ``old`` replaced (a leading '*' replaces every one)."""
    every = old.startswith("*")
    old = old.removeprefix("*")
    assert old in BASE
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace(old, new) if every else BASE.replace(old, new, 1))
    return [(p.level, str(p)) for p in check_scenario(load_scenario(path))]


def test_the_base_scenario_is_clean(tmp_path: Path) -> None:
    assert problems(tmp_path, "name: check", "name: check") == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "*skills: [s, t]",
            "skills: [t]",
            "queues[0].skills: no agent group has all of s: the calls that calls[0].queue "
            "sends to 'q' could never be answered",
        ),
        (
            'shift: {start: "08:00", end: "16:00"}',
            'shift: {start: "17:00", end: "19:00"}',
            "agents[0].shift: 17:00-19:00 never meets the horizon 08:00-16:00",
        ),
        (
            '{start: "12:00", minutes: 30}',
            '{start: "17:00", minutes: 30}',
            "agents[0].breaks[0]: 17:00 for 30 min is outside the shift 08:00-16:00",
        ),
        (
            '{start: "12:00", minutes: 30}',
            '{start: "15:45", minutes: 30}',
            "agents[0].breaks[0]: 15:45 for 30 min runs past the end of the shift 08:00-16:00",
        ),
        (
            '{start: "12:00", minutes: 30}',
            '{start: "08:00", minutes: 480}',
            "agents[0].breaks[0]: 08:00 for 480 min covers the whole shift 08:00-16:00",
        ),
        (
            '{start: "12:00", minutes: 30}',
            '{start: "12:00", minutes: 30}, {start: "12:15", minutes: 30}',
            "agents[0].breaks[1]: 12:15 overlaps breaks[0] (12:00-12:30)",
        ),
        (
            "arrivals: {per_hour: 60}",
            "arrivals: {per_hour: 50000000}",
            "calls[0].arrivals: about 400,000,000 calls in 8 h (all streams: 400,000,000); "
            "a replication holds at most 5,000,000 calls: check the rate",
        ),
        (
            "arrivals: {per_hour: 60}",
            'arrivals: {profile: [{at: "17:00", per_hour: 60}]}',
            "calls[0].arrivals.profile: every point is at or after the horizon's end 16:00",
        ),
    ],
)
def test_errors(tmp_path: Path, old: str, new: str, expected: str) -> None:
    found = problems(tmp_path, old, new)
    assert found
    assert found[0][0] is Level.ERROR
    assert found[0][1].startswith(expected), found


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "count: 3, skills: [s, t]",
            "count: 1, skills: [s, t]",
            "queues[0]: offered load 2.0 Erlangs at 12:30 is more than the 1 agents serving "
            "'q' can carry from 12:30 to 13:00",
        ),
        (
            '{start: "12:30", minutes: 30}',
            '{start: "12:00", minutes: 30}',
            "queues[0]: calls arrive but no agent serves 'q' from 12:00 to 12:30",
        ),
        (
            "arrivals: {per_hour: 60}",
            'arrivals: {profile: [{at: "09:00", per_hour: 60}]}',
            "calls[0].arrivals.profile[0]: starts at 09:00, after the horizon's start 08:00",
        ),
        (
            "*skills: [s, t]",
            "skills: [s]",
            "queues[1].skills: no agent group has all of t",
        ),
    ],
)
def test_warnings(tmp_path: Path, old: str, new: str, expected: str) -> None:
    found = problems(tmp_path, old, new)
    assert [(Level.WARNING, text) for _, text in found if text.startswith(expected)], found
    assert all(level is Level.WARNING for level, _ in found)


def test_validate_and_run_report_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(BASE.replace("count: 3, skills: [s, t]", "count: 1, skills: [s, t]"))
    with pytest.raises(SystemExit) as info:
        main(["validate", str(path)])
    assert info.value.code == 0
    err = capsys.readouterr().err
    assert err.startswith(f"Warning: {path}: queues[0]: offered load 2.0 Erlangs")
    with pytest.raises(SystemExit) as info:
        main(["validate", "--strict", str(path)])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith(f"Error: {path}: queues[0]: offered load")
    bad = tmp_path / "e.yaml"
    bad.write_text(BASE.replace("skills: [s, t]", "skills: [t]"))
    with pytest.raises(SystemExit) as info:
        main(["run", str(bad), "-n", "1", "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    assert "could never be answered" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match="could never be answered"):
        simulate(load_scenario(bad), replications=1)


def test_all_problems_of_a_file_at_once_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        BASE.replace("count: 3, skills", "count: 3, skils", 1)
        .replace('end: "16:00", interval', 'end: "25:00", interval')
        .replace("per_hour: 60", "per_hour: lots")
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert list(info.value.problems) == [
        f"{path}: horizon.end: expected a time HH:MM (00:00 to 24:00) (got '25:00')",
        f"{path}: calls[0].arrivals.per_hour: expected a number (got 'lots')",
        f"{path}: agents[0].skils: unknown field (did you mean 'skills'?)",
    ]


def test_keys_given_twice_and_non_utf8_files_are_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(BASE.replace("name: check", "name: check\nname: again"))
    with pytest.raises(ScenarioError, match=r"line 3: key 'name' given twice \(first on line 2\)"):
        load_scenario(path)
    path.write_bytes(BASE.replace("name: check", "name: caf\xe9").encode("latin-1"))
    with pytest.raises(ScenarioError, match="line 2: byte 0xe9 is not UTF-8 text"):
        load_scenario(path)


def test_names_in_any_script(tmp_path: Path) -> None:
    path = tmp_path / "names.yaml"
    path.write_text(BASE.replace("name: check", 'name: "Hansen & Sønner AS: Ålesund (døgn)"'))
    assert load_scenario(path).name == "Hansen & Sønner AS: Ålesund (døgn)"


OVERNIGHT = """
name: night
horizon: {start: "22:00", end: "06:00", interval_min: 60}
queues: [{name: q, skills: [s]}]
calls: [{queue: q, arrivals: {per_hour: 30}, talk_s: {dist: constant, value: 60}}]
agents:
  - {name: night, count: 3, skills: [s], shift: {start: "21:30", end: "06:30"}, breaks: [{start: "02:00", minutes: 30}]}
  - {name: owl, count: 3, skills: [s], shift: {start: "21:30", end: "06:30"}, breaks: [{start: "03:00", minutes: 30}]}
"""


def test_an_overnight_centre_simulates_through_midnight(tmp_path: Path) -> None:
    path = tmp_path / "night.yaml"
    path.write_text(OVERNIGHT)
    sc = load_scenario(path)
    assert check_scenario(sc) == []
    result = simulate(sc, replications=1, seed=2, workers=1)
    rows = result.interval_rows
    # one night is one horizon day: the hours after midnight keep its label
    assert [(r.day, r.interval_start) for r in rows][:3] == [
        (1, "22:00"),
        (1, "23:00"),
        (1, "00:00"),
    ]
    assert len(rows) == 8
    assert all(r.offered > 0 for r in rows)  # calls every hour of the night
    assert all(r.answered == r.offered for r in rows)
    staffed = [r.agents_staffed for r in rows]
    assert staffed[4] == pytest.approx(4.5)  # 02:00-03:00: three of six on a half-hour break


def test_a_week_of_24_7_service(tmp_path: Path) -> None:
    path = tmp_path / "week.yaml"
    path.write_text(
        OVERNIGHT.replace(
            'start: "22:00", end: "06:00", interval_min: 60',
            'start: "00:00", end: "24:00", interval_min: 240, days: 7',
        )
        .replace(
            'shift: {start: "21:30", end: "06:30"}, breaks: [{start: "02:00", minutes: 30}]',
            'shift: {start: "00:00", end: "24:00"}',
        )
        .replace(
            'shift: {start: "21:30", end: "06:30"}, breaks: [{start: "03:00", minutes: 30}]',
            'shift: {start: "12:00", end: "12:00"}',
        )
    )
    result = simulate(load_scenario(path), replications=1, seed=2, workers=1)
    rows = result.interval_rows
    assert len(rows) == 7 * 6
    assert rows[-1].day == 7
    assert rows[-1].interval_start == "20:00"
    # log out and in at midnight (and at noon: a 24-hour shift from 12:00)
    assert all(r.agents_staffed == pytest.approx(6) for r in rows)
    assert result.labels[6] == "d2 00:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty (expected scenario fields)"),
        ("a: " + "[" * 5000, "nested too deeply to be a scenario"),
        (
            BASE.replace("value: 120", "value: .inf"),
            "calls[0].talk_s.value: expected a finite number (got inf)",
        ),
    ],
)
def test_files_no_scenario_could_be(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=re.escape(expected)):
        load_scenario(path)


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join([*lines, "description: *a11", ""]))  # 9**12 leaves if expanded
    with pytest.raises(ScenarioError, match="description: expected text"):
        load_scenario(path)


def test_more_known_contacts_than_a_replication_holds(tmp_path: Path) -> None:
    clients = "".join(
        f'  - {{name: c{i}, numbers: ["+4721{i:06d}"], queue: q, arrivals: {{per_hour: 1}}}}\n'
        for i in range(11)
    )
    path = tmp_path / "crowd.yaml"
    path.write_text(
        BASE.replace(
            "calls:\n",
            "answering: {contacts: {known_share: 0.5, population: 100000}}\nclients:\n"
            + clients
            + "calls:\n",
        )
    )
    (problem,) = [p for p in check_scenario(load_scenario(path)) if p.level is Level.ERROR]
    assert str(problem) == (
        "answering.contacts.population: 100,000 known contacts for each of 11 clients make "
        "1,100,000; a replication holds at most 1,000,000"
    )


def test_every_routing_loop_is_one_error_naming_its_queues_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "loops.yaml"
    path.write_text(
        BASE.replace(
            "queues: [{name: q, skills: [s]}, {name: r, skills: [t]}]",
            "queues:\n"
            "  - {name: q, skills: [s], max_waiting: 2, on_full: {queue: r}}\n"
            "  - {name: r, skills: [t], max_wait_s: 60, on_max_wait: {queue: u}, "
            "on_full: {queue: q}}\n"
            "  - {name: u, skills: [s], join_empty: false, on_empty: {queue: q}}\n"
            "  - {name: v, skills: [t], overflow: {after_s: 30, to: [w]}}\n"
            "  - {name: w, skills: [t], overflow: {after_s: 30, to: [v]}}",
        )
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    loop = "a call could move between these queues without end"
    assert list(info.value.problems) == [
        f"{path}: queues[0].on_full.queue: a routing loop: q (on_full) -> r (on_full) -> q: "
        f"{loop} (end one of them in busy, voicemail, note or close)",
        f"{path}: queues[0].on_full.queue: a routing loop: q (on_full) -> r (on_max_wait) -> "
        f"u (on_empty) -> q: {loop} (end one of them in busy, voicemail, note or close)",
    ]  # overflow is no move (the call keeps its place): v and w may overflow to each other
    # a queue naming itself is said once, and hides no loop of the others
    path.write_text(path.read_text().replace("on_empty: {queue: q}}", "on_empty: {queue: u}}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [p.split(": ", 2)[1] for p in info.value.problems] == [
        "queues[2].on_empty.queue",
        "queues[0].on_full.queue",
    ]
    assert "'u' is not another queue" in info.value.problems[0]


def test_every_cross_field_error_of_a_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "refs.yaml"
    path.write_text(
        BASE.replace("{queue: q, arrivals", "{queue: nowhere, arrivals").replace(
            "skills: [s, t], shift", "skills: [s, x], shift", 1
        )
        + "costs: {wage_per_hour_by_group: {z: 20}, revenue_per_answered_by_queue: {y: 5}}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert list(info.value.problems) == [
        f"{path}: calls[0].queue: unknown queue 'nowhere' (queues: q, r)",
        f"{path}: agents[0].skills[1]: unknown skill 'x' (declared: s, t)",
        f"{path}: costs.wage_per_hour_by_group.z: unknown name 'z' (known: a, b)",
        f"{path}: costs.revenue_per_answered_by_queue.y: unknown name 'y' (known: q, r)",
    ]


SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_a_site_without_agents_is_warned_about_by_its_own_field_and_runs(tmp_path: Path) -> None:
    """Its calls wait routing.site_delay_s for the other sites' agents; every message
    names a field of the file as written, not of the sites' rewrite."""
    text = (SCENARIOS / "two-sites.yaml").read_text()
    path = tmp_path / "three.yaml"
    path.write_text(
        text.replace(
            "- {name: bergen, share: 0.3}",
            "- {name: bergen, share: 0.2}\n  - {name: tromso, share: 0.1}",
        )
    )
    found = [(p.level, str(p)) for p in check_scenario(load_scenario(path))]
    assert found == [
        (
            Level.WARNING,
            "sites[2]: no agent group works at 'tromso' (agents[].site): its share (0.1) of "
            "every queue's calls waits routing.site_delay_s (30 s), then goes to the other "
            "sites' agents",
        ),
    ]
    summary = simulate(load_scenario(path), replications=1, seed=1).summary
    assert summary["queues"]["support@tromso"]["answered"]["mean"] > 0


def test_a_queue_no_group_serves_but_overflow_does_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text(
        BASE.replace(
            "{name: r, skills: [t]}]",
            "{name: r, skills: [t]}, {name: u, skills: [u], overflow: {after_s: 20, to: [q]}}]",
        ).replace(
            "calls:\n",
            "calls:\n  - {queue: u, arrivals: {per_hour: 10}, "
            "talk_s: {dist: constant, value: 60}}\n",
        )
    )
    found = [(p.level, str(p)) for p in check_scenario(load_scenario(path))]
    assert found == [
        (
            Level.WARNING,
            "queues[2].skills: no agent group has all of u: calls wait 20 s in 'u', then go "
            "to the agents of q (overflow)",
        )
    ]


@pytest.mark.parametrize(
    ("routing", "places", "expected"),
    [
        ("", "", "the queue grows until callers give up"),
        (
            "routing: {lines: 1}\n",
            "",
            "no queue can form on 1 lines: the callers beyond them hear busy",
        ),
        ("routing: {lines: 3}\n", "", "at most 2 callers can wait on 3 lines: the rest hear busy"),
        (
            "",
            ", max_waiting: 4",
            "the queue fills its 4 places (max_waiting), then callers get on_full (busy)",
        ),
    ],
)
def test_the_overload_warning_knows_lines_and_queue_places(
    tmp_path: Path, routing: str, places: str, expected: str
) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(
        BASE.replace("count: 3, skills: [s, t]", "count: 1, skills: [s, t]", 1)
        .replace("{name: q, skills: [s]}", "{name: q, skills: [s]" + places + "}")
        .replace("queues:", routing + "queues:")
    )
    (problem,) = check_scenario(load_scenario(path))
    assert str(problem).endswith(f"'q' can carry from 12:30 to 13:00: {expected}")


@pytest.mark.parametrize(
    ("reserve", "inbound_only", "expected"),
    [
        (
            12,
            0,
            "outbound.reserve: 12: nothing is ever dialled (the centre has 12 agents; a "
            "free agent dials only while 12 others are idle)",
        ),
        (
            9,
            4,
            "outbound.reserve: 9 is at least the 8 agents who can dial: one of them dials "
            "only while 9 others are idle, so the campaign waits for idle inbound-only agents",
        ),
        (2, 0, None),
    ],
)
def test_a_reserve_that_leaves_nothing_to_dial_is_warned_about(
    tmp_path: Path, reserve: int, inbound_only: int, expected: str | None
) -> None:
    text = (
        (SCENARIOS / "blended-outbound.yaml")
        .read_text()
        .replace("reserve: 2", f"reserve: {reserve}")
    )
    if inbound_only:
        text = text.replace(
            "- {name: blend, count: 12, skills: [service, campaign]}",
            f"- {{name: blend, count: {12 - inbound_only}, skills: [service, campaign]}}\n"
            f"  - {{name: inbound, count: {inbound_only}, skills: [service]}}",
        )
    path = tmp_path / "b.yaml"
    path.write_text(text)
    found = [str(p) for p in check_scenario(load_scenario(path))]
    assert found == ([expected] if expected else [])
