"""Practice calls: cards whose right answer comes from the production policy engine.

A card is one call a trainee takes: the caller (persona, number, how they speak), the
client dialled, the date and time, what the caller wants, the screen pop the agent would
see, and the **expected handling**, computed here by the core's own rules
(``instruction_for``, ``chosen_treatment``, ``carry_out``, ``check_callback``) exactly as
the live service and the simulator apply them, so it is never stale; plus the traps of
the call and the hash of the client's policy it was computed from.

Branches: every way a client's policy can treat a call (the standard treatment in hours
with each forward outcome, off hours, a holiday, each current exception, each employee
with their own handling, each FAQ leaf kind, advertising blocked). ``practice_set`` first
covers every branch of every client, then draws more at random; the same scenario and
seed give the same cards, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callsim.core import Instruction, Treatment, TreatmentKind, instruction_for
from callsim.core.client import Client, RecordingMode, check_callback
from callsim.core.contact import Category, Contact, screen_pop
from callsim.core.inbound import PolicyResult, carry_out, chosen_treatment, writes_note
from callsim.core.practice import digit_groups, spelling, wants
from callsim.errors import InputError, PolicyError
from callsim.scenario.centre import centre_zone
from callsim.scenario.centre import client as build_client
from callsim.scenario.model import ClientSpec, FaqSpec, Scenario

DIFFICULTIES = ("easy", "normal", "hard")
HARD_CALLBACK_SHARE = 0.6  # hard note cards whose caller gives the client's own number
MAX_CARDS = 10_000
FIRST = ("Kari", "Ola", "Ingrid", "Lars", "Nora", "Emil", "Sofie", "Jonas", "Maja", "Henrik",
         "Aisha", "Mateusz", "Linh", "Omar", "Elin", "Sven")  # fmt: skip
LAST = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Berg", "Haugen", "Dahl",
        "Nguyen", "Kowalski", "Ali", "Strand", "Lie", "Moen")  # fmt: skip
SPEECH = ("plain", "spells their name", "gives the number in pieces", "corrects themselves")


@dataclass(frozen=True, slots=True)
class Branch:
    """One way a client's policy can treat a call."""

    client: str
    key: str  # "in hours: Ola Hansen: forward: target 2"
    context: str  # in_hours | off_hours | holiday | exception:<i>
    request: tuple[tuple[str, Any], ...] = ()  # ("employee", name) | ("faq", path) | ...
    answered: tuple[tuple[str, bool], ...] = ()  # forward targets: took the call or not


@dataclass(slots=True)
class _Client:
    spec: ClientSpec
    client: Client
    tz: ZoneInfo
    policy_hash: str
    branches: list[Branch] = field(default_factory=list)


def policy_hash(spec: ClientSpec) -> str:
    """The hash of a client's policy as the scenario states it (every field but its
    traffic), to tell a card computed from an older policy."""
    data = spec.model_dump(mode="json", exclude={"arrivals", "advertising_share"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def cards_hash(cards: Sequence[Mapping[str, Any]]) -> str:
    """The hash of a set's cards (16 hex digits): what the trainee sheet, the answers and
    the practice calls on the desk name, so that answers are never graded against another
    set's cards."""
    text = json.dumps(cards, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _clients(scenario: Scenario, only: str | None) -> list[_Client]:
    centre = centre_zone(scenario)
    out = []
    for spec in scenario.clients:
        if only is not None and spec.name != only:
            continue
        tz = ZoneInfo(spec.time_zone) if spec.time_zone else centre
        c = _Client(spec, build_client(spec, tz), tz, policy_hash(spec))
        c.branches = _branches(c)
        out.append(c)
    if not out:
        names = ", ".join(s.name for s in scenario.clients) or "none"
        raise InputError(f"no client {only!r} in the scenario (clients: {names})", field="client")
    return out


# -- branches --------------------------------------------------------------------------------


def _outcomes(prefix: str, t: Treatment) -> list[tuple[str, tuple[tuple[str, bool], ...]]]:
    """A treatment's outcomes: a note; or target 1 takes it, target 2 does, none does."""
    if t.kind is not TreatmentKind.FORWARD:
        return [(f"{prefix}: note", ())]
    out = []
    for k in range(len(t.targets)):
        took = tuple((n, i == k) for i, n in enumerate(t.targets[: k + 1]))
        out.append((f"{prefix}: forward: target {k + 1} takes it", took))
    out.append(
        (f"{prefix}: forward: nobody takes it, a note", tuple((n, False) for n in t.targets))
    )
    return out


def _leaves(node: FaqSpec, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], FaqSpec]]:
    if not node.children:
        return [(path, node)]
    return [x for child in node.children for x in _leaves(child, (*path, child.title))]


def _branches(c: _Client) -> list[Branch]:
    name, client = c.client.name, c.client
    out: list[Branch] = []

    def add(
        context: str, label: str, t: Treatment, request: tuple[tuple[str, Any], ...] = ()
    ) -> None:
        for key, answered in _outcomes(label, t):
            out.append(Branch(name, key, context, request, answered))

    add("in_hours", "in hours: a message", client.treatment, (("message", True),))
    for e in client.employees.employees:
        if e.treatment != client.treatment:
            add("in_hours", f"in hours: asks for {e.name}", e.treatment, (("employee", e.name),))
    if c.spec.faq is not None:
        kinds: dict[str, tuple[tuple[str, ...], FaqSpec]] = {}
        for path, leaf in _leaves(c.spec.faq):
            kinds.setdefault(leaf.treatment.kind if leaf.treatment else "information only",
                             (path, leaf))  # fmt: skip
        for label, (path, _) in sorted(kinds.items()):
            t = client.faq.walk(path).treatment if client.faq else None
            add("in_hours", f"in hours: FAQ {' > '.join(path)} ({label})",
                t or client.treatment, (("faq", path),))  # fmt: skip
    if client.hours is not None:
        add("off_hours", "off hours", client.off_hours, (("message", True),))
        if client.hours.holidays:
            add("holiday", "on a public holiday", client.off_hours, (("message", True),))
    for i, x in enumerate(client.exceptions):
        label = f"exception {x.start:%Y-%m-%d}..{x.end:%Y-%m-%d}"
        add(f"exception:{i}", label, x.treatment or client.treatment, (("message", True),))
    if client.block_advertising:
        out.append(Branch(name, "advertising: rejected", "in_hours", (("advertising", True),)))
    return out


# -- when ------------------------------------------------------------------------------------


def _times(c: _Client, around: date) -> dict[str, list[datetime]]:
    """Candidate call times (client's local time) by the context they fall in."""
    client = c.client
    days = {around + timedelta(days=d) for d in range(-3, 11)}
    if client.hours is not None:
        days |= set(client.hours.holidays)
    for e in client.exceptions:
        start = e.start.astimezone(c.tz).date()
        days |= {start + timedelta(days=d) for d in range(3)}
        days.add((e.end - timedelta(minutes=1)).astimezone(c.tz).date())
    found: dict[str, list[datetime]] = {}
    for day in sorted(days):
        for minute in range(0, 24 * 60, 30):
            at = datetime.combine(day, time(minute // 60, minute % 60), c.tz)
            found.setdefault(_context(client, at), []).append(at)
    return found


def _context(client: Client, at: datetime) -> str:
    active = [i for i, e in enumerate(client.exceptions) if e.active(at)]
    if active:
        return f"exception:{active[0]}"
    if client.hours is None or client.hours.is_open(at):
        return "in_hours"
    if at.astimezone(client.hours.tz).date() in client.hours.holidays:
        return "holiday"
    return "off_hours"


def _closing_minute(client: Client, at: datetime) -> datetime | None:
    """A minute before the opening span containing ``at`` closes (the same day)."""
    if client.hours is None:
        return None
    local = at.astimezone(client.hours.tz)
    for start, end in client.hours.weekly.get(local.weekday(), ()):
        if start <= local.time() < end:
            close = datetime.combine(local.date(), end, client.hours.tz) - timedelta(minutes=1)
            return close if end != time.max else None
    return None


# -- the card --------------------------------------------------------------------------------


def expected_handling(
    client: Client,
    at: datetime,
    request: dict[str, Any],
    answered: dict[str, bool],
    caller: dict[str, Any],
) -> dict[str, Any]:
    """What the agent must do, by the core's rules, with the reason for each part."""
    fields = {"caller": caller["name"]} if caller.get("known") else {}
    ins: Instruction = instruction_for(client, at, **fields)
    out: dict[str, Any] = {
        "greeting": ins.greeting,
        "tone": ins.tone.value,
        "in_hours": ins.in_hours,
        "hours": ins.hours_text,
        "messages": list(ins.messages),
        "exception": ins.exception,
        "recording": _recording(ins),
    }
    if request.get("advertising") and client.block_advertising:
        out.update(result=PolicyResult.BLOCKED.value, treatment=None, forward=None,
                   note_fields=[], recording=None, reason=f"{client.name} blocks "
                   "advertising: the call is rejected before it reaches an agent")  # fmt: skip
        return out
    employee = request.get("employee")
    faq = request.get("faq") or ()
    treatment = chosen_treatment(client, ins, employee, faq)
    result, fwd = carry_out(treatment, answered)
    out["treatment"] = {"kind": treatment.kind.value, "targets": list(treatment.targets),
                        "info": treatment.info}  # fmt: skip
    out["forward"] = {"tried": list(fwd.attempts), "took": fwd.target} if fwd is not None else None
    out["result"] = result.value
    out["note_fields"] = (
        ["caller's name", "callback number", "message"] if writes_note(result) else []
    )
    out["reason"] = _reason(client, ins, employee, faq, treatment, result, fwd)
    return out


def _recording(ins: Instruction) -> dict[str, str] | None:
    """What the agent says or must not do about recording, by the client's policy (None:
    the client has none)."""
    r = ins.recording
    if r is None:
        return None
    if r.mode is RecordingMode.NONE:
        return {"mode": r.mode.value, "say": "", "explain": f"{ins.client} forbids recording: "
                "the call is not recorded; do not announce or offer a recording"}  # fmt: skip
    say = r.announcement or "This call is recorded."
    explain = f"{ins.client} records every call: after the greeting, say: {say}"
    return {"mode": r.mode.value, "say": say, "explain": explain}


def _reason(
    client: Client, ins: Instruction, employee: Any, faq: Any, t: Treatment,
    result: PolicyResult, fwd: Any,
) -> str:  # fmt: skip
    if ins.exception:
        why = "a current exception replaces the treatment"
    elif not ins.in_hours:
        why = f"outside opening hours ({ins.hours_text}): the off-hours treatment"
    elif employee and t is not ins.treatment:
        why = f"in hours, the caller asks for {employee}: their own handling"
    elif faq and t is not ins.treatment:
        why = f"in hours, the request is FAQ {' > '.join(faq)}: its own handling"
    else:
        why = "in hours: the standard treatment"
    if t.kind is TreatmentKind.FORWARD:
        tried = ", then ".join(fwd.attempts) if fwd else ""
        did = f"{fwd.target} takes it" if fwd and fwd.target else "nobody takes it: take a note"
        what = f"forward to {tried}; {did}"
    else:
        what = "take a note for the client"
    return f"{why}; {what} ({result.value})"


def _persona(rng: random.Random, traps: list[str]) -> dict[str, Any]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    status = "new"
    if "known_new_number" in traps:
        status = "known_new_number"
    elif rng.random() < 0.5 or {"vip", "problem"} & set(traps):
        status = "known"
    category = "vip" if "vip" in traps else "problem" if "problem" in traps else "regular"
    persona = {
        "name": name,
        "number": f"+479{rng.randrange(10**6, 10**7)}",
        "status": status,
        "known": status == "known",
        "category": category,
        "language": rng.choice(("no", "no", "no", "en")),
        "speech": rng.choice(SPEECH),
    }
    if status == "known_new_number":  # the number the contact is known by (drawn last)
        known = persona["number"]
        while known == persona["number"]:
            known = f"+479{rng.randrange(10**6, 10**7)}"
        persona["known_numbers"] = [known]
    return persona


def _says(card: dict[str, Any]) -> str:
    caller, req = card["caller"], card["request"]
    name = caller["name"]
    if caller["speech"] == "spells their name":
        name += f" ({spelling(name)})"
    want = wants(req)
    number = card["callback"]
    if caller["speech"] == "gives the number in pieces":
        number = " ... ".join(digit_groups(number))
    fix = " No, sorry, I mean" if caller["speech"] == "corrects themselves" else ""
    return f"Hello, this is {name}.{fix} {want} You can call me back on {number}."


def _card(
    c: _Client, branch: Branch, n: int, rng: random.Random, difficulty: str,
    times: dict[str, list[datetime]],
) -> dict[str, Any] | None:  # fmt: skip
    candidates = times.get(branch.context, [])
    if not candidates:
        return None  # the branch is not reachable in the days looked at
    want = {"easy": 0, "normal": 1, "hard": 3}[difficulty]
    possible = ["callback_is_client_number", "vip", "problem", "known_new_number"]
    at = rng.choice(candidates)
    closing = _closing_minute(c.client, at) if branch.context == "in_hours" else None
    if closing is not None and _context(c.client, closing) == "in_hours":
        possible.append("minute_before_closing")
    ending = _ending_today(c, branch)
    if ending is not None:
        possible.append("exception_ends_today")
    request = dict(branch.request)
    if "faq" in request:
        request["faq"] = list(request["faq"])
    answered = dict(branch.answered)
    if request.get("advertising") and c.client.block_advertising:
        possible = []  # rejected before it reaches an agent: no trap is the agent's
    elif not expected_handling(c.client, at, request, answered, {})["note_fields"]:
        possible.remove("callback_is_client_number")  # no note is taken: no callback asked
    elif difficulty == "hard" and rng.random() >= HARD_CALLBACK_SHARE:
        # without this draw every hard note card had it (the other traps exclude each
        # other, so three were never found without it): a trainee learnt to expect it
        possible.remove("callback_is_client_number")
    traps = _pick_traps(rng, possible, want)
    if difficulty == "normal" and rng.random() < 0.5:
        traps = []
    if "minute_before_closing" in traps and closing is not None:
        at = closing
    if "exception_ends_today" in traps and ending is not None:
        at = ending
    caller = _persona(rng, traps)
    expected = expected_handling(c.client, at, request, answered, caller)
    own = c.client.own_numbers or c.client.numbers
    callback = own[0] if "callback_is_client_number" in traps else caller["number"]
    card: dict[str, Any] = {
        "id": f"{n:04d}",
        "client": c.client.name,
        "policy_hash": c.policy_hash,
        "branch": branch.key,
        "difficulty": difficulty,
        "dialled": c.client.numbers[0],
        "at": at.isoformat(),
        "weekday": f"{at:%A}",
        "caller": caller,
        "request": request,
        "callback": callback,
        "forward_answers": answered,
    }
    card["says"] = _says(card)
    card["screen_pop"] = _screen_pop(c.client, at, caller, request)
    card["expected"] = expected
    card["traps"] = _explain(c.client, traps, card)
    return card


EXCLUSIVE = frozenset({"vip", "problem", "known_new_number"})  # what the pop shows


def _pick_traps(rng: random.Random, possible: list[str], want: int) -> list[str]:
    """Up to ``want`` traps that do not contradict: a caller is VIP, a problem caller,
    or a known caller on a new number (whose pop shows no category), never two."""
    traps: list[str] = []
    for t in rng.sample(possible, len(possible)):
        if len(traps) < want and not (t in EXCLUSIVE and EXCLUSIVE & set(traps)):
            traps.append(t)
    return sorted(traps)


def _ending_today(c: _Client, branch: Branch) -> datetime | None:
    if not branch.context.startswith("exception:"):
        return None
    e = c.client.exceptions[int(branch.context.split(":")[1])]
    last = (e.end - timedelta(minutes=1)).astimezone(c.tz)  # its last day, a minute before
    return last if e.active(last) and _context(c.client, last) == branch.context else None


def _treatment(t: Treatment | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {"kind": t.kind.value, "targets": list(t.targets), "info": t.info}


def _screen_pop(
    client: Client, at: datetime, caller: dict[str, Any], request: dict[str, Any]
) -> dict[str, Any]:
    """What the desk shows when the call rings: the pop, the work instruction at that
    time (with its forward numbers), and the entry of the employee or FAQ topic the caller
    asks for, as the agent finds it in the client's list."""
    known = caller["status"] == "known"
    contact = Contact(0, [caller["number"]])
    if known:
        category = Category(caller["category"])
        contact = Contact(1, [caller["number"]], name=caller["name"], category=category,
                          language=caller["language"])  # fmt: skip
    ins = instruction_for(client, at, **({"caller": caller["name"]} if known else {}))
    pop = screen_pop(ins, contact, caller["number"], at, "", "", new_caller=not known)
    return {
        "client": pop.client,
        "at": pop.at.isoformat(),
        "caller_number": pop.caller_number,
        "contact_name": pop.contact_name,
        "category": pop.category,
        "new_caller": pop.new_caller,
        "greeting": pop.greeting,
        "hours": pop.hours_text,
        "messages": list(pop.messages),
        "recording": ins.recording.mode.value if ins.recording is not None else None,
        "instruction": _treatment(ins.treatment),
        "asked": _asked(client, request),
    }


def _asked(client: Client, request: dict[str, Any]) -> dict[str, Any] | None:
    """The list entry of what the caller asks for: an employee or an FAQ topic."""
    if request.get("employee"):
        e = client.employees.named(request["employee"])
        return {
            "employee": e.name,
            "department": e.department,
            "treatment": _treatment(e.treatment),
        }
    if request.get("faq") and client.faq is not None:
        node = client.faq.walk(request["faq"])
        return {
            "faq": list(request["faq"]),
            "info": node.info,
            "treatment": _treatment(node.treatment),
        }
    return None


def _explain(client: Client, traps: list[str], card: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for t in traps:
        if t == "callback_is_client_number":
            try:
                check_callback(client, card["callback"])
                why = "the callback number is accepted"
            except PolicyError as exc:
                why = f"the guard refuses it: {exc}"
            out.append({"trap": t, "explain": f"The caller gives {card['callback']} as callback "
                        f"number, {client.name}'s own number: {why}."})  # fmt: skip
        elif t in ("vip", "problem"):
            out.append({"trap": t, "explain": f"The screen pop marks the caller {t.upper()}: "
                        "read the warning and treat them accordingly."})  # fmt: skip
        elif t == "known_new_number":
            out.append({"trap": t, "explain": f"{card['caller']['name']} is a known contact "
                        "calling from a new number: the screen pop shows only the number; "
                        "find them and attach this number."})  # fmt: skip
        elif t == "minute_before_closing":
            out.append({"trap": t, "explain": "A minute before closing: still in hours, the "
                        "in-hours treatment applies."})  # fmt: skip
        elif t == "exception_ends_today":
            out.append({"trap": t, "explain": "The current exception ends today but still "
                        "applies to this call."})  # fmt: skip
    return out


def practice_set(
    scenario: Scenario,
    *,
    count: int | None = None,
    seed: int = 1,
    difficulty: str = "normal",
    client: str | None = None,
    branches: Sequence[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A set of cards: every reachable branch of every client first (the default set,
    when ``count`` is None), then random branches up to ``count``; or one card for each
    (client, branch) of ``branches``, in their order (a trainee's next set; a branch the
    policy no longer has is left out)."""
    if difficulty not in DIFFICULTIES:
        raise InputError(f"{difficulty!r} is not one of {', '.join(DIFFICULTIES)}",
                         field="difficulty")  # fmt: skip
    if count is not None and not 1 <= count <= MAX_CARDS:
        raise InputError(f"{count} is not from 1 to {MAX_CARDS:,}", field="count")
    if not scenario.clients:
        raise InputError("the scenario has no answering-service clients", field="clients")
    clients = _clients(scenario, client)
    rng = random.Random(seed)
    around = scenario.answering.day
    times = {c.client.name: _times(c, around) for c in clients}
    pairs = [(c, b) for c in clients for b in c.branches]
    order = pairs if count is None else pairs[:]
    if branches is not None:
        order = [p for want in branches for p in pairs if (p[0].client.name, p[1].key) == want]
    elif count is not None:
        rng.shuffle(order)
        while len(order) < count:
            order.append(rng.choice(pairs))
        order = order[:count]
    cards: list[dict[str, Any]] = []
    unreachable: list[str] = []
    drawn: dict[tuple[str, str, str], int] = {}
    for c, b in order:
        # each card draws from its own stream, named by the seed, the client, the branch
        # and how many cards of that branch came before: a card of a --client set (or of
        # any --count) is the same card as in the full set, only its id differs
        name = (c.client.name, b.context, b.key)
        k = drawn[name] = drawn.get(name, -1) + 1
        stream = random.Random(f"{seed}|{c.client.name}|{b.context}|{b.key}|{k}")
        card = _card(c, b, len(cards) + 1, stream, difficulty, times[c.client.name])
        if card is None:
            unreachable.append(f"{c.client.name}: {b.key}")
        else:
            cards.append(card)
    return {
        "scenario": scenario.name,
        "seed": seed,
        "difficulty": difficulty,
        "cards_hash": cards_hash(cards),
        "cards": cards,
        "unreachable": unreachable,
    }


def coverage(scenario: Scenario, cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per client: its branches and which the cards cover."""
    rows = []
    for c in _clients(scenario, None):
        have = {card["branch"] for card in cards if card["client"] == c.client.name}
        keys = [b.key for b in c.branches]
        rows.append({"client": c.client.name, "branches": len(keys),
                     "covered": sum(k in have for k in keys),
                     "missing": [k for k in keys if k not in have]})  # fmt: skip
    return rows


def check(scenario: Scenario, cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards whose expected handling differs under the scenario's current policies,
    each with what changed (the fields) and why (the policy hash, a removed client)."""
    by_name = {c.client.name: c for c in _clients_all(scenario)}
    stale = []
    for card in cards:
        c = by_name.get(card["client"])
        if c is None:
            stale.append({"id": card["id"], "client": card["client"], "why": "the client is gone",
                          "changed": {}})  # fmt: skip
            continue
        at = datetime.fromisoformat(card["at"])
        now = expected_handling(c.client, at, card["request"], card["forward_answers"],
                                card["caller"])  # fmt: skip
        changed = {
            k: {"was": card["expected"].get(k), "now": v}
            for k, v in now.items()
            if card["expected"].get(k) != v
        }
        if changed:
            why = ("the client's policy changed" if c.policy_hash != card["policy_hash"]
                   else "the rules changed (same policy)")  # fmt: skip
            stale.append({"id": card["id"], "client": card["client"], "why": why,
                          "changed": changed})  # fmt: skip
    return stale


def _clients_all(scenario: Scenario) -> list[_Client]:
    return _clients(scenario, None) if scenario.clients else []
