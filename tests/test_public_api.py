"""The public surface is pinned: changing it is a deliberate act."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    each must take exactly its fields, in order, with the fields' defaults. Read from the
    source: a compiled __init__ has no inspectable signature."""
    import ast
    import dataclasses
    from pathlib import Path

    from callsim.core import command, event

    written = 0
    for module in (event, command):
        source = Path(callsim.__file__).parent / "core" / f"{module.__name__.rsplit('.')[-1]}.py"
        for node in ast.parse(source.read_text()).body:
            if not isinstance(node, ast.ClassDef) or "init=False" not in ast.unparse(node):
                continue
            fields = [s for s in node.body if isinstance(s, ast.AnnAssign)]
            (init,) = [s for s in node.body if isinstance(s, ast.FunctionDef)]
            params = init.args.args[1:]
            assert [p.arg for p in params] == [ast.unparse(f.target) for f in fields], node.name
            defaults = [None] * (len(params) - len(init.args.defaults)) + init.args.defaults
            assert [d and ast.unparse(d) for d in defaults] == [
                f.value and ast.unparse(f.value) for f in fields
            ], node.name
            body = [ast.unparse(s) for s in init.body]
            assert body == [f"self.{p.arg} = {p.arg}" for p in params], node.name
            cls = getattr(module, node.name)
            assert [f.name for f in dataclasses.fields(cls)] == [p.arg for p in params]
            written += 1
    assert written == 13


def test_core_runs_as_the_build_ci_expects() -> None:
    """CI runs the suite twice: on the pure-Python core and on the compiled one
    (CALLSIM_EXPECT_CORE says which), so a build that silently fell back fails here."""
    import os

    expected = os.environ.get("CALLSIM_EXPECT_CORE")
    if expected is None:
        pytest.skip("CALLSIM_EXPECT_CORE is set by .ci/run")
    assert callsim.core_compiled() == (expected == "compiled")


def test_stale_compiled_modules_are_named(tmp_path: Path) -> None:
    import os
    from importlib.machinery import EXTENSION_SUFFIXES

    from callsim import _stale_builds

    (tmp_path / "pyproject.toml").write_text("")
    core = tmp_path / "pkg" / "core"
    core.mkdir(parents=True)
    for name in ("acd", "pool"):
        (core / f"{name}.py").write_text("")
        (core / f"{name}{EXTENSION_SUFFIXES[0]}").write_text("")
    os.utime(core / "acd.py", (1e9, 1e9))
    os.utime(core / f"acd{EXTENSION_SUFFIXES[0]}", (1e9, 1e9))
    os.utime(core / "pool.py", (2e9, 2e9))  # edited after its build
    os.utime(core / f"pool{EXTENSION_SUFFIXES[0]}", (1e9, 1e9))
    assert _stale_builds(tmp_path / "pkg") == ["pkg/core/pool.py"]
    (tmp_path / "pyproject.toml").unlink()  # not a source checkout: an installed wheel
    assert _stale_builds(tmp_path / "pkg") == []
