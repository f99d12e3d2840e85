"""IVR menus: a tree of prompts whose keypad options lead to a queue, self-service (the
call ends deflected), voicemail, a recorded message, or a submenu.

``IvrSession`` walks the tree one key press at a time; a wrong key repeats the prompt,
and after ``max_retries`` wrong keys the menu's ``default`` option applies.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from callsim.errors import ConfigError


class Exit(enum.Enum):
    QUEUE = "queue"
    DEFLECTED = "deflected"  # self-service: the call ends without an agent
    VOICEMAIL = "voicemail"
    MESSAGE = "message"
    SUBMENU = "submenu"


@dataclass(frozen=True, slots=True)
class Option:
    exit: Exit
    queue: str | None = None  # QUEUE
    message: str = ""  # MESSAGE / DEFLECTED: what is played
    submenu: Menu | None = None  # SUBMENU
    probability: float = 0.0  # share of callers choosing it (simulation)

    def __post_init__(self) -> None:
        if self.exit is Exit.QUEUE and not self.queue:
            raise ConfigError("IVR option to a queue needs the queue name")
        if self.exit is Exit.SUBMENU and self.submenu is None:
            raise ConfigError("IVR submenu option needs the submenu")


@dataclass(frozen=True, slots=True)
class Menu:
    prompt: str
    options: Mapping[str, Option]  # keypad digit -> option
    default: Option | None = None  # after too many wrong keys
    max_retries: int = 2

    def __post_init__(self) -> None:
        bad = [k for k in self.options if k not in "0123456789*#" or len(k) != 1]
        if bad:
            raise ConfigError(f"IVR menu {self.prompt!r}: {bad[0]!r} is not a keypad key")


@dataclass(frozen=True, slots=True)
class Step:
    """What the caller hears next, or where the call goes (``done``)."""

    prompt: str
    option: Option | None
    done: bool


@dataclass(slots=True)
class IvrSession:
    menu: Menu
    path: list[str] = field(default_factory=list)
    wrong: int = 0

    def start(self) -> Step:
        return Step(self.menu.prompt, None, done=False)

    def press(self, key: str) -> Step:
        option = self.menu.options.get(key)
        if option is None:
            self.wrong += 1
            if self.wrong > self.menu.max_retries and self.menu.default is not None:
                return self._take(self.menu.default)
            return Step(f"Sorry, that is not an option. {self.menu.prompt}", None, done=False)
        self.path.append(key)
        return self._take(option)

    def _take(self, option: Option) -> Step:
        if option.exit is Exit.SUBMENU:
            assert option.submenu is not None
            self.menu = option.submenu
            self.wrong = 0
            return Step(self.menu.prompt, None, done=False)
        return Step(option.message, option, done=True)
