"""The live service's HTTP API (FastAPI on uvicorn): ``create_app``, ``serve``.

The web stack loads when one of them is first used: ``callsim.api.roles`` and
``callsim.api.keys`` (the CLI's ``callsim keys``) import without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callsim.api.app import create_app, serve

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from callsim.api import app

        return getattr(app, name)
    raise AttributeError(f"module 'callsim.api' has no attribute {name!r}")
