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
