"""The callsim error tree. Every error a user can cause derives from ``CallsimError``.

::

    CallsimError
    ├── InputError(ValueError)         bad input from a person: flag, file, row or field
    │   └── ScenarioError              a scenario file that does not validate
    ├── ConfigError(ValueError)        an ACD configuration that contradicts itself
    ├── PolicyError(ValueError)        a handling rule refuses an action (callback guard, ...)
    │   └── InvalidTransitionError     a ticket status change that is not allowed
    └── RoutingError                   an event the ACD core cannot accept in its state
        ├── UnknownCallError(KeyError)
        ├── UnknownAgentError(KeyError)
        └── InvalidEventError(ValueError)

Messages say where, what was received and what was expected, in one line.
This module imports nothing from callsim.
"""

from __future__ import annotations


class CallsimError(Exception):
    """Base of every error callsim raises on purpose."""

    def __str__(self) -> str:
        # KeyError quotes its message; keep one readable line for all subclasses.
        return str(self.args[0]) if self.args else self.__class__.__name__


class InputError(CallsimError, ValueError):
    """Bad input from a person (a flag, a file, a CSV row). The CLI exits 2."""


class ScenarioError(InputError):
    """A scenario file that does not validate."""


class ConfigError(CallsimError, ValueError):
    """An ACD configuration that contradicts itself (unknown queue in an overflow, ...)."""


class PolicyError(CallsimError, ValueError):
    """A client's handling rule refuses an action, e.g. a callback to the client itself."""


class InvalidTransitionError(PolicyError):
    """A ticket status change that the ticket's life cycle does not allow."""


class RoutingError(CallsimError):
    """An event the ACD core cannot accept in its current state."""


class UnknownCallError(RoutingError, KeyError):
    """An event names a call the ACD does not know."""


class UnknownAgentError(RoutingError, KeyError):
    """An event names an agent the ACD does not know."""


class InvalidEventError(RoutingError, ValueError):
    """An event that is not valid now, e.g. an answer from an agent that is not ringing."""
