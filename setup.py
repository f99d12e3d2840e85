"""Build hook: compile the ACD core and the simulator's engine with mypyc.

The compiled modules are the same source, type-checked and turned into C: a simulated
call costs about half as much (docs/simulator.md). Metadata lives in pyproject.toml;
this file only adds the extensions. Without a C compiler the extensions are skipped
(they are optional) and callsim installs as pure Python, which behaves identically.
``CALLSIM_COMPILE=0 pip install ...`` skips compiling on purpose.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).parent
# the whole core (stdlib only) and the engine that drives it per simulated call
COMPILED = [
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "callsim" / "core").glob("*.py")
            if p.name != "__init__.py"),
    "callsim/sim/engine.py",
]  # fmt: skip


def extensions() -> list[object]:
    if os.environ.get("CALLSIM_COMPILE", "1") == "0":
        return []
    from mypyc.build import mypycify

    # The build environment has mypy but not numpy, simpy or pydantic: their types are
    # Any here (the full strict check runs in CI); errors outside COMPILED are silent.
    exts = mypycify(
        ["--ignore-missing-imports", "--follow-imports=silent", *COMPILED],
        group_name="callsim_native",
    )
    for ext in exts:
        ext.optional = True  # no C compiler: install the pure-Python modules
    return list(exts)


setup(ext_modules=extensions())
