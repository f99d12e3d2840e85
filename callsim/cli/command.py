"""What the commands share: the command classes (--help shown as a flag) and the options
several commands take. Command modules and the root app (``cli/app.py``) import it; it
imports neither, so the root can import every command module at its top."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


class _HelpFlag:
    """--help shown as a flag, like every other flag (typer would show '<bool>')."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class Command(_HelpFlag, TyperCommand):
    """A command of callsim."""


class Group(_HelpFlag, TyperGroup):
    """A group of callsim commands."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not command.short_help:
            command.short_help = listed(command.help)
        return command


def listed(help: str | None) -> str | None:
    """A command's line in its group's list: the first paragraph of its help, its lines
    joined (typer's listing keeps a docstring's line breaks, which fall mid-sentence in
    80 columns)."""
    return None if help is None else " ".join(help.split("\n\n")[0].split())


def flag(name: str, help: str, **kw: Any) -> Any:
    """A boolean option shown as a flag in --help (no value after it)."""
    return typer.Option(False, name, help=help, metavar="", **kw)


# where replications run, for every command that simulates
WORKERS = typer.Option(None, "--workers", help="Parallel processes (default: all cores).")
SEED = typer.Option(1, "--seed", help="Seed of every random stream.")
DASK = typer.Option(
    None,
    "--dask",
    help="Run on a Dask distributed cluster: its scheduler's address (tcp://host:8786), "
    "or 'local' for a cluster of local processes on this machine. Same results as without.",
)
