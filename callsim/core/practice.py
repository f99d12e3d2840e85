"""A practice call's caller and its grade: pure functions of the card.

The live service routes a practice call like any other (dated by its card, ringing only
the trainee); the caller talks from the card (``caller_reply``: scripted answers to the
trainee's questions, the same for the same card), and when the trainee completes the call
what they did is graded here against the card's expected handling by a rubric
(``grade``): weighted criteria, a pass mark and compliance items that fail the call
whatever its score. The drill (``callsim practice drill`` and ``grade``) grades with the
same code. Which criteria a call has comes from its card, which the core's rules computed
(a recording policy, a forward, a note, a VIP on the pop): no policy rule is copied here.
Pure: the card is plain data (``callsim practice`` writes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from callsim.core.client import normalise_number, same_number
from callsim.errors import InputError

# what a card shows the trainee before the call is scored: what a real agent's screen
# shows for any call (the call view carries the live screen pop and the client's
# instruction beside it). The rest is the trainer's: what the caller tells only by talking
# (their name and its spelling, the callback number, the request, the employee: the
# practice caller's conversation answers it) and what gives the handling away (the branch,
# the difficulty, the expected handling, the traps, the targets' answers, the rubric, and
# the card's own screen pop, which holds the caller's details and what they ask for).
TRAINEE_SEES = ("id", "client", "dialled", "at", "weekday")


def trainee_card(card: Mapping[str, Any]) -> dict[str, Any]:
    """The card as the trainee may see it before the call is scored (``TRAINEE_SEES``)."""
    return {k: v for k, v in card.items() if k in TRAINEE_SEES}


# ITU country codes of two digits (1 and 7 are one digit; all others are three)
_CC2 = frozenset({20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
                  51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84,
                  86, 90, 91, 92, 93, 94, 95, 98})  # fmt: skip


def digit_groups(number: str) -> list[str]:
    """A phone number in the groups a person says it in: the country code, then the
    groups it is written in (``+47 21 50 22 94``), a group of more than four digits, or a
    number written without spaces, in threes with the last four as two pairs
    (``+4795431487`` is ``+47 954 31 487``: never a single digit left at the end)."""
    parts = number.split()
    groups: list[str] = []
    first = "".join(ch for ch in parts[0] if ch.isdigit()) if parts else ""
    if parts and parts[0].startswith("+") and first:
        cc = 1 if first[0] in "17" else 2 if int(first[:2]) in _CC2 else 3
        groups.append("+" + first[:cc])
        parts[0] = first[cc:]
    for part in parts:
        digits = "".join(ch for ch in part if ch.isdigit())
        while len(digits) > 4:
            take = 2 if len(digits) == 5 else 3  # 5 digits: 2 + 3, never 4 + 1
            groups.append(digits[:take])
            digits = digits[take:]
        if len(digits) == 4 and len(part) > 4:
            groups += [digits[:2], digits[2:]]
        elif digits:
            groups.append(digits)
    return groups


# -- the caller who talks --------------------------------------------------------------------


class Ask(Enum):
    """What a trainee asks the caller for."""

    NAME = "name"
    NUMBER = "number"
    SPELLING = "spelling"
    REQUEST = "request"
    EMPLOYEE = "employee"


# words of a question that ask for each thing, checked in this order ("who would you like
# to speak to" asks for the employee, not the name; "spell your name" for the spelling)
_EMPLOYEE = ("speak to", "speak with", "talk to", "employee", "whom", "looking for",
             "put you through", "connect you")  # fmt: skip
_REQUEST = ("help", "about", "message", "reason", "what can", "what do you", "how can",
            "regarding", "concern")  # fmt: skip
_ASKS: tuple[tuple[Ask, tuple[str, ...]], ...] = (
    (Ask.SPELLING, ("spell",)),
    (Ask.NUMBER, ("number", "phone", "reach you", "call you back", "callback", "call back")),
    (Ask.EMPLOYEE, _EMPLOYEE),
    (Ask.NAME, ("name", "who is", "who's", "who am i", "who are you", "calling from")),
    (Ask.REQUEST, _REQUEST),
)


def asks_of(question: str) -> list[Ask]:
    """What ``question`` asks for (none: the caller does not understand it)."""
    text = " ".join(question.casefold().replace("?", " ").split())
    found = [ask for ask, words in _ASKS if any(w in text for w in words)]
    if Ask.EMPLOYEE in found and Ask.NAME in found and "name" not in text:
        found.remove(Ask.NAME)  # "who would you like to speak to": the employee only
    return found


def wants(request: Mapping[str, Any]) -> str:
    """What a caller with ``request`` says they want."""
    if request.get("advertising"):
        return "I'm calling about a great offer on advertising for your business."
    if request.get("employee"):
        return f"Could I speak to {request['employee']}, please?"
    if request.get("faq"):
        return f"I have a question about {request['faq'][-1].lower()}."
    return "I'd like to leave a message, please."


def spelling(name: str) -> str:
    """A surname letter by letter: ``H-A-N-S-E-N``."""
    return "-".join(name.rsplit(maxsplit=1)[-1].upper())


def caller_reply(card: Mapping[str, Any], ask: Ask | None, before: int = 0) -> str:
    """What the card's caller answers to ``ask`` (None: a question they do not
    understand), asked ``before`` times already. A caller who gave the client's own
    number (the callback trap) gives their own when asked again."""
    caller, request = card["caller"], card.get("request") or {}
    name, own = caller["name"], card["screen_pop"]["caller_number"]
    if ask is Ask.NAME:
        again = "As I said, it's" if before else "It's"
        spelt = f" That's {spelling(name)}." if caller.get("speech") == "spells their name" else ""
        return f"{again} {name}.{spelt}"
    if ask is Ask.SPELLING:
        return f"{name.split()[-1]}: {spelling(name)}."
    if ask is Ask.NUMBER:
        given = card.get("callback") or own
        if before and not same_number(given, own):
            return f"Oh, sorry, that is your own number. Mine is {own}."
        if caller.get("speech") == "gives the number in pieces":
            given = " ... ".join(digit_groups(given))
        return f"You can call me back on {given}."
    if ask is Ask.REQUEST:
        return wants(request)
    if ask is Ask.EMPLOYEE:
        if request.get("employee"):
            return f"{request['employee']}, please."
        return "Nobody in particular. " + wants(request)
    return ("Sorry, I didn't catch that. You can ask me my name, how to spell it, my "
            "number, what I want, or whom I want to speak to.")  # fmt: skip


# -- the rubric ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    """One thing a grade checks: its weight in the score, and whether failing it fails
    the call whatever the score (a compliance item)."""

    name: str
    weight: float
    compliance: bool = False
    checks: str = ""


CRITERIA: tuple[Criterion, ...] = (
    Criterion("greeting", 1.0, checks="the greeting names the client"),
    Criterion("identification", 1.0, checks="a new caller is asked their name"),
    Criterion("treatment", 3.0, checks="the treatment now, employee asked"),
    Criterion("forward_order", 1.0, checks="a forward tries target 1 first"),
    Criterion("note_fields", 1.0, checks="a note naming the caller"),
    Criterion("callback_guard", 2.0, True, "the callback number is the caller's"),
    Criterion("recording", 1.0, True, "announced (or not, if forbidden)"),
    Criterion("vip", 1.0, checks="a VIP is addressed by name"),
)
PASS_MARK = 0.8


@dataclass(frozen=True, slots=True)
class Rubric:
    """Criteria (by name), the pass mark, and other rubrics for named clients."""

    criteria: tuple[Criterion, ...] = CRITERIA
    pass_mark: float = PASS_MARK
    clients: Mapping[str, Rubric] = field(default_factory=dict)

    def for_client(self, client: str) -> Rubric:
        return self.clients.get(client, self)


def _criteria(base: tuple[Criterion, ...], data: Any, where: str) -> tuple[Criterion, ...]:
    if data is None:
        return base
    if not isinstance(data, Mapping):
        raise InputError(f"{where}criteria: expected a mapping of criterion: {{weight, "
                         f"compliance}}, got {data!r}", field="rubric")  # fmt: skip
    known = {c.name: c for c in base}
    out = dict(known)
    for name, spec in data.items():
        at = f"{where}criteria.{name}"
        if name not in known:
            raise InputError(f"{at}: unknown criterion {name!r} (criteria: "
                             f"{', '.join(known)})", field="rubric")  # fmt: skip
        if not isinstance(spec, Mapping) or set(spec) - {"weight", "compliance"}:
            raise InputError(f"{at}: expected {{weight: a number >= 0, compliance: true or "
                             f"false}}, got {spec!r}", field="rubric")  # fmt: skip
        weight = spec.get("weight", known[name].weight)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise InputError(f"{at}.weight: {weight!r} is not a number >= 0", field="rubric")
        compliance = spec.get("compliance", known[name].compliance)
        if not isinstance(compliance, bool):
            raise InputError(f"{at}.compliance: {compliance!r} is not true or false",
                             field="rubric")  # fmt: skip
        out[name] = Criterion(name, float(weight), compliance, known[name].checks)
    return tuple(out.values())


def _pass_mark(value: Any, default: float, where: str) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InputError(f"{where}pass_mark: {value!r} is not a fraction from 0 to 1",
                         field="rubric")  # fmt: skip
    return float(value)


def rubric_from(data: Mapping[str, Any], where: str = "") -> Rubric:
    """A rubric from plain data (a YAML file's, or a card's ``rubric``): the defaults'
    criteria with the weights and compliance given, a pass mark, and per client the
    same on top of it. Every problem one line naming the key (``where``: the file)."""
    if not isinstance(data, Mapping):
        raise InputError(f"{where}expected a mapping of pass_mark, criteria, clients, got "
                         f"{data!r}", field="rubric")  # fmt: skip
    extra = set(data) - {"pass_mark", "criteria", "clients"}
    if extra:
        raise InputError(f"{where}{sorted(extra)[0]}: unknown key (keys: pass_mark, criteria, "
                         "clients)", field="rubric")  # fmt: skip
    top = Rubric(_criteria(CRITERIA, data.get("criteria"), where),
                 _pass_mark(data.get("pass_mark"), PASS_MARK, where))  # fmt: skip
    clients = data.get("clients") or {}
    if not isinstance(clients, Mapping):
        raise InputError(f"{where}clients: expected a mapping of client name: rubric",
                         field="rubric")  # fmt: skip
    by_client = {}
    for name, spec in clients.items():
        at = f"{where}clients.{name}."
        if not isinstance(spec, Mapping) or set(spec) - {"pass_mark", "criteria"}:
            raise InputError(f"{at[:-1]}: expected {{pass_mark, criteria}}, got {spec!r}",
                             field="rubric")  # fmt: skip
        criteria = _criteria(top.criteria, spec.get("criteria"), at)
        mark = _pass_mark(spec.get("pass_mark"), top.pass_mark, at)
        by_client[str(name)] = Rubric(criteria, mark)
    return Rubric(top.criteria, top.pass_mark, by_client)


def rubric_data(rubric: Rubric) -> dict[str, Any]:
    """A rubric as plain data (``rubric_from`` reads it back): what a card carries."""

    def part(r: Rubric) -> dict[str, Any]:
        marks = {c.name: {"weight": c.weight, "compliance": c.compliance} for c in r.criteria}
        return {"pass_mark": r.pass_mark, "criteria": marks}

    return {**part(rubric), "clients": {k: part(v) for k, v in rubric.clients.items()}}


def expected_action(card: Mapping[str, Any]) -> str:
    """What the trainee does by the card: ``reject``, ``forward`` or ``note``."""
    e = card["expected"]
    if e["result"] == "blocked":
        return "reject"
    return "forward" if e["treatment"]["kind"] == "forward" else "note"


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() else " " for c in text.casefold()).split()


def _has(text: str, phrase: str) -> bool:
    """Whether ``text`` holds ``phrase``'s words in a row (case and punctuation aside)."""
    want, have = _words(phrase), _words(text)
    return bool(want) and any(have[i : i + len(want)] == want for i in range(len(have)))


Part = dict[str, Any]


def _part(ok: bool, expected: str, given: str, why: str) -> Part:
    out: Part = {"ok": ok, "expected": expected, "given": given}
    if not ok:
        out["why"] = why
    return out


def _greeting(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    if "greeting" not in h or card["expected"]["result"] == "blocked":
        return None
    said, want = h["greeting"] or "", card["expected"]["greeting"]
    ok = _has(said, card["client"])
    return _part(ok, want, said, f'Greet with the client\'s name: "{want}"')


def _identification(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    if "asked" not in h or not card["screen_pop"]["new_caller"]:
        return None
    if card["expected"]["result"] == "blocked":
        return None
    ok = Ask.NAME.value in h["asked"]
    asked = ", ".join(h["asked"]) or "nothing"
    return _part(ok, "the caller's name asked", f"asked: {asked}",
                 "The pop shows a new caller: ask who is calling.")  # fmt: skip


def _treatment(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    e = card["expected"]
    if "result" in h:
        want, given = e["result"], h["result"] or ""
    elif "action" in h:
        want, given = expected_action(card), (h["action"] or "").strip().lower()
    else:
        return None
    part = _part(given == want, want, given, f"The handling is {want}: {e.get('reason', '')}")
    asked = (card.get("request") or {}).get("employee")
    if asked and "employee" in h and part["ok"]:
        chose = h["employee"] or ""
        return _part(chose.casefold() == asked.casefold(), f"{want}, {asked}", f"{given}, {chose}",
                     f"The caller asked for {asked}.")  # fmt: skip
    return part


def _forward_order(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    e = card["expected"]
    if "forward_target" not in h or not e.get("forward"):
        return None
    first, given = e["forward"]["tried"][0], h["forward_target"] or ""
    return _part(same_number(given, first), first, given,
                 f"Target 1 is {first}; forward there first.")  # fmt: skip


def _note_fields(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    if "note" not in h or not card["expected"].get("note_fields"):
        return None
    note, name = (h["note"] or "").strip(), card["caller"]["name"]
    named = any(w in _words(note) for w in _words(name))
    why = ("This call ends in a note for the client: write one." if not note
           else f"The note names the caller ({name}) for the client.")  # fmt: skip
    return _part(bool(note) and named, f"a note naming {name}", note, why)


def _callback_guard(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    if "callback_number" not in h or not card["expected"].get("note_fields"):
        return None
    number, given = card["screen_pop"]["caller_number"], h["callback_number"] or ""
    own = {normalise_number(n) for n in (card["dialled"], card.get("callback") or "")}
    if not normalise_number(given):
        why = f"Write the caller's number as callback number: {number}."
    elif normalise_number(given) in own and not same_number(given, number):
        why = f"{given} is the client's own number: ask for the caller's ({number})."
    else:
        why = f"The caller's number is {number}, not {given}."
    return _part(same_number(given, number), number, given, why)


def _said(h: Mapping[str, Any]) -> str:
    return " ".join([h.get("greeting") or "", *h["said"]])


def _recording(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    policy = card["expected"].get("recording")
    if "said" not in h or not policy:
        return None
    text = _said(h)
    if policy["mode"] == "none":
        ok = not any(w.startswith("record") for w in _words(text))
        return _part(ok, "no word of a recording", text, policy["explain"])
    ok = _has(text, policy["say"])
    return _part(ok, policy["say"], text, f'Announce the recording: "{policy["say"]}"')


def _vip(card: Mapping[str, Any], h: Mapping[str, Any]) -> Part | None:
    pop = card["screen_pop"]
    if "said" not in h or pop["new_caller"] or pop["category"] != "vip":
        return None
    name = pop["contact_name"] or ""
    ok = any(w in _words(_said(h)) for w in _words(name))
    return _part(ok, f"{name} addressed by name", _said(h),
                 f"The pop marks {name} VIP: address them by name.")  # fmt: skip


_CHECKS = {
    "greeting": _greeting,
    "identification": _identification,
    "treatment": _treatment,
    "forward_order": _forward_order,
    "note_fields": _note_fields,
    "callback_guard": _callback_guard,
    "recording": _recording,
    "vip": _vip,
}


def grade(
    card: Mapping[str, Any], handling: Mapping[str, Any], rubric: Rubric | None = None
) -> dict[str, Any]:
    """The trainee's handling of ``card`` graded by ``rubric`` (the default's criteria
    when None): each criterion the call has and the handling shows (a key of
    ``handling``: greeting, asked, result or action, employee, forward_target, note,
    callback_number, said) with its weight, ok, expected, given and why when wrong; the
    weighted share right (``score``), the pass mark, the compliance items failed and
    whether the call passed (no compliance failure and the pass mark reached)."""
    rubric = (rubric or Rubric()).for_client(card["client"])
    parts: dict[str, Part] = {}
    for c in rubric.criteria:
        part = _CHECKS[c.name](card, handling)
        if part is not None and c.weight > 0:
            parts[c.name] = {"weight": c.weight, "compliance": c.compliance, **part}
    total = sum(p["weight"] for p in parts.values())
    score = sum(p["weight"] for p in parts.values() if p["ok"]) / total if total else 1.0
    failed = [name for name, p in parts.items() if p["compliance"] and not p["ok"]]
    return {
        "card": card.get("id"),
        "client": card["client"],
        "branch": card.get("branch", ""),
        "score": round(score, 4),
        "pass_mark": rubric.pass_mark,
        "compliance_failed": failed,
        "passed": not failed and score >= rubric.pass_mark,
        "parts": parts,
    }


def score_handling(
    card: Mapping[str, Any],
    *,
    result: str,
    employee: str | None,
    note: str | None,
    callback_number: str | None,
    said: Sequence[str] = (),
    asked: Sequence[str] = (),
) -> dict[str, Any]:
    """A desk's practice call graded: what the trainee did (the result the core made of
    it, the employee, the note and callback number) and said (``said``: their lines to
    the caller, the first their greeting; ``asked``: what they asked for)."""
    handling = {
        "greeting": said[0] if said else "",
        "said": list(said[1:]),
        "asked": list(asked),
        "result": result,
        "employee": employee,
        "note": note or "",
        "callback_number": callback_number or "",
    }
    rubric = card.get("rubric")  # a trainer's, carried by the card (practice push --rubric)
    return grade(card, handling, rubric_from(rubric) if rubric else None)
