"""The outside world, modelled once: what callers, agents and forward targets do, as pure
functions of named random draws. The simulator's engine (``engine.py``) and the load tool
(``load/traffic.py``, ``load/locustfile.py``) both use it, so "live vs predicted"
compares the same world.

Every function takes its randomness as uniform draws in [0, 1) (a ``random`` callable,
``random.Random().random``) or as numpy samplers, in a fixed order documented with it;
what it returns depends on nothing else. ``Callers`` draws who dials from the ``caller``
stream in call order (the known population first), so that a simulated day and a load
plan of one seed hold the same callers however the calls are later served.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from callsim.core.client import Tone
from callsim.scenario.model import Contacts
from callsim.sim.plan import Balking, PlanClient, Recall, Transfer
from callsim.sim.sample import press_keys

Draw = Callable[[], float]  # a uniform draw in [0, 1)


class KnownCaller(NamedTuple):
    """One of a client's known callers, registered as a contact before the day (a
    NamedTuple, as ``Caller``: thousands are made a simulated day, and a tuple is made
    at a fraction of a frozen dataclass's cost)."""

    number: str
    vip: bool
    language: str


class Caller(NamedTuple):
    """Who dials a client, and what they want: their number (``known``: a registered
    contact's), the dialled number, their language (None for a known caller: the contact
    says it), the voice-menu keys they press, whether the call is advertising, and their
    request (one employee, or one FAQ leaf's path, or neither)."""

    ani: str
    dnis: str
    known: bool
    language: str | None
    keys: str
    advertising: bool
    employee: str | None = None
    faq: tuple[str, ...] = ()


def language(shares: Mapping[str, float], u: float) -> str:
    """The language a caller speaks, by the population's shares ('' with none); ``u``:
    one uniform draw (the last language when the shares sum to less than ``u``)."""
    total, last = 0.0, ""
    for last, share in shares.items():  # the last one is the fallback
        total += share
        if u < total:
            return last
    return last


def known_callers(client: int, contacts: Contacts | None, random: Draw) -> list[KnownCaller]:
    """Client ``client``'s known population (none without a known share): per contact,
    a draw for VIP and one for the language (if languages are set)."""
    if contacts is None or contacts.known_share <= 0:
        return []
    out = []
    for k in range(contacts.population):
        vip = random() < contacts.vip_share
        speaks = language(contacts.languages, random()) if contacts.languages else ""
        out.append(KnownCaller(f"+1{client:03d}{k:06d}", vip, speaks))
    return out


def new_number(k: int) -> str:
    """The number of the ``k``-th new caller (from 1) of a day or a load run."""
    return f"+2{k:09d}"


def caller(
    pc: PlanClient,
    contacts: Contacts | None,
    known: Sequence[KnownCaller],
    fresh: int,
    random: Draw,
) -> Caller:
    """A caller dials the client ``pc``. Draws, in order: advertising (if the client has
    a share), the voice-menu keys (if it has a menu), known or new (if it has known
    callers), which known caller or the new caller's language, then the request (an
    employee if the client lists any, else an FAQ leaf if it has an FAQ). ``fresh``: the
    number of this caller if new (``new_number``)."""
    advertising = bool(pc.advertising_share) and random() < pc.advertising_share
    keys = press_keys(pc.client.menu, random) if pc.client.menu is not None else ""
    speaks: str | None = None
    if contacts is not None and known and random() < contacts.known_share:
        ani, is_known = known[int(random() * len(known))].number, True
    else:
        ani, is_known = new_number(fresh), False
        speaks = language(contacts.languages, random()) if contacts and contacts.languages else ""
    employee, faq = request(pc, random)
    return Caller(ani, pc.client.numbers[0], is_known, speaks, keys, advertising, employee, faq)


def request(pc: PlanClient, random: Draw) -> tuple[str | None, tuple[str, ...]]:
    """What a caller of ``pc`` asks for: one of its employees (one draw, uniformly) if it
    lists any, else one of its FAQ leaves (one draw) if it has an FAQ, else nothing."""
    if pc.employees:
        return pc.employees[int(random() * len(pc.employees))], ()
    if pc.faq_paths:
        return None, pc.faq_paths[int(random() * len(pc.faq_paths))]
    return None, ()


class Callers:
    """Who dials each client call of a day, in call order, from one stream of draws:
    the known populations first (client by client), then each caller (``next``). New
    callers are numbered in order."""

    def __init__(
        self, clients: Sequence[PlanClient], contacts: Contacts | None, random: Draw
    ) -> None:
        self._clients = clients
        self._contacts = contacts
        self._random = random
        self.known = [known_callers(i, contacts, random) for i in range(len(clients))]
        self.fresh = 0

    def next(self, client: int) -> Caller:
        """The next caller, dialling client ``client`` (an index into the plan's)."""
        made = caller(
            self._clients[client], self._contacts, self.known[client], self.fresh + 1,
            self._random,
        )  # fmt: skip
        if not made.known:
            self.fresh += 1
        return made


def target_answers(success: Mapping[str, float], target: str, u: float) -> bool:
    """Whether a forward target takes the call (one draw ``u`` per target tried)."""
    return u < success.get(target, 0.0)


def talk_s(
    talk: float, tone: Tone | None, formal_factor: float, forwards: Iterable[float]
) -> float:
    """The agent's talk with a client's caller: the caller's talk, longer in a formal
    tone, plus the time of each forward tried (``forwards``: one drawn time each)."""
    if tone is Tone.FORMAL:
        talk *= formal_factor
    for f in forwards:
        talk += f
    return talk


def chat_talk_s(talk: float, held: int, slowdown: float) -> float:
    """A chat's handle time: its drawn talk ``talk`` x (1 + ``slowdown`` x (``held`` -
    1)), ``held`` = the chats its agent holds as it starts (itself included, and every
    chat starting at that instant), fixed at the start: k = 1 is a call's talk."""
    return talk * (1.0 + slowdown * (held - 1))


def balk_chance(table: Balking, wait_s: float) -> float:
    """The chance a caller hangs up on hearing the expected wait: linear between the
    curve's points (``(waits, chances)``), flat beyond them."""
    waits, chances = table
    i = bisect_right(waits, wait_s)
    if i == 0:
        return chances[0]
    if i == len(waits):
        return chances[-1]
    lo, hi = waits[i - 1], waits[i]
    return chances[i - 1] + (chances[i] - chances[i - 1]) * (wait_s - lo) / (hi - lo)


class FollowUp(enum.Enum):
    """What a served caller does next."""

    NONE = "none"
    TRANSFER = "transfer"  # sent on to another queue at once
    RECALL = "recall"  # calls the same queue again later


def follow_up(
    transfer: Transfer | None, recall: Recall | None, level: int, random: Draw
) -> FollowUp:
    """After a served call, by the serving agent's proficiency ``level``: one draw for a
    transfer (if the stream has one), then, if not sent on, one for a recall."""
    if transfer is not None and random() < transfer.chance[level]:
        return FollowUp.TRANSFER
    if recall is not None and random() < recall.chance[level]:
        return FollowUp.RECALL
    return FollowUp.NONE
