"""``callsim practice``: practice calls for trainers, their handling computed by the core."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from callsim.cli.app import Command, Group, app, flag
from callsim.cli.console import err, print_table
from callsim.errors import InputError
from callsim.practice import check, coverage, practice_set
from callsim.practice.cards import DIFFICULTIES
from callsim.practice.handout import FORMATS, render
from callsim.scenario import load_scenario

practice_app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    help="Practice calls for trainers (expected handling by the core).",
)
app.add_typer(practice_app, name="practice")


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
    if show_coverage:
        _show_coverage(coverage(sc, found["cards"]), client)


def _show_coverage(rows: list[dict[str, Any]], only: str | None) -> None:
    rows = [r for r in rows if only is None or r["client"] == only]
    print_table(
        "Branches covered",
        ["client", "covered", "branches", "missing"],
        [[r["client"], r["covered"], r["branches"], "; ".join(r["missing"])[:60]] for r in rows],
    )


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
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})", field="cards") from exc
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})", field="cards") from exc
    cards = data.get("cards") if isinstance(data, dict) else None
    if not isinstance(cards, list) or not all(
        isinstance(c, dict) and {"id", "client", "at", "request", "expected"} <= set(c)
        for c in cards
    ):
        raise InputError(
            f"{path}: not a practice set (expected the JSON of callsim practice generate)",
            field="cards",
        )
    return cards
