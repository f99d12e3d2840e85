"""The ``callsim`` command: the root typer app, which registers every command module's
commands and groups (no command module imports it), and the one place errors become
exit codes.

Exit codes: 0 ok, 1 domain failure, 2 usage or input error. Errors print one line,
``Error: <what>``, on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from callsim import __version__, core_compiled
from callsim.cli import (
    calibrate,
    erlang,
    forecast,
    intraday,
    load,
    practice,
    roster,
    serve,
    simulate,
    sweep,
)
from callsim.cli.command import Command, Group, flag
from callsim.cli.console import error_line, print_table
from callsim.core import STRATEGIES
from callsim.errors import CallsimError, InputError

app = typer.Typer(
    cls=Group,
    name="callsim",
    help="Inbound call-centre simulator, Erlang analytics and load-testing toolkit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_state = {"debug": False}


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


# Every command module's commands and groups, in the order --help lists them (typer lists
# a group's commands before its sub-groups).
app.command("calibrate", cls=Command)(calibrate.calibrate_cmd)
app.command("compare", cls=Command)(calibrate.compare_cmd)
app.command("forecast", cls=Command)(forecast.forecast_cmd)
app.command("staff", cls=Command)(erlang.staff)
app.command("roster", cls=Command)(roster.roster_cmd)
app.command("intraday", cls=Command)(intraday.intraday_cmd)
app.command("load", cls=Command)(load.load)
app.command("serve", cls=Command)(serve.serve)
app.command("run", cls=Command)(simulate.run)
app.command("validate", cls=Command)(simulate.validate)
app.command("schema", cls=Command)(simulate.schema)
app.command("sweep", cls=Command)(sweep.sweep_cmd)
app.add_typer(erlang.erlang_app, name="erlang")
app.add_typer(practice.practice_app, name="practice")
app.add_typer(serve.keys_app, name="keys")


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
