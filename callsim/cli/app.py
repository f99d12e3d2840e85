"""The ``callsim`` command: a typer app and the one place errors become exit codes.

Exit codes: 0 ok, 1 domain failure, 2 usage or input error. Errors print one line,
``Error: <what>``, on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from callsim import __version__, core_compiled
from callsim.cli.console import error_line, print_table
from callsim.core import STRATEGIES
from callsim.errors import CallsimError, InputError


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


app = typer.Typer(
    cls=Group,
    name="callsim",
    help="Inbound call-centre simulator, Erlang analytics and load-testing toolkit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_state = {"debug": False}


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


def _show_version(value: bool) -> None:
    if value:
        build = "core compiled with mypyc" if core_compiled() else "pure-Python core"
        typer.echo(f"callsim {__version__}, {build}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = flag(
        "--version", "Print the version and exit.", callback=_show_version, is_eager=True
    ),
    debug: bool = flag("--debug", "Show tracebacks instead of one-line errors."),
) -> None:
    """Inbound call-centre simulator, Erlang analytics and load-testing toolkit."""
    _state["debug"] = debug


@app.command(cls=Command)
def strategies() -> None:
    """List the routing strategies (the names scenario files, CLI and API use)."""
    print_table(
        "Routing strategies",
        ["strategy", "rule"],
        [(s.name, s.rule) for s in STRATEGIES.values()],
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``callsim`` console script."""
    _state["debug"] = False
    try:
        code = app(
            args=list(argv) if argv is not None else None,
            prog_name="callsim",
            standalone_mode=False,
        )  # without standalone mode, click returns a typer.Exit's code
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # typer's usage errors: one line, exit 2
        code = int(getattr(exc, "exit_code", 2))
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]
            sys.exit(code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        error_line(f"{exc.format_message()}{hint}")
        sys.exit(code)
    except (typer.Abort, KeyboardInterrupt):
        error_line("interrupted.")
        sys.exit(130)
    except CallsimError as exc:
        if _state["debug"]:
            raise
        for line in getattr(exc, "problems", ()) or [_rendered(exc)]:
            error_line(line)
        sys.exit(2 if isinstance(exc, InputError) else 1)
    sys.exit(0)


def _rendered(exc: CallsimError) -> str:
    """The error's line, its field shown as the command-line flag that sets it (library
    errors name parameters: ``sl_target: ...`` becomes ``--sl-target: ...``)."""
    if exc.field:
        flag = "--" + exc.field.replace("_", "-")
        if flag in _flags():
            return f"{flag}: {exc.reason}"
    return str(exc)


def _flags() -> set[str]:
    """Every option name of every command."""
    found: set[str] = set()
    todo = [typer.main.get_command(app)]
    while todo:
        command = todo.pop()
        found.update(o for p in command.params for o in getattr(p, "opts", ()))
        todo.extend(getattr(command, "commands", {}).values())
    return found


# Command modules register themselves on ``app`` when imported (after ``app`` exists).
from callsim.cli import calibrate, erlang, load, practice, serve, simulate, sweep  # noqa: E402, F401  (they register commands)
