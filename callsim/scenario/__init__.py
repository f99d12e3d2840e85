"""The validated scenario contract: pydantic models (the schema) and the YAML loader."""

from callsim.scenario.load import load_scenario, scenario_hash
from callsim.scenario.model import Scenario

__all__ = ["Scenario", "load_scenario", "scenario_hash"]
