"""The public surface is pinned: changing it is a deliberate act."""

from __future__ import annotations

import subprocess
import sys

import callsim

PUBLIC = [
    "Acd", "AcdConfig", "Action", "ActionKind", "AgentConfig", "CallRecord", "CallsimError",
    "ConfigError", "InputError", "Outcome", "QueueConfig", "RoutingConfig", "RoutingError",
    "STRATEGIES", "ScenarioError", "Target", "erlang_a", "erlang_b", "erlang_c",
    "load_forecast", "plan_day", "queue_log_lines", "required_agents",
]  # fmt: skip


def test_public_names_are_pinned_and_resolve() -> None:
    assert callsim.__all__ == ["__version__", *sorted(PUBLIC)]
    for name in PUBLIC:
        assert getattr(callsim, name) is not None


def test_core_import_pulls_no_third_party_package() -> None:
    code = (
        "import sys, callsim.core; "
        "heavy = ('numpy', 'scipy', 'simpy', 'pydantic', 'yaml', 'typer', 'rich', 'matplotlib'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_inherit_the_builtin_they_refine() -> None:
    from callsim.errors import InvalidEventError, UnknownCallError

    assert issubclass(callsim.InputError, ValueError)
    assert issubclass(callsim.ScenarioError, callsim.InputError)
    assert issubclass(UnknownCallError, KeyError)
    assert issubclass(InvalidEventError, ValueError)
    assert str(UnknownCallError("call 'x' is not in progress")) == "call 'x' is not in progress"


def test_written_inits_match_the_fields() -> None:
    """Events and commands made per call write their __init__ out (native when compiled);
    each must take exactly its fields, in order, with the fields' defaults."""
    import dataclasses
    import inspect

    from callsim.core import command, event

    written = 0
    for module in (event, command):
        for cls in vars(module).values():
            if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
                continue
            if cls.__module__ != module.__name__ or cls.__dataclass_params__.init:
                continue  # dataclass generated the __init__
            params = list(inspect.signature(cls.__init__).parameters.values())[1:]
            fields = dataclasses.fields(cls)
            assert [p.name for p in params] == [f.name for f in fields], cls
            for p, f in zip(params, fields, strict=True):
                expected = (
                    inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
                )
                assert p.default == expected, (cls, f.name)
            args = [p.default if p.default is not p.empty else object() for p in params]
            made = cls(*args)
            assert [getattr(made, f.name) for f in fields] == args, cls
            written += 1
    assert written == 13
