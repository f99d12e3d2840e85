"""callsim: inbound call-centre simulator, Erlang analytics and load-testing toolkit.

The public set is re-exported here lazily (PEP 562), so ``import callsim.core`` stays
free of numpy and scipy. ``tests/test_public_api.py`` pins it.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'callsim' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
