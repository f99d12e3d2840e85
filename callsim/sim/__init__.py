"""The SimPy simulator that drives the ACD core: ``simulate(scenario)``."""

from callsim.sim.run import DEFAULT_REPLICATIONS, SimulationResult, simulate
from callsim.sim.stats import METRICS

__all__ = ["DEFAULT_REPLICATIONS", "METRICS", "SimulationResult", "simulate"]
