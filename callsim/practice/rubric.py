"""A rubric file: weights, compliance items and pass marks over the defaults, per client.

The defaults (``callsim.core.practice.CRITERIA``, pass mark 0.8) grade what each card's
expected handling, computed by the core's rules, asks for. A YAML file changes them::

    pass_mark: 0.75
    criteria:
      treatment: {weight: 4}
      vip: {weight: 0}              # not graded
      greeting: {compliance: true}  # fails the call whatever the score
    clients:
      Nord Plumbing:
        pass_mark: 0.9
"""

from __future__ import annotations

from pathlib import Path

from callsim.core.practice import Rubric, rubric_from
from callsim.scenario.load import yaml_fields


def load_rubric(path: Path) -> Rubric:
    """The rubric of a YAML file; every problem one line naming the file and the key."""
    return rubric_from(yaml_fields(path, "rubric"), f"{path}: ")
