"""What happens to a call to a client's dialled number, in DOMAIN.md's order.

Both shells call this flow for every answering-service call: the simulator with the
caller's behaviour it draws, the live service with what the telephone network and the
agent report. What people and the world do are inputs (the number called from, the keys
pressed, the language spoken, the employee asked for, whether a forward target picks
up); everything the service decides from them is here:

``arrive``      1. the client, by the dialled number
                2. screening: advertising blocking
                3. identification in the contact book: known, new (a contact holding only
                   the number is created) or withheld
                4. the voice menu, walked with the keys pressed
                5. the routing inputs: VIP priority, the language's queue, the last agent
                   and how long to wait for them
                -> ``InboundCall.event``: ``CallArrived`` for the ACD, or ``CallDiverted``
                   (blocked, deflected, voicemail, message), which the shell hands to
                   ``Acd.handle`` as it is
``answer``      6. the instruction when an agent answers: business hours and holidays in
                   the client's time zone, the current exception, greeting and tone; the
                   call joins the contact's history (its agent becomes the last agent)
``screen_pop``     the card the agent sees
``treat``       7. the treatment: the employee asked for or the FAQ leaf (in hours, with no
                   exception), else the instruction's; a forward tries target 1, then 2,
                   then a note (``client.forward``)

A call to a queue (an in-house line, no client) is a plain ``CallArrived``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from callsim.core.client import (
    Client,
    ClientBook,
    ForwardResult,
    Instruction,
    Treatment,
    TreatmentKind,
    forward,
    instruction_for,
    screen,
)
from callsim.core.contact import (
    Category,
    Contact,
    ContactBook,
    Direction,
    Interaction,
    ScreenPop,
    routing_inputs,
    screen_pop,
)
from callsim.core.event import CallArrived, CallDiverted, CallId
from callsim.core.ivr import Exit, IvrSession, Option
from callsim.core.record import Outcome
from callsim.errors import ConfigError, InvalidEventError, PolicyError

PRACTICE_WAIT_S = 86_400.0  # a practice call waits this long for its trainee alone


class Identification(enum.Enum):
    """Who the caller is to the contact book."""

    KNOWN = "known"  # the number belongs to a contact
    NEW = "new"  # an unknown number: a contact holding only the number was created
    WITHHELD = "withheld"  # no caller id: nobody is looked up


class PolicyResult(enum.Enum):
    """What the client's policy made of a call: one closed set for every layer."""

    NONE = "none"  # not decided: waiting, abandoned, or ended by the queue
    NOTE = "note"  # a call note to the client
    FORWARDED_TARGET_1 = "forwarded_target_1"
    FORWARDED_TARGET_2 = "forwarded_target_2"
    FORWARD_FAILED = "forward_failed"  # no target took the call: a note after all
    BLOCKED = "blocked"  # advertising, screened out before the queue
    DEFLECTED = "deflected"  # self-service in the voice menu
    VOICEMAIL = "voicemail"  # the voice menu's voicemail
    MESSAGE = "message"  # the voice menu's recorded message


_DIVERTED = {
    Exit.DEFLECTED: (Outcome.DEFLECTED, PolicyResult.DEFLECTED),
    Exit.VOICEMAIL: (Outcome.VOICEMAIL, PolicyResult.VOICEMAIL),
    Exit.MESSAGE: (Outcome.MESSAGE, PolicyResult.MESSAGE),
}
_FORWARDED = (PolicyResult.FORWARDED_TARGET_1, PolicyResult.FORWARDED_TARGET_2)
_NOBODY = Contact(0, [])  # the card of a withheld number


class InboundCall:
    """One call's way through the flow: the decisions made, for the shell to keep beside
    its call and pass back to ``answer``, ``screen_pop`` and ``treat``. Read it; only the
    flow changes it."""

    __slots__ = (
        "agent",
        "ani",
        "answered_at",
        "arrived_s",
        "call",
        "client",
        "contact",
        "dated",
        "dnis",
        "event",
        "forward",
        "identification",
        "instruction",
        "ivr_path",
        "message",
        "off_hours",
        "preferred_agent",
        "result",
        "treatment",
        "vip",
    )
    event: CallArrived | CallDiverted  # for the ACD, set by ``arrive``

    def __init__(self, call: CallId, client: Client, ani: str, dnis: str, arrived_s: float) -> None:
        self.call = call
        self.client = client
        self.ani = ani
        self.dnis = dnis
        self.arrived_s = arrived_s  # on the core's clock (``InboundFlow.at`` dates it)
        self.answered_at: datetime | None = None
        self.dated: datetime | None = None  # a practice call: the card's date and time
        self.contact: Contact | None = None
        self.identification = Identification.WITHHELD
        self.vip = False
        self.ivr_path: tuple[str, ...] = ()  # the keys that counted, in order
        self.message = ""  # what the voice menu played last
        self.preferred_agent: str | None = None
        self.result = PolicyResult.NONE
        self.agent: str | None = None
        self.instruction: Instruction | None = None
        self.off_hours = False
        self.treatment: Treatment | None = None
        self.forward: ForwardResult | None = None

    @property
    def served_by_last_agent(self) -> bool:
        return self.agent is not None and self.agent == self.preferred_agent


@dataclass(frozen=True, slots=True)
class CallerRouting:
    """How the caller's contact steers routing (centre-wide settings).

    ``vip_priority``: caller priority of VIP contacts; ``language_queues``: language ->
    the queue that needs that language skill; ``last_agent_wait_s``: how long a known
    caller waits for the agent who served them last (0: only if that agent is idle)."""

    vip_priority: int = 5
    language_queues: Mapping[str, str] | None = None
    last_agent_wait_s: float = 0.0


class InboundFlow:
    """The flow for one service: its clients, its contact book and the time of its clock's
    zero (``epoch``, aware), so that the core's seconds become the clients' local dates
    and times."""

    __slots__ = ("_epoch", "clients", "contacts", "routing")

    def __init__(
        self,
        clients: ClientBook,
        contacts: ContactBook,
        epoch: datetime,
        routing: CallerRouting | None = None,
    ) -> None:
        if epoch.tzinfo is None:
            raise ConfigError(f"{epoch} has no time zone", field="epoch")
        self.clients = clients
        self.contacts = contacts
        self._epoch = epoch
        self.routing = routing or CallerRouting()

    def at(self, now: float) -> datetime:
        """The aware date and time of ``now`` (seconds on the core's clock)."""
        return self._epoch + timedelta(seconds=now)

    # -- 1-5: before the queue ------------------------------------------------------------

    def arrive(
        self,
        call: CallId,
        ani: str,
        dnis: str,
        now: float,
        *,
        keys: str = "",
        advertising: bool = False,
        language: str | None = None,
        dated: datetime | None = None,
        for_agent: str | None = None,
    ) -> InboundCall:
        """A call to ``dnis`` from ``ani`` at ``now``. ``keys``: what the caller pressed in
        the voice menu, in order (keys after the menu ends are ignored; a caller who stops
        pressing waits in the client's queue); ``advertising``: the call is rated as
        advertising; ``language``: the caller's language if known from the call (else the
        contact's). A practice call re-enacts a card: ``dated`` is the card's date and
        time (aware), by which the client's hours and exceptions are read; ``for_agent``
        is the trainee, the only agent it rings (it waits for them)."""
        if dated is not None and dated.tzinfo is None:
            raise PolicyError(f"practice call {call!r}: the date {dated} has no time zone")
        client = self.clients.for_dnis(dnis)
        inbound = InboundCall(call, client, ani, dnis, now)
        inbound.dated = dated
        if not screen(client, advertising):
            return self._divert(inbound, Outcome.BLOCKED, PolicyResult.BLOCKED)
        contact = self._identify(inbound, language)
        queue = client.queue
        if client.menu is not None and keys:
            option = self._menu(inbound, keys)
            if option is not None and option.exit is not Exit.QUEUE:
                outcome, result = _DIVERTED[option.exit]
                return self._divert(inbound, outcome, result)
            if option is not None and option.queue:
                queue = option.queue
        r = self.routing
        inputs = routing_inputs(
            contact or _NOBODY,
            queue,
            language=language,
            language_queues=r.language_queues,
            vip_priority=r.vip_priority,
            preferred_wait_s=r.last_agent_wait_s,
        )
        agent, wait_s = inputs.preferred_agent, inputs.preferred_wait_s
        if for_agent is not None:
            agent, wait_s = for_agent, PRACTICE_WAIT_S
        inbound.preferred_agent = agent
        inbound.event = CallArrived(
            call, inputs.queue, ani, dnis, inputs.priority, agent, wait_s,
        )  # fmt: skip
        return inbound

    def _identify(self, inbound: InboundCall, language: str | None) -> Contact | None:
        if not inbound.ani:
            return None
        try:
            contact, created = self.contacts.identify(inbound.ani)
        except PolicyError:  # no digits ("anonymous"): a withheld number
            return None
        if language is not None and (created or not contact.language):
            contact.language = language
        inbound.contact = contact
        inbound.identification = Identification.NEW if created else Identification.KNOWN
        inbound.vip = contact.category is Category.VIP
        return contact

    def recognise(self, inbound: InboundCall) -> None:
        """The caller's number now belongs to a known contact (the agent attached it to
        them): the call, its screen pop and its history are that contact's."""
        contact = self.contacts.find(inbound.ani) if inbound.ani else None
        if contact is None or contact is inbound.contact:
            return
        inbound.contact = contact
        inbound.identification = Identification.KNOWN
        inbound.vip = contact.category is Category.VIP

    def _menu(self, inbound: InboundCall, keys: str) -> Option | None:
        """Walk the client's voice menu with the keys pressed; the option the call left it
        by, or None if the keys ran out first."""
        assert inbound.client.menu is not None
        session = IvrSession(inbound.client.menu)
        option = None
        for key in keys:
            step = session.press(key)
            inbound.message = step.prompt
            if step.done:
                option = step.option
                break
        inbound.ivr_path = tuple(session.path)
        return option

    def _divert(self, inbound: InboundCall, outcome: Outcome, result: PolicyResult) -> InboundCall:
        inbound.result = result
        inbound.event = CallDiverted(
            inbound.call, inbound.client.queue, outcome, inbound.ani, inbound.dnis
        )
        return inbound

    # -- 6-7: after the answer ------------------------------------------------------------

    def answer(self, inbound: InboundCall, agent: str, now: float) -> Instruction:
        """An agent answered: the instruction at this moment, and the call in the
        contact's history (the agent becomes the contact's last agent)."""
        at = inbound.dated or self.at(now)
        fields = {"caller": inbound.contact.name} if inbound.contact else {}
        instruction = instruction_for(inbound.client, at, inbound.call, **fields)
        inbound.agent = agent
        inbound.answered_at = at
        inbound.instruction = instruction
        inbound.off_hours = not instruction.in_hours
        if inbound.contact is not None:
            interaction = Interaction(at, Direction.INBOUND, agent, "")
            self.contacts.record(inbound.contact.id, interaction)
        return instruction

    def screen_pop(
        self, inbound: InboundCall, agent_name: str = "", agent_extension: str = ""
    ) -> ScreenPop:
        """The card shown to the agent, dated when it was answered (or rings, before the
        answer). A new caller's card shows only the number."""
        at = inbound.answered_at or inbound.dated or self.at(inbound.arrived_s)
        instruction = inbound.instruction or instruction_for(inbound.client, at)
        return screen_pop(
            instruction,
            inbound.contact or _NOBODY,
            inbound.ani,
            at,
            agent_name or inbound.agent or "",
            agent_extension,
            new_caller=inbound.identification is not Identification.KNOWN,
        )

    def treat(
        self,
        inbound: InboundCall,
        *,
        employee: str | None = None,
        faq: Sequence[str] = (),
        answered: Mapping[str, bool] | Callable[[str], bool] | None = None,
    ) -> PolicyResult:
        """Carry out the treatment of an answered call. ``employee``: whom the caller
        asked for; ``faq``: the path of titles to the caller's request in the FAQ tree;
        ``answered``: whether each forward target took the call (see ``forward``). In
        business hours with no current exception, the employee's own treatment applies,
        else the FAQ leaf's; otherwise the instruction's (off-hours or exception)."""
        instruction = inbound.instruction
        if instruction is None:
            raise InvalidEventError(f"treat refused: call {inbound.call!r} was not answered")
        treatment = chosen_treatment(inbound.client, instruction, employee, faq)
        inbound.treatment = treatment
        inbound.result, inbound.forward = carry_out(treatment, answered)
        return inbound.result


def chosen_treatment(
    client: Client, instruction: Instruction, employee: str | None, faq: Sequence[str]
) -> Treatment:
    """The treatment of an answered call: in business hours with no current exception,
    the employee's own (if the caller asked for one), else the FAQ leaf's; otherwise, or
    if neither has one, the instruction's."""
    treatment = instruction.treatment
    if instruction.in_hours and not instruction.exception:
        if employee is not None:
            treatment = client.employees.named(employee).treatment
        elif faq and client.faq is not None:
            treatment = client.faq.walk(faq).treatment or treatment
    return treatment


def carry_out(
    treatment: Treatment, answered: Mapping[str, bool] | Callable[[str], bool] | None
) -> tuple[PolicyResult, ForwardResult | None]:
    """What a treatment comes to: a note, or a forward to target 1, then 2, then a note
    (``answered``: whether each target took the call, see ``forward``)."""
    if treatment.kind is not TreatmentKind.FORWARD:
        return PolicyResult.NOTE, None
    result = forward(treatment, answered if answered is not None else {})
    if result.target is None:
        return PolicyResult.FORWARD_FAILED, result
    return _FORWARDED[len(result.attempts) - 1], result


def writes_note(result: PolicyResult) -> bool:
    """A call note is written for the client (the note treatment, or a failed forward)."""
    return result is PolicyResult.NOTE or result is PolicyResult.FORWARD_FAILED
