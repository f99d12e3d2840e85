"""The live service's HTTP API (FastAPI on uvicorn): ``create_app``, ``serve``."""

from callsim.api.app import create_app, serve

__all__ = ["create_app", "serve"]
