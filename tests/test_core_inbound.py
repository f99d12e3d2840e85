"""The inbound flow of an answering-service call, tested in the core alone (no simulator):
client, screening, identification, voice menu, routing inputs, instruction, treatment."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from callsim.core import (
    BusinessHours,
    CallArrived,
    CallDiverted,
    CallerRouting,
    Category,
    Client,
    ClientBook,
    ContactBook,
    CurrentException,
    Employee,
    EmployeeDirectory,
    Exit,
    FaqNode,
    Identification,
    InboundFlow,
    Menu,
    Option,
    Outcome,
    PolicyResult,
    Treatment,
    TreatmentKind,
    writes_note,
)
from callsim.errors import (
    ConfigError,
    InvalidEventError,
    NotFoundError,
    UnknownClientError,
    UnknownEmployeeError,
)

OSLO = ZoneInfo("Europe/Oslo")
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=OSLO)  # the clock's zero
FWD = Treatment(TreatmentKind.FORWARD, ("+4791000001", "+4791000002"))
MENU = Menu(
    "1 opening hours, 2 voicemail, 3 a message, 4 bookings, 5 more",
    {
        "1": Option(Exit.DEFLECTED, message="We open at eight."),
        "2": Option(Exit.VOICEMAIL),
        "3": Option(Exit.MESSAGE, message="Cancellations by text message."),
        "4": Option(Exit.QUEUE, queue="bookings"),
        "5": Option(
            Exit.SUBMENU,
            submenu=Menu("1 english", {"1": Option(Exit.QUEUE, queue="english")}),
        ),
    },
    default=Option(Exit.VOICEMAIL),
    max_retries=1,
)
EMPLOYEES = EmployeeDirectory(
    [
        Employee("Kari Moen", "sales", FWD),
        Employee("Eva Lie", "accounting"),
    ]
)
FAQ = FaqNode(
    "Questions",
    (
        FaqNode("Emergency", treatment=Treatment(TreatmentKind.FORWARD, ("+4799000001",))),
        FaqNode("Prices", info="See the web site."),
    ),
)


def flow(**client: object) -> InboundFlow:
    base: dict[str, object] = {
        "name": "Fjord Dental",
        "numbers": ("+47 21 50 11 27",),
        "queue": "reception",
        "treatment": FWD,
        "hours": BusinessHours(OSLO, {d: ((time(8), time(16)),) for d in range(5)}),
        "off_hours": Treatment(TreatmentKind.NOTE, info="We are closed."),
        "block_advertising": True,
        "menu": MENU,
    }
    base.update(client)
    book = ContactBook()
    book.add(["+4790000001"], name="Vera Vip", category=Category.VIP, language="no")
    book.add(["+4790000002"], name="Eric", language="en")
    routing = CallerRouting(vip_priority=7, language_queues={"en": "english"}, last_agent_wait_s=20)
    return InboundFlow(ClientBook([Client(**base)]), book, MONDAY_8, routing)  # type: ignore[arg-type]


DNIS = "+4721501127"


def test_the_dialed_number_selects_the_client_else_not_found() -> None:
    f = flow()
    call = f.arrive(1, "+4790000009", "+47 21 50 11 27", 0.0)
    assert call.client.name == "Fjord Dental"
    with pytest.raises(UnknownClientError, match="'\\+4799' belongs to no client") as info:
        f.arrive(2, "+4790000009", "+4799", 0.0)
    assert isinstance(info.value, NotFoundError)
    assert info.value.http_status == 404


def test_advertising_is_screened_out_before_identification() -> None:
    f = flow()
    call = f.arrive(1, "+4790000009", DNIS, 0.0, advertising=True, keys="4")
    assert call.event == CallDiverted(1, "reception", Outcome.BLOCKED, "+4790000009", DNIS)
    assert call.result is PolicyResult.BLOCKED
    assert call.identification is Identification.WITHHELD  # nobody was looked up
    assert "+4790000009" not in {n for c in f.contacts.contacts.values() for n in c.numbers}
    # a client without blocking takes the advertiser's call like any other
    call = flow(block_advertising=False).arrive(2, "+4790000009", DNIS, 0.0, advertising=True)
    assert isinstance(call.event, CallArrived)


def test_identification_known_new_and_withheld() -> None:
    f = flow()
    known = f.arrive(1, "+47 90 00 00 01", DNIS, 0.0)
    assert known.identification is Identification.KNOWN
    assert known.contact is not None
    assert known.contact.name == "Vera Vip"
    new = f.arrive(2, "+4790000077", DNIS, 0.0, language="en")
    assert new.identification is Identification.NEW
    assert new.contact is not None
    assert (new.contact.numbers, new.contact.name, new.contact.language) == (
        ["+4790000077"],
        "",
        "en",
    )
    again = f.arrive(3, "+4790000077", DNIS, 60.0)
    assert again.identification is Identification.KNOWN  # the new contact is known now
    for number in ("", "anonymous"):
        withheld = f.arrive(4, number, DNIS, 0.0)
        assert withheld.identification is Identification.WITHHELD
        assert withheld.contact is None


@pytest.mark.parametrize(
    ("keys", "outcome", "result", "path"),
    [
        ("1", Outcome.DEFLECTED, PolicyResult.DEFLECTED, ("1",)),
        ("2", Outcome.VOICEMAIL, PolicyResult.VOICEMAIL, ("2",)),
        ("3", Outcome.MESSAGE, PolicyResult.MESSAGE, ("3",)),
        ("99", Outcome.VOICEMAIL, PolicyResult.VOICEMAIL, ()),  # wrong twice: the default
    ],
)
def test_the_voice_menu_ends_calls_by_the_keys_pressed(
    keys: str, outcome: Outcome, result: PolicyResult, path: tuple[str, ...]
) -> None:
    call = flow().arrive(1, "+4790000009", DNIS, 0.0, keys=keys)
    assert isinstance(call.event, CallDiverted)
    assert (call.event.outcome, call.result, call.ivr_path) == (outcome, result, path)
    assert call.event.queue == "reception"  # the record's queue is the client's


def test_menu_options_choose_the_queue_and_a_silent_caller_waits_in_the_clients() -> None:
    f = flow()
    assert f.arrive(1, "+4790000009", DNIS, 0, keys="4").event.queue == "bookings"
    assert f.arrive(2, "+4790000009", DNIS, 0, keys="51").event.queue == "english"
    assert f.arrive(3, "+4790000009", DNIS, 0, keys="5").event.queue == "reception"
    assert f.arrive(4, "+4790000009", DNIS, 0, keys="").event.queue == "reception"
    assert f.arrive(5, "+4790000009", DNIS, 0, keys="9").event.queue == "reception"
    assert f.arrive(6, "+4790000009", DNIS, 0, keys="4123").event.queue == "bookings"


def test_routing_inputs_vip_language_and_last_agent() -> None:
    f = flow()
    vip = f.arrive(1, "+4790000001", DNIS, 0.0)
    assert vip.event == CallArrived(1, "reception", "+4790000001", DNIS, 7, None, 0.0)
    english = f.arrive(2, "+4790000002", DNIS, 0.0)
    assert english.event.queue == "english"
    # the caller's language on this call wins over the contact's
    assert f.arrive(3, "+4790000002", DNIS, 0.0, language="no").event.queue == "reception"
    # once served, a contact's next call prefers that agent for 20 s
    f.answer(vip, "ann", 30.0)
    again = f.arrive(4, "+4790000001", DNIS, 600.0)
    assert isinstance(again.event, CallArrived)
    assert (again.event.preferred_agent, again.event.preferred_wait_s) == ("ann", 20)
    f.answer(again, "ann", 610.0)
    assert again.served_by_last_agent
    assert [i.agent for i in again.contact.history] == ["ann", "ann"]  # type: ignore[union-attr]


def test_the_instruction_follows_hours_exceptions_and_tone() -> None:
    f = flow(
        exceptions=(
            CurrentException(
                datetime(2026, 11, 23, 12, tzinfo=OSLO),
                datetime(2026, 11, 23, 13, tzinfo=OSLO),
                "We have moved.",
                Treatment(TreatmentKind.NOTE),
            ),
        )
    )
    call = f.arrive(1, "+4790000001", DNIS, 0.0)
    inst = f.answer(call, "ann", 3600.0)  # Monday 09:00 Oslo: open
    assert (inst.in_hours, inst.treatment, call.off_hours) == (True, FWD, False)
    assert inst.greeting == "Welcome to Fjord Dental, how may I help you?"
    late = f.arrive(2, "+4790000001", DNIS, 8 * 3600.0)
    assert f.answer(late, "ann", 8 * 3600.0 + 5).treatment.info == "We are closed."  # 16:00
    assert late.off_hours
    lunch = f.arrive(3, "+4790000001", DNIS, 4 * 3600.0)
    inst = f.answer(lunch, "ann", 4 * 3600.0 + 60)  # 12:01, inside the exception
    assert (inst.exception, inst.messages, inst.treatment.kind) == (
        True,
        ("We have moved.",),
        TreatmentKind.NOTE,
    )


def test_forward_tries_target_1_then_2_then_a_note() -> None:
    f = flow()
    outcomes = {}
    for answers, expected in [
        ({"+4791000001": True}, PolicyResult.FORWARDED_TARGET_1),
        ({"+4791000002": True}, PolicyResult.FORWARDED_TARGET_2),
        ({}, PolicyResult.FORWARD_FAILED),
    ]:
        call = f.arrive(len(outcomes), "+4790000009", DNIS, 0.0)
        f.answer(call, "ann", 10.0)
        outcomes[expected] = f.treat(call, answered=answers)
        assert outcomes[expected] is expected
        assert call.forward is not None
    assert writes_note(PolicyResult.FORWARD_FAILED)
    assert not writes_note(PolicyResult.FORWARDED_TARGET_2)
    # a function is asked only for the targets tried, in order
    asked: list[str] = []
    call = f.arrive(9, "+4790000009", DNIS, 0.0)
    f.answer(call, "ann", 10.0)
    f.treat(call, answered=lambda t: asked.append(t) or True)  # type: ignore[func-returns-value]
    assert asked == ["+4791000001"]


def test_employee_and_faq_treatments_apply_in_hours_only() -> None:
    f = flow(employees=EMPLOYEES, faq=FAQ, treatment=Treatment(TreatmentKind.NOTE))
    call = f.arrive(1, "+4790000009", DNIS, 0.0)
    f.answer(call, "ann", 3600.0)
    assert f.treat(call, employee="kari moen", answered={"+4791000001": True}) is (
        PolicyResult.FORWARDED_TARGET_1
    )
    call = f.arrive(2, "+4790000009", DNIS, 0.0)
    f.answer(call, "ann", 3600.0)
    assert f.treat(call, employee="Eva Lie") is PolicyResult.NOTE
    call = f.arrive(3, "+4790000009", DNIS, 0.0)
    f.answer(call, "ann", 3600.0)
    assert f.treat(call, faq=["Emergency"], answered={"+4799000001": True}) is (
        PolicyResult.FORWARDED_TARGET_1
    )
    # off hours the off-hours treatment applies, whoever the caller asks for
    call = f.arrive(4, "+4790000009", DNIS, 9 * 3600.0)
    f.answer(call, "ann", 9 * 3600.0)
    assert f.treat(call, employee="Kari Moen", answered={"+4791000001": True}) is (
        PolicyResult.NOTE
    )
    call = f.arrive(5, "+4790000009", DNIS, 0.0)
    f.answer(call, "ann", 3600.0)
    with pytest.raises(UnknownEmployeeError, match="'Nobody' is not on the list"):
        f.treat(call, employee="Nobody")


def test_treat_needs_an_answer_and_the_epoch_a_time_zone() -> None:
    f = flow()
    call = f.arrive(1, "+4790000009", DNIS, 0.0)
    with pytest.raises(InvalidEventError, match="treat refused: call 1 was not answered"):
        f.treat(call)
    with pytest.raises(ConfigError, match=r"epoch: .* has no time zone"):
        InboundFlow(ClientBook([]), ContactBook(), datetime(2026, 1, 1))


def test_screen_pop_of_a_new_caller_shows_only_the_number() -> None:
    f = flow()
    new = f.arrive(1, "+4790000077", DNIS, 0.0)
    f.answer(new, "ann", 5.0)
    pop = f.screen_pop(new, "Ann", "201")
    assert (pop.client, pop.caller_number, pop.contact_name, pop.new_caller) == (
        "Fjord Dental",
        "+4790000077",
        "",
        True,
    )
    known = f.arrive(2, "+4790000001", DNIS, 0.0)
    f.answer(known, "ann", 5.0)
    pop = f.screen_pop(known)
    assert (pop.contact_name, pop.category, pop.new_caller, pop.agent_name) == (
        "Vera Vip",
        "vip",
        False,
        "ann",
    )
    assert pop.at == datetime(2026, 11, 23, 7, 0, 5, tzinfo=UTC)  # answered 08:00:05 Oslo
