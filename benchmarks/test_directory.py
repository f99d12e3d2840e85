"""Employee-directory search for a client with 20,000 employees, against a linear scan
over all names measured in the same run."""

from __future__ import annotations

import random
import time

from benchmarks.conftest import best_s, timed
from callsim.core.client import Employee, EmployeeDirectory, fold

FIRST = [
    "Ola",
    "Kari",
    "Per",
    "Ingrid",
    "Lars",
    "Anne",
    "Jonas",
    "Sofie",
    "Erik",
    "Nora",
    "Åse",
    "Øyvind",
]
LAST = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Berg",
    "Haugen",
    "Dahl",
    "Lie",
    "Moen",
]
rng = random.Random(1)
PEOPLE = [
    Employee(
        f"{rng.choice(FIRST)} {rng.choice(LAST)}{i}", rng.choice(["sales", "service", "accounting"])
    )
    for i in range(20_000)
]
DIRECTORY = EmployeeDirectory(PEOPLE)
QUERIES = ["ola hansen12", "øyvind", "kari dahl19", "sales ingrid lie7", "service anne"]


def linear(text: str) -> list[Employee]:
    query = fold(text).split()
    found = []
    for e in PEOPLE:
        words = fold(f"{e.name} {e.department}").split()
        if all(any(w.startswith(q) for w in words) for q in query):
            found.append(e)
    return found[:20]


def test_directory_search_20000_employees(benchmark) -> None:
    benchmark.group = "employee directory, 20,000 employees"
    found = benchmark(lambda: [DIRECTORY.search(q) for q in QUERIES])
    assert all(found)
    start = time.perf_counter()
    for q in QUERIES:
        linear(q)
    scan = time.perf_counter() - start
    benchmark.extra_info["linear_scan_ms"] = round(scan * 1000, 1)
    benchmark.extra_info["speedup"] = round(scan / best_s(benchmark))
    if timed(benchmark):
        assert scan / best_s(benchmark) > 20
