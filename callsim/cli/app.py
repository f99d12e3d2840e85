"""The ``callsim`` command: the root typer app, which registers every command module's
commands and groups (no command module imports it), and the one place errors become
exit codes. A command module is imported only when its command runs: ``callsim run``
loads neither the forecaster, the rosterer nor scipy, and ``callsim --help`` lists every
command from its module's source, importing none.

Exit codes: 0 ok, 1 domain failure, 2 usage or input error. Errors print one line,
``Error: <what>``, on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import ast
import gc
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from callsim import __version__, core_compiled
from callsim.cli.command import Command, Group, flag, listed
from callsim.cli.console import error_line, print_table
from callsim.core import STRATEGIES
from callsim.errors import CallsimError, InputError

# Every command module's commands and groups, in the order --help lists them (typer lists
# a group's commands before its sub-groups): name -> (module in callsim.cli, its function
# or its typer app of a group)
LAZY = {
    "calibrate": ("calibrate", "calibrate_cmd"),
    "compare": ("calibrate", "compare_cmd"),
    "forecast": ("forecast", "forecast_cmd"),
    "staff": ("erlang", "staff"),
    "roster": ("roster", "roster_cmd"),
    "intraday": ("intraday", "intraday_cmd"),
    "load": ("load", "load"),
    "serve": ("serve", "serve"),
    "run": ("simulate", "run"),
    "validate": ("simulate", "validate"),
    "schema": ("simulate", "schema"),
    "sweep": ("sweep", "sweep_cmd"),
    "erlang": ("erlang", "erlang_app"),
    "practice": ("practice", "practice_app"),
    "keys": ("serve", "keys_app"),
}


class _Root(Group):
    """The root group: its own commands, then ``LAZY``'s, each built from its module on
    first use."""

    _listing = False  # while the root's help lists the commands

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY if n not in self.commands)]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in LAZY:
            module, name = LAZY[cmd_name]
            if self._listing and (text := listed_help(module, name)) is not None:
                # a line of the list, not imported
                return Command(cmd_name, help=text, short_help=listed(text))
            target = getattr(_imported(f"callsim.cli.{module}"), name)
            command: Any
            if isinstance(target, typer.Typer):
                command = typer.main.get_group(target)
            else:
                one = typer.Typer(add_completion=False)
                one.command(cmd_name, cls=Command)(target)
                command = typer.main.get_command(one)
            command.name = cmd_name
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


def _imported(module: str) -> Any:
    """``module``, imported with the cyclic garbage collector paused: an import makes
    many objects and next to no garbage, and the collector's 56 passes over them while
    ``callsim run`` imported its module took about 40 ms of its 0.6 s start-up."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(module)
    finally:
        if was_enabled:
            gc.enable()


def listed_help(module: str, name: str) -> str | None:
    """The help of command ``name`` of ``callsim.cli.<module>``, as its command would
    have it, read from the module's source: its function's docstring, or the ``help=``
    of its typer app (a group); None when the source does not say it plainly."""
    try:
        tree = ast.parse((Path(__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_docstring(node)
        if (
            isinstance(node, ast.Assign)
            and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]
            and isinstance(node.value, ast.Call)
        ):
            helps = [k.value for k in node.value.keywords if k.arg == "help"]
            if helps and isinstance(helps[0], ast.Constant) and isinstance(helps[0].value, str):
                return helps[0].value
    return None


app = typer.Typer(
    cls=_Root,
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
        if isinstance(command, TyperGroup):
            ctx = typer.Context(command)
            todo.extend(c for n in command.list_commands(ctx) if (c := command.get_command(ctx, n)))
    return found
