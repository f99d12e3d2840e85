"""Practice sets as files: JSON (the cards, for ``check``), CSV (one row per card),
Markdown and a printable HTML page, each with the trainee sheet (the calls, no answers)
and the trainer's key (the answers and the reason for each), grouped by client; and the
answers template (CSV: the set's hash and the card of each row filled in, for ``grade``)."""

from __future__ import annotations

import csv
import html
import io
import json
from itertools import groupby
from typing import Any

from callsim.practice.cards import cards_hash
from callsim.practice.grade import COLUMNS

FORMATS = ("json", "md", "html", "csv", "answers")


def render(practice: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(practice, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(practice["cards"])
    if fmt == "md":
        return _markdown(practice)
    if fmt == "answers":
        return _answers_template(practice)
    return _html(practice)


def set_hash(practice: dict[str, Any]) -> str:
    """The set's ``cards_hash`` (computed for a set written before sets carried it)."""
    return str(practice.get("cards_hash") or cards_hash(practice["cards"]))


def _answers_template(practice: dict[str, Any]) -> str:
    """One row per card to fill in (copy the rows once per trainee)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["trainee", "cards_hash", *COLUMNS[1:]])
    for c in practice["cards"]:
        w.writerow(["", set_hash(practice), c["id"], "", "", "", ""])
    return out.getvalue()


def _answer(card: dict[str, Any]) -> str:
    e = card["expected"]
    if e["result"] == "blocked":
        return "Rejected: advertising is blocked."
    t = e["treatment"]
    if t["kind"] == "forward":
        f = e["forward"]
        took = f"{f['took']} takes it" if f["took"] else "nobody takes it: take a note"
        return f"Forward to {', then '.join(f['tried'])}: {took}."
    return "Take a note: " + ", ".join(e["note_fields"]) + "."


def _recording(card: dict[str, Any]) -> str:
    r = card["expected"]["recording"]
    return f'say "{r["say"]}"' if r["say"] else str(r["explain"])


def _pop_recording(card: dict[str, Any]) -> str:
    """The recording line as the desk shows it: the announcement to say, or the ban."""
    mode = card["screen_pop"].get("recording")
    if mode == "all":
        say = (card["expected"].get("recording") or {}).get("say", "")
        return f' Recorded: say "{say}"' if say else " Recorded."
    return " Recording forbidden: do not announce one." if mode == "none" else ""


def handling_text(t: dict[str, Any] | None) -> str:
    """A treatment as the desk's instruction says it."""
    if t is None:
        return "the client's instruction"
    info = f" ({t['info']})" if t.get("info") else ""
    if t["kind"] == "forward":
        return f"forward to {', then '.join(t['targets'])}; if nobody takes it, a note{info}"
    return f"take a note{info}"


def _when(card: dict[str, Any]) -> str:
    """The call's day and time with its time zone (the client's local time)."""
    offset = card["at"][19:] or "+00:00"
    return f"{card['weekday']} {card['at'][:16].replace('T', ' ')} (UTC{offset})"


def _sheet(card: dict[str, Any]) -> str:
    """A call on the trainee sheet: when, dialled, the pop, the recording line and the
    instruction as the desk shows them."""
    return (f"{_when(card)}, dialled {card['dialled']}. Screen pop: {_pop(card)}."
            f"{_pop_recording(card)} Instruction: "
            f"{handling_text(card['screen_pop'].get('instruction'))}.")  # fmt: skip


def _by_client(cards: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    ordered = sorted(cards, key=lambda c: (c["client"], c["id"]))
    return [(k, list(g)) for k, g in groupby(ordered, key=lambda c: c["client"])]


def _csv(cards: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id", "client", "at", "caller", "number", "status", "says", "branch",
                "greeting", "answer", "result", "traps"])  # fmt: skip
    for c in cards:
        w.writerow([c["id"], c["client"], c["at"], c["caller"]["name"], c["caller"]["number"],
                    c["caller"]["status"], c["says"], c["branch"], c["expected"]["greeting"],
                    _answer(c), c["expected"]["result"],
                    "; ".join(t["trap"] for t in c["traps"])])  # fmt: skip
    return out.getvalue()


def _pop(card: dict[str, Any]) -> str:
    p = card["screen_pop"]
    who = "new caller" if p["new_caller"] else f"{p['contact_name']} ({p['category']})"
    return f"{p['caller_number']}, {who}"


def _markdown(practice: dict[str, Any]) -> str:
    lines = [f"# Practice calls: {practice['scenario']}", "",
             f"{len(practice['cards'])} calls, seed {practice['seed']}, "
             f"difficulty {practice['difficulty']}, card set `{set_hash(practice)}` "
             "(write it in the answers' cards_hash column).", "", "## Trainee sheet",
             ""]  # fmt: skip
    for client, cards in _by_client(practice["cards"]):
        lines += [f"### {client}", ""]
        for c in cards:
            lines += [f"**Call {c['id']}**: {_sheet(c)}", "",
                      f"> {c['says']}", ""]  # fmt: skip
    lines += ["## Trainer's key", ""]
    for client, cards in _by_client(practice["cards"]):
        lines += [f"### {client}", ""]
        for c in cards:
            e = c["expected"]
            lines += [f"**Call {c['id']}** ({c['branch']})", "",
                      f"- Greeting ({e['tone']}): {e['greeting']}",
                      f"- {_answer(c)}", f"- Why: {e['reason']}"]  # fmt: skip
            lines += [f"- Say: {m}" for m in e["messages"]]
            lines += [f"- Recording: {_recording(c)}"] if e.get("recording") else []
            lines += [f"- Trap: {t['explain']}" for t in c["traps"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _html(practice: dict[str, Any]) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Practice calls: {esc(practice['scenario'])}</title><style>",
        "body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#1d2330}",
        "h2{page-break-before:always}h2:first-of-type{page-break-before:auto}",
        ".card{border:1px solid #d5dae3;border-radius:6px;padding:.5rem .8rem;margin:.5rem 0;"
        "page-break-inside:avoid}.says{font-style:italic}.trap{color:#b3261e}",
        "@media print{body{margin:0}}</style></head><body>",
        f"<h1>Practice calls: {esc(practice['scenario'])}</h1>",
        f"<p>{len(practice['cards'])} calls, seed {practice['seed']}, difficulty "
        f"{esc(practice['difficulty'])}, card set <code>{esc(set_hash(practice))}</code> "
        "(write it in the answers' cards_hash column).</p><h2>Trainee sheet</h2>",
    ]
    for client, cards in _by_client(practice["cards"]):
        parts.append(f"<h3>{esc(client)}</h3>")
        for c in cards:
            parts.append(
                f"<div class='card'><strong>Call {esc(c['id'])}</strong>: {esc(_sheet(c))}"
                f"<p class='says'>{esc(c['says'])}</p></div>"
            )
    parts.append("<h2>Trainer's key</h2>")
    for client, cards in _by_client(practice["cards"]):
        parts.append(f"<h3>{esc(client)}</h3>")
        for c in cards:
            e = c["expected"]
            items = [f"Greeting ({esc(e['tone'])}): {esc(e['greeting'])}", esc(_answer(c)),
                     f"Why: {esc(e['reason'])}", *(f"Say: {esc(m)}" for m in e["messages"]),
                     *([f"Recording: {esc(_recording(c))}"] if e.get("recording") else []),
                     *(f"<span class='trap'>Trap: {esc(t['explain'])}</span>"
                       for t in c["traps"])]  # fmt: skip
            parts.append(
                f"<div class='card'><strong>Call {esc(c['id'])}</strong> "
                f"({esc(c['branch'])})<ul>"
                + "".join(f"<li>{i}</li>" for i in items)
                + "</ul></div>"
            )
    parts.append("</body></html>\n")
    return "\n".join(parts)
