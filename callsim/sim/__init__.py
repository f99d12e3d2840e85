"""The SimPy simulator that drives the ACD core: ``simulate(scenario)``."""

from callsim.analytics.metrics import METRICS
from callsim.sim.run import DEFAULT_REPLICATIONS, SimulationResult, simulate

__all__ = ["DEFAULT_REPLICATIONS", "METRICS", "SimulationResult", "simulate"]
