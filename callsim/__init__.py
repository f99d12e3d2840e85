"""callsim: inbound call-centre simulator, Erlang analytics and load-testing toolkit."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("callsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
