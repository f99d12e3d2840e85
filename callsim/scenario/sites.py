"""Several sites: each queue is served at every site, its calls are shared among the
sites, and a call waits at its own site before agents of the others may take it.

A scenario with ``sites`` is rewritten into one without, using what the core already
routes by: each queue ``Q`` becomes ``Q@site`` per site, needing ``Q``'s skills plus the
site's skill ``@site`` (which the site's agents are given); each ``Q@site`` overflows to
the other sites' ``Q@...`` after ``routing.site_delay_s`` (keeping its place at its own
site); each call stream is split among the sites by their shares. The results then come
per queue and site, and the overflow table shows the calls the other sites took.
"""

from __future__ import annotations

import re
from typing import Any


def site_queue(queue: str, site: str) -> str:
    return f"{queue}@{site}"


def written_path(path: str, n_sites: int) -> str:
    """A field path of the rewrite (``queues[j]...``, ``calls[k]...``) as written: each
    queue and call stream became ``n_sites`` in a row."""
    found = re.match(r"(queues|calls)\[(\d+)\]", path)
    if found is None:
        return path
    return f"{found[1]}[{int(found[2]) // n_sites}]{path[found.end() :]}"


def expand(data: dict[str, Any]) -> dict[str, Any]:
    """The scenario (as its ``model_dump``) rewritten without ``sites``."""
    sites = data.pop("sites")
    names = [s["name"] for s in sites]
    delay = data["routing"].pop("site_delay_s")
    out = {**data, "sites": []}

    def moved(action: Any, site: str) -> Any:
        if isinstance(action, dict) and "queue" in action:
            return {**action, "queue": site_queue(action["queue"], site)}
        return action

    queues = []
    for q in data["queues"]:
        for site in names:
            others = [site_queue(q["name"], o) for o in names if o != site]
            queues.append({
                **q,
                "name": site_queue(q["name"], site),
                "skills": [*q["skills"], f"@{site}"],
                "overflow": {"after_s": delay, "to": others} if others else None,
                **{k: moved(q[k], site) for k in ("on_max_wait", "on_empty", "on_full")},
            })  # fmt: skip
    out["queues"] = queues
    calls = []
    for c in data["calls"]:
        for s in sites:
            a = c["arrivals"]
            arrivals = {
                **a,
                "per_hour": None if a["per_hour"] is None else a["per_hour"] * s["share"],
                "profile": None
                if a["profile"] is None
                else [{**p, "per_hour": p["per_hour"] * s["share"]} for p in a["profile"]],
            }
            calls.append({**c, "queue": site_queue(c["queue"], s["name"]), "arrivals": arrivals,
                          "transfer": moved(c["transfer"], s["name"])})  # fmt: skip
    out["calls"] = calls
    agents = []
    for g in data["agents"]:
        at = [g["site"]] if g["site"] is not None else names  # no site: serves them all
        skills = g["skills"]
        levels = dict.fromkeys(skills, 1) if isinstance(skills, list) else dict(skills)
        agents.append({**g, "site": None, "skills": {**levels, **{f"@{x}": 1 for x in at}}})
    out["agents"] = agents
    costs = data.get("costs")
    if costs and costs["revenue_per_answered_by_queue"]:
        by_queue = costs["revenue_per_answered_by_queue"]
        out["costs"] = {**costs, "revenue_per_answered_by_queue": {
            site_queue(q, x): v for q, v in by_queue.items() for x in names}}  # fmt: skip
    return out
