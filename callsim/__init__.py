"""callsim: inbound call-centre simulator, Erlang analytics and load-testing toolkit.

The public set is re-exported here lazily (PEP 562), so ``import callsim.core`` stays
free of numpy and scipy. ``tests/test_public_api.py`` pins it.
"""

from __future__ import annotations

import importlib
import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

try:
    __version__ = version("callsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

_EXPORTS = {
    # the ACD core
    "Acd": "callsim.core",
    "AcdConfig": "callsim.core",
    "AgentConfig": "callsim.core",
    "QueueConfig": "callsim.core",
    "RoutingConfig": "callsim.core",
    "Action": "callsim.core",
    "ActionKind": "callsim.core",
    "CallRecord": "callsim.core",
    "Outcome": "callsim.core",
    "STRATEGIES": "callsim.core",
    "queue_log_lines": "callsim.core",
    # analytics
    "erlang_a": "callsim.analytics.erlang",
    "erlang_b": "callsim.analytics.erlang",
    "erlang_c": "callsim.analytics.erlang",
    "required_agents": "callsim.analytics.staffing",
    "Target": "callsim.analytics.staffing",
    "load_forecast": "callsim.analytics.forecast",
    "plan_day": "callsim.analytics.forecast",
    # errors
    "CallsimError": "callsim.errors",
    "InputError": "callsim.errors",
    "ScenarioError": "callsim.errors",
    "ConfigError": "callsim.errors",
    "RoutingError": "callsim.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]  # noqa: PLE0604 (names resolved lazily below)


def core_compiled() -> bool:
    """True when the ACD core runs as mypyc-compiled code (setup.py builds it where a C
    compiler is present), False when it runs from its Python source."""
    from callsim.core import acd

    return not acd.__file__.endswith(".py")


def _stale_builds(package: Path) -> list[str]:
    """In a source checkout, an editable install builds the compiled modules in place,
    and they are imported instead of their .py files: name the .py files edited since."""
    if not (package.parent / "pyproject.toml").is_file():
        return []  # installed from a wheel: built once from the source beside it
    stale = []
    for suffix in EXTENSION_SUFFIXES:
        for built in package.rglob(f"*{suffix}"):
            source = built.with_name(built.name.removesuffix(suffix) + ".py")
            if source.is_file() and source.stat().st_mtime > built.stat().st_mtime:
                stale.append(str(source.relative_to(package.parent)))
    return sorted(stale)


if _stale := _stale_builds(Path(__file__).resolve().parent):
    warnings.warn(
        f"compiled modules are older than their source ({', '.join(_stale)}) and run "
        "instead of it: rebuild with 'pip install -e .', or delete them with "
        "\"find callsim -name '*.so' -delete\"",
        RuntimeWarning,
        stacklevel=2,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'callsim' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
