"""Answering-service client policy: hours, holidays, time zones, exceptions, treatments,
employee directory, FAQ, advertising blocking and the callback guard."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from callsim.core.client import (
    NOTE,
    BusinessHours,
    Client,
    ClientBook,
    CurrentException,
    Employee,
    EmployeeDirectory,
    FaqNode,
    Recording,
    RecordingMode,
    Tone,
    Treatment,
    TreatmentKind,
    check_callback,
    forward,
    instruction_for,
    normalise_number,
    screen,
)
from callsim.errors import ConfigError, PolicyError, UnknownClientError

OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_8_16 = {d: ((time(8), time(16)),) for d in range(5)}
FWD = Treatment(TreatmentKind.FORWARD, ("+4791111111", "+4792222222"))


def client(**kw: object) -> Client:
    base: dict[str, object] = {
        "name": "Acme Plumbing",
        "numbers": ("+47 22 00 00 01",),
        "treatment": FWD,
        "hours": BusinessHours(OSLO, WEEKDAYS_8_16, frozenset({date(2026, 12, 25)})),
        "off_hours": NOTE,
        "own_numbers": ("+47 91 11 11 11",),
    }
    base.update(kw)
    return Client(**base)  # type: ignore[arg-type]


def oslo(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=OSLO)


def test_business_hours_in_the_clients_time_zone() -> None:
    c = client()
    assert instruction_for(c, oslo(2026, 11, 23, 8, 0)).in_hours  # Monday 08:00 opens
    assert not instruction_for(c, oslo(2026, 11, 23, 16, 0)).in_hours  # 16:00 is closed
    assert not instruction_for(c, oslo(2026, 11, 22, 12)).in_hours  # Sunday
    # 14:30 UTC is 15:30 in Oslo (open), 09:30 in New York
    at = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    assert instruction_for(c, at).in_hours
    ny = client(hours=BusinessHours(NEW_YORK, {d: ((time(10), time(18)),) for d in range(5)}))
    assert not instruction_for(ny, at).in_hours  # 09:30 in New York
    assert instruction_for(ny, at + timedelta(hours=1)).in_hours


def test_daylight_saving_is_followed() -> None:
    c = client()
    # 2026-03-30 (Monday, summer time UTC+2): 06:30 UTC is 08:30 local, open
    assert instruction_for(c, datetime(2026, 3, 30, 6, 30, tzinfo=UTC)).in_hours
    # 2026-03-27 (Friday, winter time UTC+1): 06:30 UTC is 07:30 local, closed
    assert not instruction_for(c, datetime(2026, 3, 27, 6, 30, tzinfo=UTC)).in_hours


def test_holiday_and_off_hours_treatment() -> None:
    c = client()
    christmas = instruction_for(c, oslo(2026, 12, 25, 10))  # a Friday, but a holiday
    assert not christmas.in_hours
    assert christmas.treatment is NOTE
    assert instruction_for(c, oslo(2026, 12, 24, 10)).treatment is FWD
    assert "Mon-Fri 08:00-16:00" in christmas.hours_text
    assert "holidays" in christmas.hours_text


def test_exception_window_boundaries_and_messages() -> None:
    start, end = oslo(2026, 7, 1, 9), oslo(2026, 7, 15, 9)  # Wednesdays, in opening hours
    moved = CurrentException(start, end, "We have moved to Storgata 1.", NOTE)
    notice = CurrentException(start, end, "Expect delays this week.")
    c = client(exceptions=(moved, notice))
    before = instruction_for(c, start - timedelta(microseconds=1))
    at_start = instruction_for(c, start)
    last = instruction_for(c, end - timedelta(microseconds=1))
    at_end = instruction_for(c, end)
    assert (before.exception, at_start.exception, last.exception, at_end.exception) == (
        False,
        True,
        True,
        False,
    )
    assert at_start.treatment is NOTE
    assert at_start.messages == ("We have moved to Storgata 1.", "Expect delays this week.")
    assert before.treatment is FWD
    assert before.messages == ()
    assert at_end.treatment is FWD
    assert at_end.messages == ()
    # a message-only exception keeps the standard treatment
    only_notice = client(exceptions=(notice,))
    assert instruction_for(only_notice, oslo(2026, 7, 2, 10)).treatment is FWD


def test_greeting_template_and_tone() -> None:
    c = client(welcome="{client}, good day, this is {agent}.", tone=Tone.INFORMAL)
    i = instruction_for(c, oslo(2026, 11, 23, 9), agent="Kari")
    assert i.greeting == "Acme Plumbing, good day, this is Kari."
    assert i.tone is Tone.INFORMAL
    assert client().tone is Tone.FORMAL  # the default
    assert instruction_for(c, oslo(2026, 11, 23, 9)).greeting.endswith("this is {agent}.")


def test_recording_policy_and_the_reference_of_an_answered_call() -> None:
    rec = Recording(RecordingMode.ALL, "Calls are recorded.", 90, "rec://{client}/{date}/{call}")
    c = client(recording=rec)
    at = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # already the 24th in Oslo
    answered = instruction_for(c, at, 17)
    assert answered.recording is rec
    assert answered.recording_ref == "rec://Acme Plumbing/2026-11-24/17"  # the client's date
    assert instruction_for(c, at).recording_ref == ""  # no call yet: policy, no reference
    forbidden = client(recording=Recording(RecordingMode.NONE))
    assert instruction_for(forbidden, at, 17).recording_ref == ""
    assert instruction_for(client(), at, 17).recording is None  # the scenario says nothing


def test_forward_to_target_one_then_two_then_note() -> None:
    first = forward(FWD, {"+4791111111": True})
    assert (first.target, first.attempts, first.note) == ("+4791111111", ("+4791111111",), False)
    second = forward(FWD, {"+4791111111": False, "+4792222222": True})
    assert (second.target, second.note) == ("+4792222222", False)
    neither = forward(FWD, {})
    assert (neither.target, neither.attempts, neither.note) == (None, FWD.targets, True)
    with pytest.raises(ConfigError):
        Treatment(TreatmentKind.FORWARD, ())


def test_callback_guard_refuses_the_clients_own_numbers() -> None:
    c = client()
    assert check_callback(c, "+47 45 67 89 01") == "+4745678901"
    for own in ("+47 91 11 11 11", "+4791111111", "+47-22-00-00-01"):
        with pytest.raises(PolicyError, match="client's own number"):
            check_callback(c, own)
    with pytest.raises(PolicyError, match="no digits"):
        check_callback(c, "unknown")


def test_advertising_blocking() -> None:
    assert screen(client(block_advertising=True), advertising=False)
    assert not screen(client(block_advertising=True), advertising=True)
    assert screen(client(), advertising=True)


def test_client_book_selects_by_dialed_number() -> None:
    a = client(numbers=("+47 22 00 00 01", "+47 22 00 00 02"))
    b = client(name="Beta AS", numbers=("+4722000003",))
    book = ClientBook([a, b])
    assert book.for_dnis("+4722000002") is a
    assert book.for_dnis("+47 22 00 00 03") is b
    with pytest.raises(UnknownClientError, match="belongs to no client") as info:
        book.for_dnis("+4799999999")
    assert info.value.http_status == 404
    with pytest.raises(ConfigError, match="belongs to both"):
        ClientBook([a, client(name="Copy", numbers=("+4722000001",))])


def test_employee_directory_search_at_scale() -> None:
    people = [
        Employee(f"Person{i:05d} Hansen", "sales" if i % 2 else "accounting") for i in range(5000)
    ]
    people += [
        Employee("Åse Øvrebø", "accounting", NOTE),
        Employee("Ola Nordmann", "sales", FWD),
        Employee("Olav Berg", "support"),
    ]
    d = EmployeeDirectory(people)
    assert len(d) == 5003
    assert [e.name for e in d.search("ola")] == ["Ola Nordmann", "Olav Berg"]  # exact word first
    assert [e.name for e in d.search("ase ovre")] == ["Åse Øvrebø"]  # accents and case folded
    assert d.search("ola sales")[0].treatment is FWD
    assert len(d.search("person0", limit=50)) == 50
    assert d.search("   ") == []


def test_faq_tree_walk() -> None:
    faq = FaqNode(
        "Acme",
        (
            FaqNode("Opening hours", info="Mon-Fri 8-16"),
            FaqNode(
                "Emergencies", (FaqNode("Water leak", info="Close the main valve.", treatment=FWD),)
            ),
        ),
    )
    leaf = faq.walk(["emergencies", "Water leak"])
    assert leaf.info == "Close the main valve."
    assert leaf.treatment is FWD
    with pytest.raises(PolicyError, match="no entry 'Fire'"):
        faq.walk(["Emergencies", "Fire"])


def test_naive_times_are_refused() -> None:
    with pytest.raises(PolicyError, match="no time zone"):
        instruction_for(client(), datetime(2026, 11, 23, 9))


def test_number_normalisation() -> None:
    assert normalise_number("+47 (22) 00-00 01") == "+4722000001"
    assert normalise_number("22 00 00 01") == "22000001"
