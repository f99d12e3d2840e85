"""The callsim error tree. Every error a user can cause derives from ``CallsimError``.

::

    CallsimError                            http_status
    ├── InputError(ValueError)              422  bad input: a parameter, file, row or field
    │   ├── KeyReusedError                  409  an Idempotency-Key used for another request
    │   ├── ScenarioError                   422  a scenario file that does not validate
    │   └── ConfigError                     422  a configuration that contradicts itself
    ├── PolicyError(ValueError)             422  a handling rule refuses an action
    │   └── InvalidTransitionError          409  a ticket status change that is not allowed
    ├── NotFoundError(KeyError)             404  a name or id that nothing answers to
    │   ├── UnknownCallError                     (also a RoutingError)
    │   ├── UnknownAgentError                    (also a RoutingError)
    │   ├── UnknownQueueError
    │   ├── UnknownClientError                   a dialled number that belongs to no client
    │   ├── UnknownContactError
    │   ├── UnknownEmployeeError
    │   └── UnknownTicketError
    ├── RoutingError                        409  an event the ACD core cannot accept now
    │   └── InvalidEventError(ValueError)   409
    └── UnavailableError                    503  the database is out: the request had no
                                                 effect (or waits, kept, under its key)

Messages say where, what was received and what was expected, in one line. Library errors
name the parameter or field (``field``), never a command-line flag: the CLI renders flags,
the API maps ``http_status`` in one table. This module imports nothing from callsim.
"""

from __future__ import annotations


class CallsimError(Exception):
    """Base of every error callsim raises on purpose.

    ``field`` names the parameter or scenario field at fault when there is one; the
    message then starts with it (``"replications: 0 is not >= 1"``)."""

    http_status = 500

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message  # the message without the field

    def __str__(self) -> str:
        # KeyError quotes its message; keep one readable line for all subclasses.
        return str(self.args[0]) if self.args and self.args[0] else self.__class__.__name__


class InputError(CallsimError, ValueError):
    """Bad input from a person (a parameter, a file, a CSV row). The CLI exits 2."""

    http_status = 422


class KeyReusedError(InputError):
    """An Idempotency-Key given before for another request: a conflict (409), not a
    malformed request."""

    http_status = 409


class ScenarioError(InputError):
    """A scenario file that does not validate. ``problems``: one line each (the message
    is them joined by newlines)."""

    problems: tuple[str, ...] = ()


class ConfigError(InputError):
    """A configuration that contradicts itself (unknown queue in an overflow, ...)."""


def utf8_text(
    raw: bytes, where: str, error: type[InputError] = InputError, field: str | None = None
) -> str:
    """The text of a user's file (a byte-order mark dropped, as Excel's "CSV UTF-8"
    writes it), or ``error`` naming ``field`` (the parameter that gave the file), ``where``
    (the file), the line and the byte that is not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{where}: line {line}: byte {raw[exc.start]:#04x} is not UTF-8 text "
            "(save the file as UTF-8)",
            field=field,
        ) from None


class PolicyError(CallsimError, ValueError):
    """A client's handling rule refuses an action, e.g. a callback to the client itself."""

    http_status = 422


class InvalidTransitionError(PolicyError):
    """A ticket status change that the ticket's life cycle does not allow."""

    http_status = 409


class NotFoundError(CallsimError, KeyError):
    """A name or id that nothing answers to: a call, agent, client, contact or ticket."""

    http_status = 404


class RoutingError(CallsimError):
    """An event the ACD core cannot accept in its current state."""

    http_status = 409


class UnknownCallError(NotFoundError, RoutingError):
    """An event names a call the ACD does not know."""

    http_status = 404


class UnknownAgentError(NotFoundError, RoutingError):
    """An event names an agent the ACD does not know."""

    http_status = 404


class UnknownQueueError(NotFoundError):
    """A queue name that the configuration does not hold."""


class UnknownClientError(NotFoundError):
    """A dialled number that belongs to no client."""


class UnknownContactError(NotFoundError):
    """A contact id that the contact book does not hold."""


class UnknownEmployeeError(NotFoundError):
    """An employee name that the client's list does not hold."""


class UnknownTicketError(NotFoundError):
    """A ticket id that the ticket book does not hold."""


class InvalidEventError(RoutingError, ValueError):
    """An event that is not valid now, e.g. an answer from an agent never offered the call."""


class UnavailableError(CallsimError):
    """The database cannot be reached: the request had no effect (a change made just as
    it went is kept and stored when it is back; a retry with its Idempotency-Key then
    returns the first answer)."""

    http_status = 503
