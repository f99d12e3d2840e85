"""Benchmarks run two ways. Timed, on request (``pytest benchmarks --benchmark-only
--benchmark-enable``): pytest-benchmark's rounds and statistics, speed floors asserted.
Once each in the normal test run (pyproject sets ``--benchmark-disable``), so that none
rots: the same code once, timed by a plain clock, with the floors not asserted (one run
on a busy CI machine is no measurement). ``best_s`` is the best round's seconds either
way; ``timed`` says whether this is a timed run."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture


class _Once(BenchmarkFixture):  # type: ignore[misc]
    """The disabled fixture (it runs the function once), keeping that run's wall time."""

    seconds = 0.0

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return super().__call__(self._timed(fn, args, kwargs))

    def pedantic(
        self, target: Callable[..., Any], args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None, **_: Any,
    ) -> Any:  # fmt: skip
        return super().__call__(self._timed(target, args, kwargs or {}))

    def _timed(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Callable[[], Any]:
        def run() -> Any:
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            self.seconds = time.perf_counter() - start
            return out

        return run


@pytest.fixture
def benchmark(benchmark: BenchmarkFixture) -> BenchmarkFixture:
    """pytest-benchmark's fixture; when disabled, one that keeps the one run's time."""
    if benchmark.disabled:
        benchmark.__class__ = _Once
    return benchmark


def best_s(benchmark: Any) -> float:
    """The best round's seconds (the one run's, untimed)."""
    return float(benchmark.seconds if isinstance(benchmark, _Once) else benchmark.stats.stats.min)


def timed(benchmark: Any) -> bool:
    """A timed run: speed floors are asserted."""
    return not isinstance(benchmark, _Once)


ROOT = Path(__file__).resolve().parent.parent


def process(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB, 0 if unknown) of one whole process,
    measured by GNU time (a child forked from this large test process would count this
    process's memory until its exec)."""
    timer = shutil.which("time") or ""
    with tempfile.NamedTemporaryFile("r") as peak:
        prefix = [timer, "-f", "%M", "-o", peak.name] if timer.startswith("/usr") else []
        start = time.perf_counter()
        done = subprocess.run([*prefix, *args], cwd=ROOT, capture_output=True, check=False)
        wall = time.perf_counter() - start
        assert done.returncode == 0, done.stderr.decode()
        text = peak.read().strip().splitlines()
    return wall, int(text[-1]) if text and text[-1].isdigit() else 0
