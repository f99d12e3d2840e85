"""The live service's wall-clock shell: the same core as the simulator, in real time."""

from callsim.live.driver import LiveCentre

__all__ = ["LiveCentre"]
