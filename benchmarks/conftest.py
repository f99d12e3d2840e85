"""Benchmarks run two ways. Timed, on request (``pytest benchmarks --benchmark-only
--benchmark-enable``): pytest-benchmark's rounds and statistics, speed floors asserted.
Once each in the normal test run (pyproject sets ``--benchmark-disable``), so that none
rots: the same code once, timed by a plain clock, with the floors not asserted (one run
on a busy CI machine is no measurement). ``best_s`` is the best round's seconds either
way; ``timed`` says whether this is a timed run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


class _Once:
    """pytest-benchmark's disabled fixture, keeping the wall time of its one run."""

    __slots__ = ("_inner", "seconds")

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "seconds", 0.0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)  # group, extra_info: the real fixture's

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._once(fn, args, kwargs)

    def pedantic(
        self, target: Callable[..., Any], args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None, **_: Any,
    ) -> Any:  # fmt: skip
        return self._once(target, args, kwargs or {})

    def _once(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        object.__setattr__(self, "seconds", time.perf_counter() - start)
        return out


@pytest.fixture
def benchmark(benchmark: Any) -> Any:
    """pytest-benchmark's fixture; when disabled, wrapped to keep the one run's time."""
    return _Once(benchmark) if benchmark.disabled else benchmark


def best_s(benchmark: Any) -> float:
    """The best round's seconds (the one run's, untimed)."""
    return float(benchmark.seconds if isinstance(benchmark, _Once) else benchmark.stats.stats.min)


def timed(benchmark: Any) -> bool:
    """A timed run: speed floors are asserted."""
    return not isinstance(benchmark, _Once)
