"""Contacts, caller identification, the screen pop, tickets and IVR menus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callsim.core.client import Client, instruction_for
from callsim.core.contact import (
    PHOTO_PLACEHOLDER,
    Category,
    ContactBook,
    Direction,
    Interaction,
    Order,
    screen_pop,
)
from callsim.core.ivr import Exit, IvrSession, Menu, Option
from callsim.core.ticket import Status, TicketBook
from callsim.errors import ConfigError, InvalidTransitionError, PolicyError

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_unknown_number_creates_a_contact_with_only_the_number() -> None:
    book = ContactBook()
    contact, created = book.identify("+47 400 00 000")
    assert created
    assert contact.numbers == ["+4740000000"]
    assert contact.name == ""
    again, created_again = book.identify("+4740000000")
    assert again is contact
    assert not created_again
    with pytest.raises(PolicyError, match="no digits"):
        book.identify("anonymous")


def test_known_contact_from_a_new_number_gets_it_attached() -> None:
    book = ContactBook()
    kari = book.add(["+4740000000"], name="Kari Nordmann", category=Category.VIP)
    book.attach_number(kari.id, "+47 900 00 000")
    assert book.identify("+4790000000") == (kari, False)
    other = book.add(["+4711111111"], name="Other")
    with pytest.raises(PolicyError, match="already belongs to contact"):
        book.attach_number(other.id, "+4790000000")


def test_attaching_a_number_merges_the_contact_created_for_it() -> None:
    book = ContactBook()
    kari = book.add(["+4740000000"], name="Kari Nordmann", last_agent="ann")
    kari.history.append(Interaction(T0, Direction.INBOUND, "ann", "old call"))
    stranger, created = book.identify("+47 900 00 000")  # Kari, on a new phone
    assert created
    assert stranger.placeholder()
    book.record(stranger.id, Interaction(T0 + timedelta(hours=1), Direction.INBOUND, "bob", ""))
    tickets = TicketBook()
    t = tickets.open(stranger.id, "Where is my order?", T0, "bob")

    assert book.attach_number(kari.id, "+4790000000") is stranger
    assert tickets.move(stranger.id, kari.id) == [t]
    assert tickets.open_for(kari.id) == [t]
    assert book.identify("+4790000000") == (kari, False)
    assert kari.numbers == ["+4740000000", "+4790000000"]
    assert [h.agent for h in kari.history] == ["ann", "bob"]  # in time order
    assert kari.last_agent == "bob"
    assert (stranger.numbers, stranger.history, stranger.merged_into) == ([], [], kari.id)
    with pytest.raises(PolicyError, match="was merged into"):
        book.attach_number(stranger.id, "+4712345678")
    # a contact someone completed is not a placeholder: never merged silently
    named, _ = book.identify("+4755555555")
    named.name = "Ola"
    with pytest.raises(PolicyError, match=r"already belongs to contact \d+ \(Ola\)"):
        book.attach_number(kari.id, "+4755555555")


def test_contacts_are_found_by_name_or_company() -> None:
    book = ContactBook()
    book.add(["+4740000001"], name="Kari Nordmann", company="Rørlegger AS")
    book.add(["+4740000002"], name="Kari Ås")
    book.add(["+4740000003"], name="Ola Nordmann")
    book.identify("+4740000004")  # no name yet: not found by any name
    assert [c.name for c in book.search("kari")] == ["Kari Ås", "Kari Nordmann"]
    assert [c.name for c in book.search("nord KA")] == ["Kari Nordmann"]
    assert [c.name for c in book.search("rorlegger")] == ["Kari Nordmann"]  # accents folded
    assert [c.name for c in book.search("as")] == ["Kari Ås", "Kari Nordmann"]
    assert book.search("  ") == []
    assert book.search("nordmann", limit=1)[0].name == "Kari Nordmann"


def test_screen_pop_holds_every_field() -> None:
    book = ContactBook()
    c = book.add(
        ["+4740000000"],
        name="Kari Nordmann",
        company="Nordmann AS",
        category=Category.PROBLEM,
        note="Disputes every invoice",
        city="Oslo",
        country="Norway",
        orders=[Order("SO-17", "delivery", "Per", 1200.0)],
    )
    for i in range(7):
        book.record(
            c.id,
            Interaction(T0 - timedelta(days=7 - i), Direction.INBOUND, f"agent{i}", f"call {i}"),
        )
    instr = instruction_for(Client("Acme", ("+4722000001",)), T0)
    pop = screen_pop(instr, c, "+4740000000", T0, "Ann", "2001")
    assert pop.client == "Acme"
    assert pop.direction is Direction.INBOUND
    assert pop.at == T0
    assert (pop.contact_name, pop.company, pop.category, pop.warning) == (
        "Kari Nordmann",
        "Nordmann AS",
        "problem",
        "Disputes every invoice",
    )
    assert pop.orders[0].outstanding_debt == 1200.0
    assert pop.location == "Oslo, Norway"
    assert [h.summary for h in pop.history] == ["call 6", "call 5", "call 4", "call 3", "call 2"]
    assert (pop.agent_name, pop.agent_extension, pop.photo) == ("Ann", "2001", PHOTO_PLACEHOLDER)
    assert pop.greeting.startswith("Welcome to Acme")
    assert pop.treatment == "note"
    assert c.last_agent == "agent6"
    new, created = book.identify("+4799999999")
    new_pop = screen_pop(instr, new, "+4799999999", T0, "Ann", new_caller=created)
    assert new_pop.new_caller
    assert new_pop.contact_name == ""
    assert new_pop.orders == ()
    assert new_pop.history == ()


def test_ticket_life_cycle_and_feedback() -> None:
    book = TicketBook()
    t = book.open(contact=1, subject="Leaking tap", at=T0, by="ann")
    with pytest.raises(InvalidTransitionError, match="cannot go from open to closed"):
        book.change(t.id, Status.CLOSED, T0, "ann")
    with pytest.raises(PolicyError, match="due time"):
        book.change(t.id, Status.NEEDS_FOLLOW_UP, T0, "ann")
    with pytest.raises(InvalidTransitionError):  # check refuses what change would
        book.check(t.id, Status.CLOSED, T0)
    assert book.check(t.id, Status.RESOLVED, T0) is t
    assert t.status is Status.OPEN
    book.change(t.id, Status.NEEDS_FOLLOW_UP, T0, "ann", follow_up_due=T0 + timedelta(days=1))
    assert book.due(T0) == []
    assert book.due(T0 + timedelta(days=1)) == [t]
    assert book.open_for(1) == [t]
    book.change(t.id, Status.RESOLVED, T0 + timedelta(days=1), "bob")
    assert t.follow_up_due is None
    book.change(t.id, Status.CLOSED, T0 + timedelta(days=2), "bob", feedback_channel="call")
    assert [(f.ticket, f.channel) for f in book.feedback] == [(t.id, "call")]
    assert book.open_for(1) == []
    with pytest.raises(InvalidTransitionError, match=r"allowed: none"):
        book.change(t.id, Status.OPEN, T0 + timedelta(days=3), "bob")
    assert [c.status for c in t.changes] == [
        Status.OPEN,
        Status.NEEDS_FOLLOW_UP,
        Status.RESOLVED,
        Status.CLOSED,
    ]


def test_ivr_menu_tree() -> None:
    billing = Menu("Billing: 1 for invoices, 2 to hear your balance.", {
        "1": Option(Exit.QUEUE, queue="billing"),
        "2": Option(Exit.DEFLECTED, message="Your balance is read out."),
    })  # fmt: skip
    main = Menu(
        "1 sales, 2 support, 3 billing, 9 leave a message, 0 opening hours.",
        {
            "1": Option(Exit.QUEUE, queue="sales"),
            "2": Option(Exit.QUEUE, queue="support"),
            "3": Option(Exit.SUBMENU, submenu=billing),
            "9": Option(Exit.VOICEMAIL),
            "0": Option(Exit.MESSAGE, message="We are open 8 to 16."),
        },
        default=Option(Exit.QUEUE, queue="support"),
    )
    s = IvrSession(main)
    assert s.start().prompt.startswith("1 sales")
    assert s.press("3").prompt.startswith("Billing")
    step = s.press("2")
    assert step.done
    assert step.option is not None
    assert step.option.exit is Exit.DEFLECTED
    lost = IvrSession(main)
    assert not lost.press("7").done
    assert not lost.press("8").done
    fallback = lost.press("5")
    assert fallback.done
    assert fallback.option is not None
    assert fallback.option.queue == "support"
    with pytest.raises(ConfigError, match="not a keypad key"):
        Menu("x", {"12": Option(Exit.VOICEMAIL)})
    with pytest.raises(ConfigError, match="queue name"):
        Option(Exit.QUEUE)


def test_routing_inputs_from_the_contact_drive_the_acd() -> None:
    from callsim.core import CallArrived, QueueConfig, Ring, routing_inputs
    from tests.conftest import make_acd

    book = ContactBook()
    vip = book.add(["+4740000000"], name="Kari", category=Category.VIP, language="de")
    book.record(vip.id, Interaction(T0, Direction.INBOUND, "b", "asked about invoice"))
    plain = book.add(["+4741111111"], name="Per")
    inputs = routing_inputs(vip, "support-en", language_queues={"de": "support-de"})
    assert (inputs.queue, inputs.priority, inputs.preferred_agent, inputs.preferred_wait_s) == (
        "support-de",
        5,
        "b",
        30.0,
    )
    assert (
        routing_inputs(plain, "support-en", language_queues={"de": "support-de"}).priority is None
    )
    assert routing_inputs(plain, "support-en").preferred_agent is None

    queues = [
        QueueConfig("support-en", ("support", "en")),
        QueueConfig("support-de", ("support", "de")),
    ]
    acd = make_acd({"a": ["support", "de"], "b": ["support", "de", "en"]}, queues)
    out = acd.handle(
        CallArrived(
            1,
            inputs.queue,
            priority=inputs.priority,
            preferred_agent=inputs.preferred_agent,
            preferred_wait_s=inputs.preferred_wait_s,
        ),
        10,
    )
    assert [c.agent for c in out if isinstance(c, Ring)] == [
        "b"
    ]  # a was idle longer; b is preferred
    assert acd._calls[1].priority == 5
