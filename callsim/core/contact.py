"""Contacts (the CRM side) and the screen pop an agent sees when a call rings.

``ContactBook.identify(number)`` finds the caller by number; an unknown number creates a
contact holding only the number, which the agent completes during the call. A known
contact calling from a new number gets it attached (``attach_number``): the contact
created for that number is merged into the known one. ``search`` finds contacts by name
or company for the agent to attach the number to.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from callsim.core.client import Instruction, fold, normalise_number
from callsim.errors import PolicyError, UnknownContactError

PHOTO_PLACEHOLDER = "placeholder:person"


class Direction(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Category(enum.Enum):
    REGULAR = "regular"
    VIP = "vip"
    PROBLEM = "problem"


@dataclass(frozen=True, slots=True)
class Order:
    reference: str
    stage: str
    responsible: str  # the employee who owns it
    outstanding_debt: float = 0.0


@dataclass(frozen=True, slots=True)
class Interaction:
    at: datetime
    direction: Direction
    agent: str
    summary: str


@dataclass(slots=True)
class Contact:
    """A person or company in the CRM (mutable: the agent completes and updates it)."""

    id: int
    numbers: list[str]
    name: str = ""
    company: str = ""
    category: Category = Category.REGULAR
    note: str = ""  # free-text warning shown on the screen pop
    orders: list[Order] = field(default_factory=list)
    city: str = ""
    country: str = ""
    language: str = ""
    photo: str | None = None
    last_agent: str | None = None
    history: list[Interaction] = field(default_factory=list)
    merged_into: int | None = None  # the known contact this caller turned out to be

    def placeholder(self) -> bool:
        """Created for an unknown number and not completed: no name, no company, one
        number (merged into a known contact when the agent attaches the number)."""
        return (
            not self.name and not self.company and len(self.numbers) == 1
            and self.merged_into is None
        )  # fmt: skip


class ContactBook:
    """Contacts indexed by every number they call from."""

    __slots__ = ("_by_number", "_next_id", "contacts")

    def __init__(self) -> None:
        self.contacts: dict[int, Contact] = {}
        self._by_number: dict[str, int] = {}
        self._next_id = 1

    def add(self, numbers: list[str], **fields: object) -> Contact:
        contact = Contact(self._next_id, [], **fields)  # type: ignore[arg-type]
        self._next_id += 1
        self.contacts[contact.id] = contact
        for n in numbers:
            self.attach_number(contact.id, n)
        return contact

    def restore(self, contact: Contact) -> None:
        """Put back a contact kept elsewhere (a database), with its id and numbers."""
        self.contacts[contact.id] = contact
        for n in contact.numbers:
            self._by_number[normalise_number(n)] = contact.id
        self._next_id = max(self._next_id, contact.id + 1)

    def find(self, number: str) -> Contact | None:
        """The contact holding ``number``, or None."""
        cid = self._by_number.get(normalise_number(number))
        return None if cid is None else self.contacts[cid]

    def identify(self, number: str) -> tuple[Contact, bool]:
        """The contact calling from ``number``; a new one holding only the number if unknown.
        Returns (contact, created)."""
        cid = self._by_number.get(number)  # already normalised: no need to normalise
        if cid is not None:
            return self.contacts[cid], False
        key = normalise_number(number)
        if not key:
            raise PolicyError(
                f"caller number {number!r} has no digits (withheld numbers are not looked up)"
            )
        cid = self._by_number.get(key)
        if cid is not None:
            return self.contacts[cid], False
        return self.add([number]), True

    def attach_number(self, contact_id: int, number: str) -> Contact | None:
        """Attach a new number to a known contact (it calls from a new phone). If the
        number belongs to a placeholder (the contact created when it first called), the
        placeholder is merged into the known contact: its history moves over and it
        keeps no number, pointing at the contact (``merged_into``). Returns the merged
        placeholder, or None."""
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise UnknownContactError(f"contact {contact_id} does not exist")
        if contact.merged_into is not None:
            raise PolicyError(f"contact {contact_id} was merged into contact {contact.merged_into}")
        key = normalise_number(number)
        if not key:
            raise PolicyError(f"number {number!r} has no digits")
        owner = self._by_number.get(key)
        merged = None
        if owner is not None and owner != contact_id:
            merged = self.contacts[owner]
            if not merged.placeholder():
                who = merged.name or merged.company
                raise PolicyError(f"number {number!r} already belongs to contact {owner} ({who})")
            contact.history = sorted([*contact.history, *merged.history], key=_when)
            contact.last_agent = (contact.history[-1].agent if contact.history else None) or (
                contact.last_agent
            )
            merged.numbers, merged.history, merged.merged_into = [], [], contact_id
        if key not in contact.numbers:
            contact.numbers.append(key)
        self._by_number[key] = contact_id
        return merged

    def search(self, text: str, limit: int = 20) -> list[Contact]:
        """Contacts whose name or company has every word of ``text`` as a word prefix
        (accents and case ignored), by name. A scan: contacts change during the day,
        and a scan of ten thousand stays well under the time between two keystrokes."""
        query = fold(text).split()
        if not query:
            return []
        found = []
        for c in self.contacts.values():
            if not (c.name or c.company):
                continue
            words = fold(f"{c.name} {c.company}").split()
            if all(any(w.startswith(q) for w in words) for q in query):
                found.append(c)
        found.sort(key=lambda c: (fold(c.name or c.company), c.id))
        return found[:limit]

    def record(self, contact_id: int, interaction: Interaction) -> None:
        contact = self.contacts[contact_id]
        contact.history.append(interaction)
        if interaction.agent:
            contact.last_agent = interaction.agent


def _when(interaction: Interaction) -> datetime:
    return interaction.at


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """The client card shown when the call rings (DOMAIN.md section 4)."""

    client: str  # shown prominently
    at: datetime
    direction: Direction
    caller_number: str
    contact_name: str
    company: str
    category: str
    warning: str
    orders: tuple[Order, ...]
    location: str
    history: tuple[Interaction, ...]  # newest first
    agent_extension: str
    agent_name: str
    photo: str
    greeting: str
    treatment: str
    messages: tuple[str, ...]
    hours_text: str
    new_caller: bool


def screen_pop(
    instruction: Instruction,
    contact: Contact,
    caller_number: str,
    at: datetime,
    agent_name: str,
    agent_extension: str = "",
    *,
    new_caller: bool = False,
    direction: Direction = Direction.INBOUND,
    history_items: int = 5,
) -> ScreenPop:
    """Assemble the card. A new caller's card shows only the number."""
    location = ", ".join(p for p in (contact.city, contact.country) if p)
    return ScreenPop(
        client=instruction.client,
        at=at,
        direction=direction,
        caller_number=caller_number,
        contact_name=contact.name,
        company=contact.company,
        category=contact.category.value,
        warning=contact.note,
        orders=tuple(contact.orders),
        location=location,
        history=tuple(reversed(contact.history[-history_items:])),
        agent_extension=agent_extension,
        agent_name=agent_name,
        photo=contact.photo or PHOTO_PLACEHOLDER,
        greeting=instruction.greeting,
        treatment=instruction.treatment.kind.value,
        messages=instruction.messages,
        hours_text=instruction.hours_text,
        new_caller=new_caller,
    )


@dataclass(frozen=True, slots=True)
class RoutingInputs:
    """What the contact changes about routing; the shell puts it into ``CallArrived``."""

    queue: str
    priority: int | None
    preferred_agent: str | None
    preferred_wait_s: float


def routing_inputs(
    contact: Contact,
    queue: str,
    *,
    language: str | None = None,
    language_queues: Mapping[str, str] | None = None,
    vip_priority: int = 5,
    preferred_wait_s: float = 30.0,
) -> RoutingInputs:
    """VIP callers get ``vip_priority``; the caller's language (``language``, else the
    contact's) picks the queue that needs that language skill (``language_queues``:
    language -> queue); the last agent who served the contact is preferred for
    ``preferred_wait_s`` (0: only if idle)."""
    spoken = language if language is not None else contact.language
    chosen = (language_queues or {}).get(spoken, queue)
    return RoutingInputs(
        queue=chosen,
        priority=vip_priority if contact.category is Category.VIP else None,
        preferred_agent=contact.last_agent,
        preferred_wait_s=preferred_wait_s if contact.last_agent else 0.0,
    )
