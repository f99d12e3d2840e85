"""Answering-service clients: who a dialled number belongs to, and what the agent must do.

A ``Client`` carries the greeting and tone, the standard treatment (note, or forward to
target 1 then 2 then a note), business hours in its own time zone with holidays and an
off-hours treatment, current exceptions valid in a time window, an employee directory,
an FAQ tree, advertising blocking and its own phone numbers (the callback guard).

``instruction_for(client, at)`` resolves all of it for one call at an aware datetime.
Pure: time zones arrive as ``tzinfo`` objects built at the edges; nothing reads a clock.
"""

from __future__ import annotations

import bisect
import enum
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo

from callsim.core.ivr import Menu
from callsim.errors import ConfigError, PolicyError, UnknownClientError, UnknownEmployeeError

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Tone(enum.Enum):
    FORMAL = "formal"  # names spelled back, number repeated: longer calls
    INFORMAL = "informal"


class TreatmentKind(enum.Enum):
    NOTE = "note"  # give the client's information, write a call note to the client
    FORWARD = "forward"  # announce and forward: target 1, then 2, then a note


@dataclass(frozen=True, slots=True)
class Treatment:
    kind: TreatmentKind
    targets: tuple[str, ...] = ()  # FORWARD: one or two numbers, tried in order
    info: str = ""  # what the agent tells the caller

    def __post_init__(self) -> None:
        if self.kind is TreatmentKind.FORWARD and not 1 <= len(self.targets) <= 2:
            raise ConfigError(
                f"forward treatment needs 1 or 2 target numbers, got {len(self.targets)}"
            )


NOTE = Treatment(TreatmentKind.NOTE)


@dataclass(frozen=True, slots=True)
class ForwardResult:
    """What came of a forward: the target that took the call, or a note after all."""

    target: str | None
    attempts: tuple[str, ...]
    note: bool


def forward(
    treatment: Treatment, answered: Mapping[str, bool] | Callable[[str], bool]
) -> ForwardResult:
    """Try the targets in order, target 1 then 2, until one takes the call; a note if
    none does. ``answered`` says whether a target took the call: a mapping (a target
    missing from it did not), or a function asked only for the targets tried."""
    tried = []
    for target in treatment.targets:
        tried.append(target)
        took = answered(target) if callable(answered) else answered.get(target, False)
        if took:
            return ForwardResult(target, tuple(tried), note=False)
    return ForwardResult(None, tuple(tried), note=True)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) in ``tz``, and holidays (local dates)."""

    tz: tzinfo
    weekly: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()
    _text: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        # every call's screen pop shows the hours: render them once
        object.__setattr__(self, "_text", self._render())

    def is_open(self, at: datetime) -> bool:
        local = _local(at, self.tz)
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.weekly.get(local.weekday(), ()))

    def text(self) -> str:
        """The hours as an agent reads them: "Mon-Fri 08:00-16:00; Sat 10:00-14:00"."""
        return self._text

    def _render(self) -> str:
        spans: list[tuple[int, int, str]] = []
        for day in range(7):
            windows = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.weekly.get(day, ()))
            if not windows:
                continue
            if spans and spans[-1][1] == day - 1 and spans[-1][2] == windows:
                spans[-1] = (spans[-1][0], day, windows)
            else:
                spans.append((day, day, windows))
        parts = [
            (DAYS[a] if a == b else f"{DAYS[a]}-{DAYS[b]}") + f" {windows}"
            for a, b, windows in spans
        ]
        closed = "; closed on public holidays" if self.holidays else ""
        return ("; ".join(parts) or "closed") + closed


ALWAYS_OPEN: Mapping[int, tuple[tuple[time, time], ...]] = {
    d: ((time(0), time.max),) for d in range(7)
}


@dataclass(frozen=True, slots=True)
class CurrentException:
    """A temporary deviation valid in [start, end): overrides the treatment if it has one,
    and in any case adds its message for every caller."""

    start: datetime
    end: datetime
    message: str = ""
    treatment: Treatment | None = None

    def active(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Employee:
    name: str
    department: str = ""
    treatment: Treatment = NOTE


class EmployeeDirectory:
    """Employees and departments, searched by the start of any word of their name or
    department, accents and case ignored. Each query word's matches are a range of a
    sorted word index (found by bisection); only the smallest range is scanned, so a
    search costs O(words x log n + the rarest word's matches) for thousands of entries."""

    __slots__ = ("_by_folded", "_by_name", "_index", "_words", "employees")

    def __init__(self, employees: Iterable[Employee] = ()) -> None:
        self.employees: tuple[Employee, ...] = tuple(employees)
        self._words = [frozenset(fold(f"{e.name} {e.department}").split()) for e in self.employees]
        self._index = sorted((word, i) for i, words in enumerate(self._words) for word in words)
        self._by_name: dict[str, Employee] = {}
        self._by_folded: dict[str, Employee] = {}
        for e in self.employees:  # the first of two namesakes
            self._by_name.setdefault(e.name, e)
            self._by_folded.setdefault(fold(e.name), e)

    def __len__(self) -> int:
        return len(self.employees)

    def named(self, name: str) -> Employee:
        """The employee called ``name`` (accents and case ignored)."""
        found = self._by_name.get(name)
        if found is None:
            found = self._by_folded.get(fold(name))
        if found is None:
            raise UnknownEmployeeError(f"employee {name!r} is not on the list")
        return found

    def search(self, text: str, limit: int = 20) -> list[Employee]:
        """Employees matching every word of ``text`` as a word prefix, exact words first."""
        query = fold(text).split()
        if not query:
            return []
        index = self._index
        ranges = [
            (bisect.bisect_left(index, (w, -1)), bisect.bisect_left(index, (w + "\uffff", -1)), w)
            for w in query
        ]
        lo, hi, rarest = min(ranges, key=lambda r: r[1] - r[0])
        others = [w for w in query if w != rarest]
        found = {
            i
            for _, i in index[lo:hi]
            if all(any(word.startswith(q) for word in self._words[i]) for q in others)
        }
        wanted = set(query)
        ranked = sorted(found, key=lambda i: (not wanted & self._words[i], self.employees[i].name))
        return [self.employees[i] for i in ranked[:limit]]


# letters that Unicode does not decompose into a base letter and an accent
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d"})


def fold(text: str) -> str:
    """Text as searches compare it: case and accents ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class FaqNode:
    """A node of the FAQ tree: children to choose from, or a leaf with information for
    the caller and/or a treatment."""

    title: str
    children: tuple[FaqNode, ...] = ()
    info: str = ""
    treatment: Treatment | None = None

    def walk(self, path: Sequence[str]) -> FaqNode:
        """Follow child titles from this node (case-insensitive)."""
        node = self
        for step in path:
            match = [c for c in node.children if c.title == step] or [
                c for c in node.children if c.title.casefold() == step.casefold()
            ]
            if not match:
                options = ", ".join(c.title for c in node.children) or "none"
                raise PolicyError(f"FAQ {node.title!r}: no entry {step!r} (entries: {options})")
            node = match[0]
        return node


class RecordingMode(enum.Enum):
    ALL = "all"  # every answered call is recorded; the agent's greeting announces it
    NONE = "none"  # the client forbids recording (health, legal): never recorded


@dataclass(frozen=True, slots=True)
class Recording:
    """A client's recording policy. callsim keeps the recorder's reference of each
    recorded call (``reference`` filled in at the answer), never audio."""

    mode: RecordingMode
    announcement: str = ""  # what the caller is told ("calls are recorded for training")
    retention_days: int = 0  # how long the client keeps recordings (0: not said)
    reference: str = "{client}/{date}/call-{call}"  # the recorder's name for one call

    def reference_for(self, client: str, call: object, at: datetime) -> str:
        """The reference of one recorded call answered at ``at``; '' when not recorded."""
        if self.mode is not RecordingMode.ALL:
            return ""
        return self.reference.format_map(
            _Fields(client=client, call=str(call), date=f"{at:%Y-%m-%d}", time=f"{at:%H%M%S}")
        )


@dataclass(frozen=True, slots=True)
class Client:
    """One business the service answers for."""

    name: str
    numbers: tuple[str, ...]  # dialled numbers (DNIS) that select this client
    queue: str = ""  # the queue its calls wait in (a voice menu option may choose another)
    welcome: str = "Welcome to {client}, how may I help you?"
    tone: Tone = Tone.FORMAL
    treatment: Treatment = NOTE
    hours: BusinessHours | None = None  # None: always open
    off_hours: Treatment = NOTE
    exceptions: tuple[CurrentException, ...] = ()
    employees: EmployeeDirectory = field(default_factory=EmployeeDirectory)
    faq: FaqNode | None = None
    block_advertising: bool = False
    own_numbers: tuple[str, ...] = ()  # the client's phones: never a callback number
    menu: Menu | None = None  # the voice menu before the queue
    recording: Recording | None = None  # None: the scenario sets no recording policy


@dataclass(frozen=True, slots=True)
class Instruction:
    """What the agent sees and does for one call."""

    client: str
    greeting: str
    tone: Tone
    treatment: Treatment
    messages: tuple[str, ...]
    in_hours: bool
    hours_text: str
    exception: bool  # a current exception changed the treatment
    recording: Recording | None = None  # the client's recording policy, if it has one
    recording_ref: str = ""  # this call's recording reference (answered, recorded calls)


def instruction_for(
    client: Client, at: datetime, call: object = None, **greeting_fields: str
) -> Instruction:
    """The greeting, treatment and messages for a call to ``client`` at ``at`` (aware).
    ``call``: the answered call's id, for its recording reference (None: no call yet)."""
    if at.tzinfo is None:
        raise PolicyError(f"client {client.name!r}: the call time {at} has no time zone")
    active = [e for e in client.exceptions if e.active(at)]
    in_hours = client.hours.is_open(at) if client.hours else True
    treatment = client.treatment if in_hours else client.off_hours
    override = next((e.treatment for e in active if e.treatment is not None), None)
    greeting = client.welcome.format_map(_Fields(client=client.name, **greeting_fields))
    return Instruction(
        client=client.name,
        greeting=greeting,
        tone=client.tone,
        treatment=override or treatment,
        messages=tuple(e.message for e in active if e.message),
        in_hours=in_hours,
        hours_text=client.hours.text() if client.hours else "always open",
        exception=override is not None,
        recording=client.recording,
        recording_ref=(
            client.recording.reference_for(
                client.name, call, _local(at, client.hours.tz) if client.hours else at
            )
            if client.recording is not None and call is not None
            else ""
        ),
    )


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # unknown placeholders stay visible rather than failing


def screen(client: Client, advertising: bool) -> bool:
    """True if the call may reach an agent (advertising blocking rejects rated ads)."""
    return not (client.block_advertising and advertising)


def check_callback(client: Client, number: str) -> str:
    """Return the normalised callback number of a call note, refusing the client's own."""
    normal = normalise_number(number)
    own = {normalise_number(n) for n in (*client.own_numbers, *client.numbers)}
    if not normal:
        raise PolicyError(
            f"call note for {client.name!r}: callback number {number!r} has no digits"
        )
    if normal in own:
        raise PolicyError(
            f"call note for {client.name!r}: callback number {number!r} is the client's own "
            "number; ask the caller for their number"
        )
    return normal


def same_number(a: str, b: str) -> bool:
    """Two written numbers are one phone: both have digits and normalise alike."""
    key = normalise_number(a)
    return bool(key) and key == normalise_number(b)


def normalise_number(number: str) -> str:
    """Digits with a leading '+' kept: '+47 22 00-00 00' -> '+4722000000'."""
    digits = "".join(c for c in number if c.isdigit())
    return ("+" + digits) if number.strip().startswith("+") and digits else digits


class ClientBook:
    """Clients by dialled number; one client may own several numbers."""

    __slots__ = ("_by_number", "_by_written", "clients")

    def __init__(self, clients: Iterable[Client]) -> None:
        self.clients = {c.name: c for c in clients}
        self._by_number: dict[str, Client] = {}
        self._by_written: dict[str, Client] = {}  # as written: found without normalising
        for c in self.clients.values():
            for n in c.numbers:
                key = normalise_number(n)
                other = self._by_number.get(key)
                if other is not None and other is not c:
                    raise ConfigError(f"number {n!r} belongs to both {other.name!r} and {c.name!r}")
                self._by_number[key] = c
                self._by_written[n] = c

    def for_dnis(self, dnis: str) -> Client:
        client = self._by_written.get(dnis) or self._by_number.get(normalise_number(dnis))
        if client is None:
            raise UnknownClientError(f"dialled number {dnis!r} belongs to no client")
        return client


def _local(at: datetime, tz: tzinfo) -> datetime:
    if at.tzinfo is None:
        raise PolicyError(f"time {at} has no time zone")
    return at.astimezone(tz)
