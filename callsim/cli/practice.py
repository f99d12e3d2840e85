"""``callsim practice``: practice calls for trainers, their handling computed by the core."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt
from rich.text import Text

from callsim.cli.command import Command, Group, flag
from callsim.cli.console import err, out, print_table, progress
from callsim.core.practice import Ask, Rubric, asks_of, caller_reply, rubric_data
from callsim.errors import InputError, utf8_text
from callsim.practice import check, coverage, practice_set
from callsim.practice.cards import DIFFICULTIES
from callsim.practice.grade import ACTIONS, forward_walk, grade_class, grade_one, read_answers
from callsim.practice.handout import FORMATS, handling_text, render
from callsim.practice.progress import append_results, read_results
from callsim.practice.progress import progress as class_progress
from callsim.practice.rubric import load_rubric
from callsim.report.files import run_dir, write_csv, write_json
from callsim.report.plot import scores_by_branch
from callsim.scenario import load_scenario

practice_app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    help="Practice calls for trainers (expected handling by the core).",
)


@practice_app.command("generate", cls=Command)
def generate(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML) with clients."),
    count: int | None = typer.Option(
        None, "--count", help="Cards (default: one per reachable branch of every client)."
    ),
    seed: int = typer.Option(1, "--seed", help="Same seed and scenario: the same cards."),
    difficulty: str = typer.Option(
        "normal", "--difficulty", help=f"{', '.join(DIFFICULTIES)}: how many traps."
    ),
    client: str | None = typer.Option(None, "--client", help="Only this client's calls."),
    fmt: str = typer.Option("json", "--format", help=f"{', '.join(FORMATS)}."),
    out: Path | None = typer.Option(None, "--out", help="File (default: standard output)."),
    show_coverage: bool = flag("--coverage", "Print which branches the set covers."),
    audio: Path | None = typer.Option(
        None, "--audio", help="Folder for a WAV per card of what the caller says (espeak-ng)."
    ),
) -> None:
    """Practice calls: persona, request, screen pop, expected handling and traps."""
    if fmt not in FORMATS:
        raise InputError(f"{fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    sc = load_scenario(scenario)
    found = practice_set(sc, count=count, seed=seed, difficulty=difficulty, client=client)
    text = render(found, fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot write {str(out)!r} ({exc.strerror or exc})", field="out"
            ) from exc
        err.print(f"{len(found['cards'])} practice calls in {out}")
    if audio is not None:
        from callsim.practice.audio import speak

        with progress("speaking the callers", len(found["cards"])) as bar:
            files = speak(found["cards"], audio, lambda: bar.advance(bar.task_ids[0]))
        err.print(f"{len(files)} WAV files in {audio}")
    if show_coverage:
        _show_coverage(coverage(sc, found["cards"]), client)


def _show_coverage(rows: list[dict[str, Any]], only: str | None) -> None:
    """The branches covered per client, then every missing branch on a line of its own
    (whole: a long list is never cut to a column's width)."""
    rows = [r for r in rows if only is None or r["client"] == only]
    print_table(
        "Branches covered",
        ["client", "covered", "branches", "missing"],
        [[r["client"], r["covered"], r["branches"], len(r["missing"])] for r in rows],
    )
    missing = [(r["client"], m) for r in rows for m in r["missing"]]
    if missing:
        console = out()
        console.print("Missing branches:")
        for name, branch in missing:
            console.print(f"  {escape(name)}: {escape(branch)}", soft_wrap=True)


@practice_app.command("coverage", cls=Command)
def coverage_cmd(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML): the policies now."),
    cards: Path = typer.Argument(..., help="Cards (JSON from practice generate)."),
    client: str | None = typer.Option(None, "--client", help="Only this client's branches."),
    as_json: bool = flag("--json", "Print the coverage as JSON."),
) -> None:
    """Which branches of each client's policy a set of cards covers, and which it misses."""
    sc = load_scenario(scenario)
    rows = coverage(sc, _load_cards(cards))
    if client is not None:
        rows = [r for r in rows if r["client"] == client]
        if not rows:
            names = ", ".join(c.name for c in sc.clients) or "none"
            raise InputError(f"no client {client!r} in the scenario (clients: {names})",
                             field="client")  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        _show_coverage(rows, None)


@practice_app.command("check", cls=Command)
def check_cards(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML): the policies now."),
    cards: Path = typer.Argument(..., help="Cards (JSON from practice generate)."),
    as_json: bool = flag("--json", "Print the stale cards as JSON."),
) -> None:
    """List the cards whose expected handling is different now, and why (exit 1 if any)."""
    sc = load_scenario(scenario)
    found = _load_cards(cards)
    stale = check(sc, found)
    if as_json:
        typer.echo(json.dumps(stale, indent=2, ensure_ascii=False))
    else:
        print_table(
            f"{len(stale)} of {len(found)} cards are stale",
            ["card", "client", "why", "changed"],
            [[s["id"], s["client"], s["why"], ", ".join(s["changed"])] for s in stale],
        )
    if stale:
        raise typer.Exit(1)


def _load_cards(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(_read(path, "cards"))
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})", field="cards") from exc
    cards = data.get("cards") if isinstance(data, dict) else None
    if isinstance(cards, list) and cards and isinstance(cards[0], dict) and "dialed" in cards[0]:
        raise InputError(
            f"{path}: a set of an older callsim (its key `dialed` is now `dialled`): "
            "generate it again with callsim practice generate",
            field="cards",
        )
    if not isinstance(cards, list) or not all(
        isinstance(c, dict) and {"id", "client", "at", "dialled", "request", "expected"} <= set(c)
        for c in cards
    ):
        raise InputError(
            f"{path}: not a practice set (expected the JSON of callsim practice generate)",
            field="cards",
        )
    return cards


@practice_app.command("drill", cls=Command)
def drill(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML) with clients."),
    count: int = typer.Option(5, "--count", min=1, max=200, help="Calls in the drill."),
    seed: int = typer.Option(1, "--seed", help="Same seed: the same calls."),
    difficulty: str = typer.Option("normal", "--difficulty", help=f"{', '.join(DIFFICULTIES)}."),
    client: str | None = typer.Option(None, "--client", help="Only this client's calls."),
    answers: Path | None = typer.Option(
        None, "--answers", help="Grade these answers (CSV) instead of asking."
    ),
    rubric: Path | None = typer.Option(
        None, "--rubric", help="Rubric file (YAML): weights, compliance, pass marks."
    ),
    trainee: str = typer.Option("trainee", "--trainee", help="Who takes the drill."),
    results_file: Path | None = typer.Option(
        None, "--results", help="Append the graded calls to this file (JSON lines)."
    ),
) -> None:
    """Take practice calls in the terminal: each screen pop and caller (ask them for
    their name, number, spelling, request, whom they want), your greeting, action,
    forward target and callback number, graded by the rubric and explained."""
    sc = load_scenario(scenario)
    cards = practice_set(sc, count=count, seed=seed, difficulty=difficulty, client=client)
    marks = load_rubric(rubric) if rubric else None
    if answers is not None:
        rows = read_answers(_read(answers, "answers"), str(answers))
        graded = grade_class(cards["cards"], rows, str(answers), marks)
        if results_file is not None:
            append_results(results_file, trainee, graded["graded"], time.time())
        _show_class(graded, per_card=True)
        return
    results = []
    for k, card in enumerate(cards["cards"], start=1):
        started = time.monotonic()
        answer = _ask(card, k, len(cards["cards"]))
        result = grade_one(card, answer, marks)
        result["seconds"] = round(time.monotonic() - started, 1)
        results.append(result)
        _explain(result)
    print_table(
        "Your drill",
        ["call", "client", "score", "passed", "seconds"],
        [[r["card"], r["client"], f"{100 * r['score']:.0f}%", "yes" if r["passed"] else "no",
          r["seconds"]] for r in results],
    )  # fmt: skip
    total = sum(r["score"] for r in results) / len(results)
    out().print(f"Score: {100 * total:.0f}%")
    if results_file is not None:
        append_results(results_file, trainee, results, time.time())
        err.print(f"{len(results)} graded calls added to {results_file}")


def show_call(console: Console, card: dict[str, Any], k: int, n: int) -> None:
    """The call's screen pop and what the caller says, in a panel at most 100 columns
    wide; every line wraps (never cut: the callback number is at the end of the words)."""
    pop = card["screen_pop"]
    who = "new caller" if pop["new_caller"] else f"{pop['contact_name']} ({pop['category']})"
    lines = [
        f"[bold]{escape(card['client'])}[/bold]  {escape(card['weekday'])} "
        f"{escape(card['at'][:16].replace('T', ' '))}  dialled {escape(card['dialled'])}",
        f"Caller: {escape(pop['caller_number'])}, {escape(who)}",
        f"Hours: {escape(pop['hours'])}",
        *(f"[yellow]{escape(m)}[/yellow]" for m in pop["messages"]),
        *_recording_line(pop.get("recording"), card["expected"].get("recording")),
        *_instruction_lines(pop),
        "",
        f'[italic]"{escape(card["says"])}"[/italic]',
    ]
    text = Text.from_markup("\n".join(lines), overflow="fold")
    # the console soft-wraps (it leaves long lines to the terminal), which crops a panel's
    # lines at its border: a panel is printed wrapped
    console.print(Panel(text, title=f"Call {k} of {n}", width=min(console.width, 100)),
                  soft_wrap=False)  # fmt: skip


def _instruction_lines(pop: dict[str, Any]) -> list[str]:
    """The work instruction at the call's time, and the list entry the caller asks for."""
    lines = []
    if pop.get("instruction"):
        lines.append(f"Instruction: {escape(handling_text(pop['instruction']))}")
    asked = pop.get("asked")
    if asked and "employee" in asked:
        dept = f" ({asked['department']})" if asked.get("department") else ""
        lines.append(f"Employee {escape(asked['employee'] + dept)}: "
                     f"{escape(handling_text(asked['treatment']))}")  # fmt: skip
    elif asked and "faq" in asked:
        info = f"{asked['info']} " if asked.get("info") else ""
        lines.append(f"FAQ {escape(' > '.join(asked['faq']))}: {escape(info)}"
                     f"{escape(handling_text(asked['treatment']))}")  # fmt: skip
    return lines


def _recording_line(mode: str | None, policy: dict[str, str] | None) -> list[str]:
    """What the desk shows of the client's recording policy."""
    if mode == "none":
        return ["[red]Recording: forbidden by the client (not recorded)[/red]"]
    if mode == "all" and policy:
        return [f'Recording: all calls; announce "{escape(policy["say"])}"']
    return []


def _talk(card: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Questions to the caller until an empty line; each answered from the card (name,
    number, spelling, request, employee). What the trainee said and asked for."""
    said: list[str] = []
    asked: list[str] = []
    out().print("[dim]Ask the caller (name, number, spelling, what they want, whom); "
                "an empty line when done.[/dim]")  # fmt: skip
    while line := Prompt.ask("You", default="", show_default=False, console=out()).strip():
        said.append(line)
        asks = asks_of(line)
        answered: list[Ask | None] = [*asks] or [None]  # None: not understood
        for ask in answered:
            before = asked.count(ask.value) if ask else 0
            reply = caller_reply(card, ask, before)
            out().print(f'  Caller: [italic]"{escape(reply)}"[/italic]', soft_wrap=True)
        asked += [a.value for a in asks]
    return said, asked


def _ask(card: dict[str, Any], k: int, n: int) -> dict[str, Any]:
    show_call(out(), card, k, n)
    answer: dict[str, Any] = {"greeting": Prompt.ask("Your greeting", console=out())}
    answer["said"], answer["asked"] = _talk(card)
    answer["action"] = Prompt.ask("Action", choices=list(ACTIONS), console=out())
    took = None
    if answer["action"] == "forward":
        answer["forward_target"] = Prompt.ask("Forward to (first target)", console=out())
        walked = forward_walk(card, answer["forward_target"])  # the world, as the card says
        if walked is None:
            out().print(f"  {escape(answer['forward_target'])} is not a forward target of "
                        "this call: nobody takes it")  # fmt: skip
        for target, answered in walked or []:
            out().print(f"  {escape(target)} {'takes the call' if answered else 'does not answer'}")
            took = target if answered else None
    if answer["action"] == "note" or (answer["action"] == "forward" and took is None):
        answer["callback_number"] = Prompt.ask("Callback number", console=out())
    return answer


def _explain(result: dict[str, Any]) -> None:
    """Each criterion of the grade with its weight (and compliance), why when wrong;
    the score against the pass mark."""
    for name, part in result["parts"].items():
        weight = f"weight {part['weight']:g}" + (", compliance" if part["compliance"] else "")
        if part["ok"]:
            out().print(f"  [green]ok[/green] {name} ({weight})")
        else:
            out().print(f"  [red]wrong[/red] {name} ({weight}): {escape(part['why'])}",
                        soft_wrap=True)  # fmt: skip
    verdict = "passed" if result["passed"] else "failed"
    if result["compliance_failed"]:
        verdict += " (compliance: " + ", ".join(result["compliance_failed"]) + ")"
    out().print(f"  score {100 * result['score']:.0f}%, pass mark "
                f"{100 * result['pass_mark']:.0f}%: {verdict}\n")  # fmt: skip


@practice_app.command("grade", cls=Command)
def grade(
    cards: Path = typer.Argument(..., help="Cards (JSON from practice generate)."),
    answers: Path = typer.Argument(
        ...,
        help="CSV (, ; or tab): trainee, card, greeting, action, forward_target, "
        "callback_number, and cards_hash (the set's, from the trainee sheet).",
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Folder for grades.csv, grades.json, scores.png."
    ),
    as_json: bool = flag("--json", "Print the grades as JSON."),
    rubric: Path | None = typer.Option(
        None, "--rubric", help="Rubric file (YAML): weights, compliance, pass marks."
    ),
    results_file: Path | None = typer.Option(
        None, "--results", help="Append the graded calls to this file (JSON lines)."
    ),
) -> None:
    """Grade a class: one answer row per trainee and card, against the cards, by the
    rubric (each criterion, its weight and why; compliance items fail a call)."""
    found = _load_cards(cards)
    rows = read_answers(_read(answers, "answers"), str(answers))
    graded = grade_class(found, rows, str(answers), load_rubric(rubric) if rubric else None)
    if results_file is not None:
        append_results(results_file, "trainee", graded["graded"], time.time())
    if out_dir is not None:
        folder = run_dir(out_dir, "grades", ("grades.csv", "grades.json", "scores.png"))
        write_json(folder / "grades.json", graded)
        write_csv(
            folder / "grades.csv",
            ["trainee", "card", "client", "branch", "score", "passed", "mistakes"],
            [[g["trainee"], g["card"], g["client"], g["branch"], g["score"], g["passed"],
              "; ".join(k for k, p in g["parts"].items() if not p["ok"])]
             for g in graded["graded"]],
        )  # fmt: skip
        scores_by_branch(folder / "scores.png", graded["branches"])
        err.print(f"grades in {folder}")
    if as_json:
        typer.echo(json.dumps(graded, indent=2, ensure_ascii=False))
    else:
        _show_class(graded, per_card=False)


def _show_class(graded: dict[str, Any], *, per_card: bool) -> None:
    if per_card:
        for g in graded["graded"]:
            out().print(f"Call {g['card']} ({escape(g['client'])}):")
            _explain(g)
    print_table("Trainees", ["trainee", "score"],
                [[t, f"{100 * s:.0f}%"] for t, s in graded["trainees"].items()])  # fmt: skip
    print_table("Clients", ["client", "score"],
                [[c, f"{100 * s:.0f}%"] for c, s in graded["clients"].items()])  # fmt: skip


def _read(path: Path, field: str) -> str:
    try:
        if path.stat().st_size > 100 * 2**20:
            raise InputError(f"{path}: larger than 100 MiB", field=field)
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})", field=field) from exc
    return utf8_text(raw, str(path), field=field)


@practice_app.command("push", cls=Command)
def push_calls(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML) with clients."),
    host: str = typer.Option(..., "--host", help="The live service, e.g. http://127.0.0.1:8000."),
    key: str = typer.Option(..., "--key", help="A trainer API key."),
    count: int = typer.Option(5, "--count", min=1, max=1000, help="Practice calls."),
    seed: int = typer.Option(1, "--seed", help="Same seed: the same calls."),
    difficulty: str = typer.Option("normal", "--difficulty", help=f"{', '.join(DIFFICULTIES)}."),
    client: str | None = typer.Option(None, "--client", help="Only this client's calls."),
    rate_per_min: float = typer.Option(6.0, "--rate-per-min", help="Calls placed a minute."),
    agent: str | None = typer.Option(None, "--agent", help="Ring only this trainee's desk."),
    wait: float = typer.Option(
        0.0, "--wait", min=0, max=86_400, help="Seconds to wait for the scores (0: do not)."
    ),
    as_json: bool = flag("--json", "Print the calls (and scores) as JSON."),
    rubric: Path | None = typer.Option(
        None, "--rubric", help="Rubric file (YAML): weights, compliance, pass marks."
    ),
) -> None:
    """Place practice calls into a running live service; with --wait, report the
    trainee's score on each as the service graded it (by --rubric: each card carries it)."""
    from callsim.practice.push import push, scores

    sc = load_scenario(scenario)
    cards = practice_set(sc, count=count, seed=seed, difficulty=difficulty, client=client)
    if rubric is not None:
        data = rubric_data(load_rubric(rubric))
        cards["cards"] = [{**c, "rubric": data} for c in cards["cards"]]
    calls = push(cards["cards"], host, key, agent=agent, rate_per_min=rate_per_min,
                 placed=None if as_json else lambda card, call: err.print(
                     f"call {call['call_id']}: card {card['id']} to {card['client']}"))  # fmt: skip
    # the calls as they are now (a call placed by an earlier push may have ended)
    views = scores(calls, host, key, wait)
    grades = [(v.get("practice") or {}).get("score") or {} for v in views]
    rows = [
        {"call_id": v["call_id"], "card": c["id"], "client": c["client"], "status": v["status"],
         "score": g.get("score"), "passed": g.get("passed")}
        for v, c, g in zip(views, cards["cards"], grades, strict=True)
    ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(views if wait else rows, indent=2, ensure_ascii=False))
        return
    print_table(
        "Practice calls",
        ["call", "card", "client", "status", "score", "passed"],
        [[r["call_id"], r["card"], r["client"], r["status"],
          "" if r["score"] is None else f"{100 * r['score']:.0f}%",
          "" if r["passed"] is None else "yes" if r["passed"] else "no"] for r in rows],
    )  # fmt: skip


@practice_app.command("rubric", cls=Command)
def rubric_cmd(
    rubric: Path | None = typer.Argument(None, help="Rubric file (YAML); none: the defaults."),
    as_json: bool = flag("--json", "Print the rubric as JSON."),
) -> None:
    """The rubric grades use: each criterion, its weight, whether it is a compliance
    item (failing it fails the call) and what it checks; the pass mark; per client."""
    found = load_rubric(rubric) if rubric else Rubric()
    if as_json:
        typer.echo(json.dumps(rubric_data(found), indent=2, ensure_ascii=False))
        return
    for name, r in [("every client", found), *found.clients.items()]:
        print_table(
            f"Rubric for {name}: pass mark {100 * r.pass_mark:.0f}%",
            ["criterion", "weight", "compliance", "checks"],
            [[c.name, f"{c.weight:g}", "yes" if c.compliance else "", c.checks]
             for c in r.criteria],
        )  # fmt: skip


@practice_app.command("report", cls=Command)
def report(
    results: list[Path] = typer.Argument(
        None, help="Results files (JSON lines: practice drill/grade --results)."
    ),
    host: str | None = typer.Option(
        None, "--host", help="And the live service's scored desk calls (with --key)."
    ),
    key: str | None = typer.Option(None, "--key", help="A trainer or supervisor API key."),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Folder for progress.json, progress.csv, criteria.png."
    ),
    count: int = typer.Option(10, "--count", min=1, max=100, help="Branches in a next set."),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="Write each trainee's next set as cards (next-<who>.json)."
    ),
    as_json: bool = flag("--json", "Print the progress as JSON."),
) -> None:
    """A class over weeks: each trainee's score per session, criterion and client, their
    weakest branches and the next set to practise (spaced repetition)."""
    rows = [r for path in results or [] for r in read_results(path)]
    if host is not None:
        from callsim.practice.push import desk_results

        if key is None:
            raise InputError("--host needs a trainer's or supervisor's key", field="key")
        rows += desk_results(host, key)
    if not rows:
        raise InputError("no graded calls: give results files or --host and --key",
                         field="results")  # fmt: skip
    found = class_progress(rows, count=count)
    if out_dir is not None:
        own = ("progress.json", "progress.csv", "criteria.png")
        folder = run_dir(out_dir, "progress", own)
        write_json(folder / "progress.json", found)
        write_csv(
            folder / "progress.csv",
            ["trainee", "session", "calls", "score", "passed", "criterion", "share_right"],
            [[who, s["session"], s["calls"], s["score"], s["passed"], c, v]
             for who, t in found["trainees"].items() for s in t["sessions"]
             for c, v in s["criteria"].items()],
        )  # fmt: skip
        scores_by_branch(folder / "criteria.png", found["criteria"],
                         "Practice calls: share right per criterion")  # fmt: skip
        if scenario is not None:
            sc = load_scenario(scenario)
            for who, t in found["trainees"].items():
                wanted = [(n["client"], n["branch"]) for n in t["next"]]
                if wanted:
                    cards = practice_set(sc, branches=wanted)
                    write_json(folder / f"next-{_file_name(who)}.json", cards)
        err.print(f"progress in {folder}")
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    print_table(
        "Trainees",
        ["trainee", "calls", "score", "passed", "sessions", "next set"],
        [[who, t["calls"], f"{100 * t['score']:.0f}%", t["passed"], len(t["sessions"]),
          len(t["next"])] for who, t in found["trainees"].items()],
    )  # fmt: skip
    console = out()
    for who, t in found["trainees"].items():
        for w in t["weakest"][:3]:  # whole, wrapped to the console
            console.print(
                f"{escape(who)}, weak: {100 * w['score']:.0f}% {escape(w['branch'])}",
                soft_wrap=False,
            )
    print_table(
        "Criteria (share right)",
        ["criterion", "class", *found["trainees"]],
        [[c, f"{100 * v:.0f}%",
          *(f"{100 * t['criteria'][c]:.0f}%" if c in t["criteria"] else ""
            for t in found["trainees"].values())]
         for c, v in found["criteria"].items()],
    )  # fmt: skip


def _file_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)
