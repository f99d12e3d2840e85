"""The live service's clock: scenario seconds (the driver's), their calendar time and date
in the centre's zone, and a probe of how late the event loop runs timers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import date, datetime, tzinfo

import numpy as np

from callsim.errors import InputError

LAG_PROBE_S = 0.05  # the event loop's timer lag is sampled this often
LAG_SAMPLES = 1200  # the last minute of samples


class Clock:
    """``now``: the centre's scenario seconds; ``epoch_unix``: their zero in Unix seconds;
    ``calendar``: the scenario time as the inbound flow's aware date and time."""

    def __init__(
        self,
        now: Callable[[], float],
        epoch_unix: float,
        zone: tzinfo,
        calendar: Callable[[float], datetime],
    ) -> None:
        self.now = now
        self.epoch_unix = epoch_unix
        self.zone = zone
        self._calendar = calendar

    def unix(self, at_s: float) -> float:
        """The calendar time (Unix seconds) of ``at_s`` on this run's scenario clock."""
        return self.epoch_unix + at_s

    def calendar(self) -> datetime:
        """Now, as the inbound flow's date and time (business hours, tickets)."""
        return self._calendar(self.now())

    def today(self) -> date:
        return datetime.fromtimestamp(self.unix(self.now()), self.zone).date()

    def day(self, day: str | None) -> date:
        """The centre's date ``day`` (YYYY-MM-DD), today if None."""
        if day is None:
            return self.today()
        try:
            return datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            raise InputError(f"{day!r} is not a date (YYYY-MM-DD)", field="date") from None


class LagProbe:
    """Samples how late the event loop runs a timer (what every core timer suffers)."""

    def __init__(self) -> None:
        self.lag_s: deque[float] = deque(maxlen=LAG_SAMPLES)
        self.stopped = False
        self._probe(asyncio.get_running_loop().time())

    def _probe(self, due: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.lag_s.append(max(now - due, 0.0))
        if not self.stopped:
            loop.call_at(now + LAG_PROBE_S, self._probe, now + LAG_PROBE_S)

    def timer_lag_ms(self) -> dict[str, float]:
        """The timer lag's p50, p99 and maximum over the last minute, milliseconds."""
        if not self.lag_s:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0}
        p50, p99 = np.percentile(np.array(self.lag_s), [50, 99])
        return {
            "p50": round(p50 * 1e3, 3),
            "p99": round(p99 * 1e3, 3),
            "max": round(max(self.lag_s) * 1e3, 3),
        }
