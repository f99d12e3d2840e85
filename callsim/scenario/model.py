"""The scenario file format: pydantic models that are the schema.

Every field has a description, a unit where it has one, and an example; unknown keys are
errors. ``callsim schema`` prints the JSON Schema generated from these models.
"""

from __future__ import annotations

import json
import string
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from callsim.core import STRATEGIES
from callsim.core.client import fold
from callsim.core.config import FINAL, Channel, first_duplicate, move_cycles

HHMM = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"  # 24:00 ends a day
# a name in any language with any punctuation, on one line
NAME = r"^[^\x00-\x1f\x7f]+$"
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=NAME)]
# a phone number as people write it: digits with spaces, + ( ) . / -
PHONE = r"^\+?[0-9 ().\/-]*[0-9][0-9 ().\/-]*$"
Phone = Annotated[str, Field(min_length=3, max_length=40, pattern=PHONE)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def minutes(hhmm: str) -> int:
    """Minutes after midnight of an "HH:MM" string (already validated; 24:00 is 1440)."""
    hh, mm = hhmm.split(":")
    return int(hh) * 60 + int(mm)


def hhmm(m: int) -> str:
    """Minutes after midnight as "HH:MM" (1440 is 24:00), as ``minutes`` reads it."""
    return f"{m // 60:02d}:{m % 60:02d}"


def span_min(start: str, end: str) -> int:
    """Minutes from ``start`` to ``end``; an end at or before the start is on the next day
    (22:00 to 06:00 is 480 minutes; 00:00 to 24:00, and 08:00 to 08:00, a whole day)."""
    return (minutes(end) - minutes(start)) % 1440 or 1440


# -- distributions ------------------------------------------------------------------------


class Exponential(Strict):
    """Exponential with the given mean (cv = 1): the Erlang models' assumption."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0, description="Mean, seconds.", examples=[240])


class Lognormal(Strict):
    """Lognormal with the given mean and coefficient of variation: real talk times."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0, description="Mean, seconds.", examples=[240])
    cv: float = Field(gt=0, description="Coefficient of variation (sd / mean).", examples=[0.8])


class Gamma(Strict):
    """Gamma with the given mean and coefficient of variation."""

    dist: Literal["gamma"]
    mean: float = Field(gt=0, description="Mean, seconds.", examples=[240])
    cv: float = Field(gt=0, description="Coefficient of variation (sd / mean).", examples=[0.8])


class Constant(Strict):
    """Always the same value."""

    dist: Literal["constant"]
    value: float = Field(ge=0, description="The value, seconds.", examples=[30])


class Uniform(Strict):
    """Uniform between low and high."""

    dist: Literal["uniform"]
    low: float = Field(ge=0, description="Lowest value, seconds.", examples=[10])
    high: float = Field(ge=0, description="Highest value, seconds.", examples=[50])

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low}")
        return self


class Empirical(Strict):
    """Resampled observed durations: inline ``values`` or a ``file`` (one number per line,
    or a CSV whose first column holds them; path relative to the scenario file)."""

    dist: Literal["empirical"]
    values: list[float] | None = Field(
        None, min_length=1, description="Observed durations, seconds.", examples=[[12.5, 40, 95]]
    )
    file: str | None = Field(
        None,
        description="File of observed durations, relative to the scenario.",
        examples=["talk_times.csv"],
    )

    @model_validator(mode="after")
    def _one_source(self) -> Empirical:
        if (self.values is None) == (self.file is None):
            raise ValueError("give exactly one of 'values' or 'file'")
        if self.values is not None and any(v < 0 for v in self.values):
            raise ValueError("values must be >= 0")
        return self


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Constant | Uniform | Empirical,
    Field(discriminator="dist"),
]


# -- the centre ---------------------------------------------------------------------------


def dist_mean(dist: Exponential | Lognormal | Gamma | Constant | Uniform | Empirical) -> float:
    """The distribution's mean (an empirical one's values' mean; 0 if it has none)."""
    if isinstance(dist, Constant):
        return dist.value
    if isinstance(dist, Uniform):
        return (dist.low + dist.high) / 2
    if isinstance(dist, Empirical):
        return sum(dist.values) / len(dist.values) if dist.values else 0.0
    return dist.mean


class Horizon(Strict):
    """The simulated time. Calls arriving from ``start`` on day 1 to ``end`` on the last of
    ``days`` days are counted, each in the interval it arrived in; an ``end`` at or before
    the ``start`` is on the next day (a night: 22:00 to 06:00; a whole day: 00:00 to
    24:00). The run starts ``warmup_min`` earlier (those calls fill the system and are
    not counted) and follows every counted call to its outcome, for at most 4 hours
    after the end (what is still open then ends ``interrupted``). Over several days the
    time runs on through the nights: arrival profiles and shifts repeat every day, and
    calls arrive in each day's ``start``-``end`` only (day 1's from the warm-up), unless
    that is a whole day or a profile has points with calls outside it. Day k is the k-th
    24 hours from ``start``, in the intervals and the days tables alike."""

    start: str = Field(pattern=HHMM, description="First counted minute, HH:MM.", examples=["08:00"])
    end: str = Field(
        pattern=HHMM,
        description="End of each day's arrivals, HH:MM (at or before start: the next day).",
        examples=["16:00"],
    )
    days: int = Field(
        1,
        ge=1,
        le=31,
        description="Days simulated in a row, each open from start to end.",
        examples=[7],
    )
    interval_min: int = Field(
        30, gt=0, le=1440, description="Reporting interval, minutes.", examples=[30]
    )
    warmup_min: int = Field(
        0, ge=0, le=1440, description="Warm-up before start, minutes.", examples=[60]
    )

    def length_min(self) -> int:
        """Minutes from the first counted minute to the end of arrivals."""
        return (self.days - 1) * 1440 + span_min(self.start, self.end)

    @model_validator(mode="after")
    def _whole_intervals(self) -> Horizon:
        if self.start == "24:00":
            raise ValueError("start 24:00 is the next day's 00:00: write 00:00")
        if self.length_min() % self.interval_min:
            raise ValueError(
                f"the horizon {self.start}-{self.end} is not a whole number of "
                f"{self.interval_min}-minute intervals"
            )
        return self


class ServiceLevel(Strict):
    """Service level = calls answered within ``sl_threshold_s`` / calls offered."""

    sl_threshold_s: float = Field(
        20, ge=0, description="Answer-time threshold, seconds.", examples=[20]
    )
    sl_target: float = Field(
        0.8, gt=0, lt=1, description="Target service level, fraction.", examples=[0.8]
    )
    short_abandon_s: float = Field(
        0,
        ge=0,
        description="Abandons within this many seconds are not counted as offered.",
        examples=[5],
    )


class Routing(Strict):
    """Centre-wide routing and agent answering behaviour."""

    strategy: str = Field(
        "longest_idle", description="Routing strategy name.", examples=["fewest_skills_first"]
    )
    ring_timeout_s: float = Field(
        15, gt=0, description="Ring time per offer, seconds.", examples=[15]
    )
    max_no_answer: int = Field(
        3,
        ge=0,
        description="Consecutive missed offers before an agent is paused (0 = never).",
        examples=[3],
    )
    no_answer_pause_s: float = Field(
        60,
        gt=0,
        description="How long the pause after missed offers lasts, seconds.",
        examples=[60],
    )
    on_hunt_exhausted: Literal["requeue", "voicemail", "note"] = Field(
        "requeue", description="What happens when no untried agent is left after a miss."
    )
    use_proficiency: bool = Field(False, description="Rank agents by skill proficiency first.")
    site_delay_s: float | None = Field(
        None,
        ge=0,
        le=86_400,
        description="With sites: how long a call waits for its own site's agents before "
        "another site's may take it, seconds (0 = at once; it keeps its place).",
        examples=[30],
    )
    lines: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="The centre's lines (trunks): calls waiting, ringing or talking at "
        "once; a caller arriving when all are taken hears busy (outcome busy). none = no "
        "limit.",
        examples=[60],
    )
    answer_probability: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Chance that an agent answers a ring (else it rings out).",
        examples=[0.95],
    )
    answer_delay_s: Distribution | None = Field(
        None,
        description="Time an agent takes to pick up a ring; none = at once.",
        examples=[{"dist": "uniform", "low": 1, "high": 6}],
    )
    handover_s: Distribution | None = Field(
        None,
        description="Time the ACD takes to hand a call that waited to the agent who "
        "freed up, seconds, instead of answer_delay_s (a call answered on arrival is "
        "not delayed); none = at once.",
        examples=[{"dist": "uniform", "low": 2, "high": 4}],
    )

    @field_validator("strategy")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(f"unknown strategy {v!r} (known: {', '.join(sorted(STRATEGIES))})")
        return v


class ToQueue(Strict):
    """Move the call to another queue."""

    queue: str = Field(description="Target queue name.", examples=["backup"])


Fallback = Literal["voicemail", "note", "close"] | ToQueue


class Overflow(Strict):
    """After waiting ``after_s`` the call is also offered to the agents of ``to``."""

    after_s: float = Field(ge=0, description="Wait before overflow, seconds.", examples=[60])
    to: list[str] = Field(
        min_length=1, description="Queues whose agents may also take it.", examples=[["support"]]
    )


class Queue(Strict):
    """A queue; its calls need every skill in ``skills``."""

    name: Name = Field(description="Queue name.", examples=["support"])
    skills: list[str] = Field(
        min_length=1,
        description="Skills a call here needs (all of them).",
        examples=[["support", "en"]],
    )
    strategy: str | None = Field(
        None, description="Routing strategy for this queue only.", examples=["ring_all"]
    )
    priority: int = Field(
        0, ge=0, le=100, description="Caller priority (higher first).", examples=[1]
    )
    aging_per_s: float = Field(
        0,
        ge=0,
        le=100,
        description="Waiting-time aging: a waiting call's priority grows by this much per "
        "second waited (score = priority + aging_per_s x seconds), so long waiters of a "
        "low-priority queue are not starved; 0 = fixed priority.",
        examples=[0.05],
    )
    max_wait_s: float | None = Field(
        None, gt=0, description="Longest wait, seconds; none = no limit.", examples=[300]
    )
    on_max_wait: Fallback = Field(
        "voicemail",
        description="After max_wait_s: voicemail, note, close or {queue: X} (moves that "
        "loop back to this queue are refused).",
    )
    overflow: Overflow | None = Field(
        None, description="Offer to other queues' agents after a wait."
    )
    join_empty: bool = Field(
        True, description="Calls may join while no qualified agent is logged in."
    )
    leave_when_empty: bool = Field(
        False, description="Waiting calls leave when the last qualified agent logs out."
    )
    on_empty: Fallback = Field(
        "close",
        description="What happens to callers turned away by the two flags above: voicemail, "
        "note, close or {queue: X} (moves that loop back to this queue are refused).",
    )
    max_waiting: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Positions in the queue: a caller who would wait while all are taken "
        "gets on_full; 0 = no waiting at all (a loss system, Erlang B); none = no limit.",
        examples=[10],
    )
    on_full: Literal["busy", "voicemail", "note"] | ToQueue = Field(
        "busy",
        description="When every position is taken: busy, voicemail, note or {queue: X} "
        "(moves that loop back to this queue are refused).",
    )
    announce_every_s: float | None = Field(
        None,
        gt=0,
        le=86_400,
        description="Announce the position and expected wait to waiting callers this often, "
        "seconds (also on joining); none = on joining only.",
        examples=[60],
    )
    callback_above_s: float | None = Field(
        None,
        ge=0,
        le=86_400,
        description="Offer waiting callers a callback (virtual hold: they hang up and keep "
        "their place) when the announced expected wait is above this, seconds; none = never.",
        examples=[120],
    )
    # the core's enum as a plain string enum: compiled by mypyc, its docstring (pydantic's
    # description of an enum) would differ between the pure and the compiled build
    channel: Annotated[
        Channel, WithJsonSchema({"type": "string", "enum": [c.value for c in Channel]})
    ] = Field(
        Channel.VOICE,
        description="voice (calls: they ring, an agent takes one at a time), chat (pushed "
        "to an agent, who holds up to its group's `chats` at once and, while it holds any, "
        "takes no call and no email; no wrap-up) or email (e-mails and back-office items: "
        "deferrable work, taken only when no call or chat the agent could take waits; "
        "no patience).",
        examples=["chat"],
    )
    slowdown: float = Field(
        0.0,
        ge=0,
        le=10,
        description="Chat queues: each chat's handle time is its talk_s draw x (1 + "
        "slowdown x (held - 1)), held = the chats its agent holds when it starts, itself "
        "included; fixed at the start. 0 = no slowdown.",
        examples=[0.25],
    )
    due_h: float | None = Field(
        None,
        gt=0,
        le=24 * 14,
        description="Email queues: an item is due this many hours after it arrives "
        "(results: the share answered within it); none = 24 hours.",
        examples=[4],
    )

    @field_validator("strategy")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in STRATEGIES:
            raise ValueError(f"unknown strategy {v!r} (known: {', '.join(sorted(STRATEGIES))})")
        return v


class ProfilePoint(Strict):
    at: str = Field(pattern=HHMM, description="From this time on, HH:MM.", examples=["08:00"])
    per_hour: float = Field(ge=0, description="Arrival rate, calls per hour.", examples=[300])


class DayToDay(Strict):
    """Day-to-day volume uncertainty: each simulated day, the stream's rates are
    multiplied by a draw of mean 1 and standard deviation ``cv``: gamma, or normal cut at
    0 as A. Herzog's simulator does (the normal whose cut draws keep that mean and sd; a
    negative draw is a day without calls)."""

    dist: Literal["gamma", "normal"] = Field(
        "gamma", description="gamma (never negative) or normal (cut at 0, mean kept 1)."
    )
    cv: float = Field(
        gt=0, le=2, description="Coefficient of variation of the daily volume.", examples=[0.1]
    )


class Arrivals(Strict):
    """Poisson arrivals: a constant ``per_hour`` or a piecewise-constant ``profile``."""

    per_hour: float | None = Field(
        None, ge=0, description="Constant arrival rate, calls per hour.", examples=[6000]
    )
    profile: list[ProfilePoint] | None = Field(
        None,
        min_length=1,
        description="Rate from each `at` until the next (the first also before it, from "
        "00:00; the last until 24:00). Over several days, points with calls outside the "
        "horizon's start-end open the nights.",
    )
    day_to_day: DayToDay | None = Field(
        None, description="Forecast error: a random multiplier of each day's volume."
    )

    @model_validator(mode="after")
    def _one(self) -> Arrivals:
        if (self.per_hour is None) == (self.profile is None):
            raise ValueError("give exactly one of 'per_hour' or 'profile'")
        if self.profile is not None:
            times = [minutes(p.at) for p in self.profile]
            if times != sorted(set(times)):
                raise ValueError("profile times must be increasing")
        return self


class Retrial(Strict):
    """Abandoned callers (and those who balked) call back with ``probability`` after
    ``delay_s``, callers who heard busy with ``busy_probability``, at most
    ``max_attempts`` times each; a retrial that would come after the horizon's end finds
    the centre closed (counted as lost to closing, not simulated)."""

    probability: float = Field(
        ge=0,
        le=1,
        description="Chance an abandoned caller calls again (a retrial).",
        examples=[0.3],
    )
    delay_s: Distribution = Field(
        description="Time until the retrial, seconds.",
        examples=[{"dist": "exponential", "mean": 600}],
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=100,
        description="Most retrials of one caller (after the first call).",
        examples=[3],
    )
    next_day: float = Field(
        0,
        ge=0,
        le=1,
        description="Connected days (horizon.days > 1): the chance that a caller who did not "
        "call again the same day, or whose retrial would come after the day's end, calls the "
        "next day instead, at a time drawn from that day's arrivals.",
        examples=[0.3],
    )
    busy_probability: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Chance a caller who heard busy (every line or queue position taken) "
        "calls again (a retrial); none = probability.",
        examples=[0.8],
    )


class FollowUp(Strict):
    """After a served call, the caller calls again (``recall``: the issue was not
    resolved) or is sent on to another queue (``transfer``), with a probability that may
    depend on the serving agent's proficiency (their lowest level in the queue's skills)."""

    probability: float = Field(
        ge=0, le=1, description="Chance after a served call.", examples=[0.1]
    )
    by_level: dict[Annotated[int, Field(ge=1, le=5)], Annotated[float, Field(ge=0, le=1)]] = (
        Field(default_factory=dict, description="Chance by the serving agent's level 1-5.",
              examples=[{1: 0.2, 5: 0.05}])
    )  # fmt: skip


class Recall(FollowUp):
    delay_s: Distribution = Field(
        description="Time from the end of the call to the recall, seconds.",
        examples=[{"dist": "exponential", "mean": 3600}],
    )


class Transfer(FollowUp):
    queue: str = Field(description="The queue the caller is sent to.", examples=["billing"])
    talk_s: Distribution = Field(
        description="Talk time there, seconds.", examples=[{"dist": "exponential", "mean": 200}]
    )


class Callback(Strict):
    """How callers answer a callback offer (the queue's ``callback_above_s``) and the
    call back itself."""

    accept: float = Field(
        ge=0, le=1, description="Chance a caller offered a callback accepts it.", examples=[0.6]
    )
    answer: float = Field(
        0.9, ge=0, le=1, description="Chance the caller answers when called back.", examples=[0.9]
    )
    dial_s: Distribution = Field(
        default_factory=lambda: Constant(dist="constant", value=30),
        description="How long an unanswered callback rings before the agent gives up, seconds.",
        examples=[{"dist": "constant", "value": 30}],
    )


class CallStream(Strict):
    """Calls to one queue."""

    renamed: ClassVar[dict[str, str]] = {"forward": "transfer"}  # old key: its new name

    queue: str = Field(description="The queue these calls go to.", examples=["general"])
    arrivals: Arrivals
    talk_s: Distribution = Field(
        description="Talk time, seconds (handling time is talk + wrap-up).",
        examples=[{"dist": "lognormal", "mean": 240, "cv": 0.8}],
    )
    patience_s: Distribution | None = Field(
        None,
        description="How long a caller waits before hanging up; none = forever.",
        examples=[{"dist": "exponential", "mean": 180}],
    )
    wrap_up_s: Distribution | None = Field(
        None,
        description="After-call work of the agent, seconds; none = no wrap-up.",
        examples=[{"dist": "constant", "value": 30}],
    )
    retrial: Retrial | None = Field(
        None, description="Callers who abandoned, balked or heard busy call again."
    )
    balking: (
        dict[Annotated[float, Field(ge=0, le=86_400)], Annotated[float, Field(ge=0, le=1)]] | None
    ) = Field(
        None,
        min_length=1,
        description="Balking: the chance a caller hangs up at once on hearing the expected "
        "wait announced on joining the queue, by that wait in seconds (linear between "
        "points, flat beyond the ends); none = nobody balks.",
        examples=[{0: 0.0, 120: 0.1, 600: 0.5}],
    )
    priority: int | None = Field(
        None, ge=0, le=100, description="Caller priority; none = the queue's."
    )
    callback: Callback | None = Field(
        None, description="Callers' answer to a callback offer; none = they decline it."
    )
    recall: Recall | None = Field(None, description="Served callers who call again later.")
    transfer: Transfer | None = Field(
        None, description="Served callers sent on to another queue (a new call type)."
    )


class Shift(Strict):
    """Working hours, every day of the run; an end at or before the start is on the next
    day (a night shift 22:00 to 06:00)."""

    start: str = Field(pattern=HHMM, description="Log-in time, HH:MM.", examples=["07:00"])
    end: str = Field(
        pattern=HHMM,
        description="Log-out time, HH:MM (a call in progress is finished first).",
        examples=["15:30"],
    )

    @model_validator(mode="after")
    def _start(self) -> Shift:
        if self.start == "24:00":
            raise ValueError("start 24:00 is the next day's 00:00: write 00:00")
        return self

    def length_min(self) -> int:
        return span_min(self.start, self.end)


class Break(Strict):
    start: str = Field(pattern=HHMM, description="Break start, HH:MM.", examples=["10:00"])
    minutes: int = Field(gt=0, le=600, description="Break length, minutes.", examples=[15])


class OnDutyPoint(Strict):
    at: str = Field(pattern=HHMM, description="From this time on, HH:MM.", examples=["08:00"])
    count: int = Field(ge=0, le=100_000, description="Agents logged in.", examples=[42])


class Device(Strict):
    """A personal device (a mobile) the group's offers are forwarded to: it rings longer
    and is answered less surely and later than a desk phone."""

    number: str = Field(
        pattern=r"^\+?[0-9 ()-]{3,32}$",
        description="The number offers are forwarded to.",
        examples=["+47 900 00 000"],
    )
    answer_probability: float = Field(
        0.8, ge=0, le=1, description="Chance an offer is answered on the device.", examples=[0.8]
    )
    answer_delay_s: Distribution = Field(
        default_factory=lambda: Uniform(dist="uniform", low=4, high=12),
        description="Time to pick up on the device, seconds.",
        examples=[{"dist": "uniform", "low": 4, "high": 12}],
    )
    ring_timeout_s: float = Field(
        30, gt=0, le=600, description="How long a forwarded offer rings, seconds.", examples=[30]
    )


class AgentGroup(Strict):
    """``count`` identical agents. Skills as a list (proficiency 1) or skill: level 1-5.
    Their working time is a ``shift`` (with ``breaks``), or ``on_duty``: how many of them
    are logged in from each time of the day (a staffing plan, as ``callsim staff
    --simulate`` writes it)."""

    name: Name = Field(description="Group name; agents are named <name>-<n>.", examples=["team"])
    count: int = Field(gt=0, le=100_000, description="Number of agents.", examples=[420])
    skills: list[str] | dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(
        min_length=1,
        description="Skills, or skill: proficiency 1-5.",
        examples=[["general"], {"sales": 5, "en": 3}],
    )
    shift: Shift | None = Field(None, description="Working hours; none = the whole run.")
    breaks: list[Break] = Field(default_factory=list, description="Pauses during the shift.")
    device: Device | None = Field(
        None, description="Offers forwarded to each agent's personal device (a mobile)."
    )
    site: str | None = Field(
        None, description="The site the group works at (sites); none = it serves every site."
    )
    answer_probability: float | None = Field(
        None, ge=0, le=1, description="Overrides routing.answer_probability."
    )
    weight: float = Field(
        1.0, gt=0, description="Relative chance under weighted_random.", examples=[2]
    )
    chats: int = Field(
        1,
        ge=1,
        le=20,
        description="Chats each agent may hold at once (queues of channel chat).",
        examples=[3],
    )
    on_duty: list[OnDutyPoint] | None = Field(
        None,
        min_length=1,
        description="Agents logged in from each `at` until the next (the first also "
        "before it), every day; instead of a shift. Agent n works while the count is "
        ">= n; one logging out finishes their call first.",
        examples=[[{"at": "08:00", "count": 12}, {"at": "12:00", "count": 18}]],
    )

    @model_validator(mode="after")
    def _on_duty(self) -> AgentGroup:
        if self.on_duty is None:
            return self
        if self.shift is not None or self.breaks:
            raise ValueError("give either 'on_duty' or a 'shift' with 'breaks', not both")
        times = [minutes(p.at) for p in self.on_duty]
        if times != sorted(set(times)):
            raise ValueError("on_duty times must be increasing")
        most = max(p.count for p in self.on_duty)
        if most > self.count:
            raise ValueError(f"on_duty has {most} agents at most, more than count {self.count}")
        return self

    @model_validator(mode="after")
    def _one_answer_probability(self) -> AgentGroup:
        if self.device is not None and self.answer_probability is not None:
            raise ValueError(
                "give the answer probability of a group on a device as device.answer_probability"
            )
        return self

    def skill_levels(self) -> dict[str, int]:
        return dict.fromkeys(self.skills, 1) if isinstance(self.skills, list) else dict(self.skills)


# -- answering service ---------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_SPAN = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$"


class ForwardTarget(Strict):
    number: Phone = Field(description="Number to forward to.", examples=["+4791111111"])
    success: float = Field(
        0.7, ge=0, le=1, description="Chance the target takes the call.", examples=[0.6]
    )


class TreatmentSpec(Strict):
    """What the agent does: take a note for the client, or forward (target 1, then 2,
    then a note if neither answers)."""

    kind: Literal["note", "forward"] = Field(description="note or forward.")
    targets: list[ForwardTarget] = Field(
        default_factory=list, max_length=2, description="Forward targets, in order."
    )
    info: str = Field("", description="What the agent tells the caller.")

    @model_validator(mode="after")
    def _targets(self) -> TreatmentSpec:
        if self.kind == "forward" and not self.targets:
            raise ValueError("a forward treatment needs 1 or 2 targets")
        return self


NOTE_SPEC = TreatmentSpec(kind="note", targets=[], info="")


class ExceptionSpec(Strict):
    """A current exception, valid from ``start`` to ``end`` (client's local time)."""

    start: datetime = Field(description="Start, ISO date and time.", examples=["2026-07-01T00:00"])
    end: datetime = Field(
        description="End (exclusive), ISO date and time.", examples=["2026-07-15T00:00"]
    )
    message: str = Field("", description="Message for every caller.")
    treatment: TreatmentSpec | None = Field(None, description="Replaces the treatment meanwhile.")

    @model_validator(mode="after")
    def _ordered(self) -> ExceptionSpec:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


class EmployeeSpec(Strict):
    name: str = Field(
        min_length=1, description="Employee or department name.", examples=["Ola Nordmann"]
    )
    department: str = Field("", description="Department.", examples=["sales"])
    treatment: TreatmentSpec = Field(
        NOTE_SPEC, description="How calls for this employee are handled."
    )


class IvrChoice(Strict):
    """One keypad option: where it leads and the share of callers pressing it."""

    exit: Literal["queue", "deflected", "voicemail", "message", "submenu"] = Field(
        description="queue (to `queue` or the client's), deflected (self-service, no agent), "
        "voicemail, message or submenu."
    )
    probability: float = Field(
        ge=0, le=1, description="Share of callers at this menu pressing it.", examples=[0.1]
    )
    queue: str | None = Field(None, description="For exit queue: the queue; none = the client's.")
    message: str = Field("", description="What is played (message, deflected).")
    menu: IvrMenu | None = Field(None, description="For exit submenu: the next menu.")

    @model_validator(mode="after")
    def _menu(self) -> IvrChoice:
        if (self.exit == "submenu") != (self.menu is not None):
            raise ValueError("a submenu option needs 'menu', and only a submenu option has one")
        return self


class IvrMenu(Strict):
    """A voice menu. Callers who press none of the options go on to the client's queue."""

    prompt: str = Field(
        description="What the caller hears.", examples=["1 for bookings, 2 for opening hours"]
    )
    options: dict[Annotated[str, Field(pattern=r"^[0-9*#]$")], IvrChoice] = Field(
        min_length=1, description="Keypad key -> option."
    )

    @model_validator(mode="after")
    def _shares(self) -> IvrMenu:
        if sum(o.probability for o in self.options.values()) > 1 + 1e-9:
            raise ValueError("option probabilities add up to more than 1")
        return self


class FaqSpec(Strict):
    """A node of the client's FAQ tree; a leaf may carry a treatment for that request."""

    title: str = Field(min_length=1, description="Question or topic.", examples=["Water leak"])
    info: str = Field("", description="What the agent tells the caller.")
    treatment: TreatmentSpec | None = Field(None, description="Handling for this request.")
    children: list[FaqSpec] = Field(default_factory=list, description="Sub-topics.")


class RecordingSpec(Strict):
    """The client's call-recording policy. callsim stores each recorded call's
    reference (where the recorder keeps the audio), never audio."""

    mode: Literal["all", "none"] = Field(
        description="all: every answered call is recorded; none: the client forbids "
        "recording (the agent sees that it is off)."
    )
    announcement: str = Field(
        "",
        max_length=500,
        description="What the agent tells the caller (mode all).",
        examples=["This call is recorded for quality and training."],
    )
    retention_days: int = Field(
        0,
        ge=0,
        le=36500,
        description="Days the recordings are kept; 0 = not said.",
        examples=[90],
    )
    reference: str = Field(
        "{client}/{date}/call-{call}",
        min_length=1,
        max_length=300,
        description="The recorder's reference of one call; {client}, {date} (YYYY-MM-DD), "
        "{time} (HHMMSS, local) and {call} are filled in.",
        examples=["rec://acme/{date}/{call}.wav"],
    )

    @model_validator(mode="after")
    def _consistent(self) -> RecordingSpec:
        if self.mode == "none" and (self.announcement or self.retention_days):
            raise ValueError("mode none records nothing: no announcement or retention_days")
        unknown = _placeholders(self.reference) - {"client", "date", "time", "call"}
        if unknown:
            raise ValueError(
                f"reference {self.reference!r}: unknown placeholder "
                f"{{{sorted(unknown)[0]}}} (expected client, date, time, call)"
            )
        return self


def _placeholders(template: str) -> set[str]:
    """The {names} of a template; a format spec or conversion counts as part of the
    name (so it is reported as unknown, not failing later on a call)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"template {template!r}: {e}") from None
    return {
        name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
        for _, name, spec, conv in parts
        if name is not None
    }


class ClientSpec(Strict):
    """A business whose phones the service answers."""

    name: Name = Field(description="Client name.", examples=["Acme Plumbing"])
    numbers: list[Phone] = Field(
        min_length=1,
        description="Dialed numbers that reach this client.",
        examples=[["+4722000001"]],
    )
    queue: str = Field(description="Queue its calls go to.", examples=["reception"])
    arrivals: Arrivals
    time_zone: str | None = Field(
        None, description="IANA time zone; none = the centre's.", examples=["Europe/Oslo"]
    )
    tone: Literal["formal", "informal"] = Field("formal", description="Formal calls take longer.")
    welcome: str = Field(
        "Welcome to {client}, how may I help you?", description="Greeting template."
    )
    treatment: TreatmentSpec = Field(NOTE_SPEC, description="Standard treatment in opening hours.")
    off_hours: TreatmentSpec = Field(NOTE_SPEC, description="Treatment outside opening hours.")
    hours: (
        dict[
            Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            list[Annotated[str, Field(pattern=HOURS_SPAN)]],
        ]
        | None
    ) = Field(
        None,
        description="Opening hours per weekday, e.g. mon: ['08:00-16:00']; none = always open.",
        examples=[{"mon": ["08:00-16:00"], "sat": ["10:00-14:00"]}],
    )
    holidays: list[date] = Field(
        default_factory=list, description="Closed dates.", examples=[["2026-12-25"]]
    )
    exceptions: list[ExceptionSpec] = Field(default_factory=list, description="Current exceptions.")
    employees: list[EmployeeSpec] = Field(
        default_factory=list, description="Employee list: callers ask for one of them."
    )
    block_advertising: bool = Field(False, description="Reject calls rated as advertising.")
    advertising_share: float = Field(
        0.0, ge=0, le=1, description="Share of calls that are advertising.", examples=[0.05]
    )
    ivr: IvrMenu | None = Field(None, description="Voice menu before the queue.")
    faq: FaqSpec | None = Field(None, description="FAQ tree: each call is about one of its leaves.")
    recording: RecordingSpec | None = Field(
        None, description="Call-recording policy; none = the scenario says nothing."
    )

    @model_validator(mode="after")
    def _check(self) -> ClientSpec:
        for spans in (self.hours or {}).values():
            for span in spans:
                a, b = span.split("-")
                if minutes(b) <= minutes(a) and b != "24:00":
                    raise ValueError(f"opening hours {span!r}: the end is not after the start")
        return self


class Contacts(Strict):
    """Who calls: known contacts (a population per client) or new numbers; VIPs get a
    higher priority, a language may choose the queue, and a known caller's last agent is
    offered the call first."""

    known_share: float = Field(
        0.0, ge=0, le=1, description="Share of calls from known contacts.", examples=[0.6]
    )
    population: int = Field(
        200, ge=1, le=100_000, description="Known contacts per client.", examples=[200]
    )
    vip_share: float = Field(
        0.0, ge=0, le=1, description="Share of known contacts who are VIP.", examples=[0.05]
    )
    vip_priority: int = Field(5, ge=0, le=100, description="Caller priority of VIPs.", examples=[5])
    languages: dict[str, float] = Field(
        default_factory=dict,
        description="Caller languages and their shares (they add up to 1).",
        examples=[{"no": 0.8, "en": 0.2}],
    )
    language_queues: dict[str, str] = Field(
        default_factory=dict,
        description="Language -> queue that needs that language skill.",
        examples=[{"en": "english"}],
    )
    last_agent_wait_s: float = Field(
        0.0,
        ge=0,
        description="Wait for a known caller's last agent, seconds (0: only if idle).",
        examples=[20],
    )

    @model_validator(mode="after")
    def _shares(self) -> Contacts:
        if self.languages and abs(sum(self.languages.values()) - 1) > 1e-6:
            raise ValueError(f"language shares add up to {sum(self.languages.values()):g}, not 1")
        return self


class Answering(Strict):
    """How the answering-service work takes time, and the simulated calendar day."""

    contacts: Contacts = Field(default_factory=Contacts, description="Callers.")  # type: ignore[arg-type]

    day: date = Field(
        default_factory=lambda: date(2026, 1, 5),
        description="The simulated day.",
        examples=["2026-11-23"],
    )
    time_zone: str = Field(
        "UTC", description="The centre's time zone (the horizon's clock).", examples=["Europe/Oslo"]
    )
    talk_s: Distribution = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=150, cv=0.7),
        description="Talk time before the treatment, seconds (informal tone).",
    )
    patience_s: Distribution | None = Field(
        default_factory=lambda: Exponential(dist="exponential", mean=90),
        description="Caller patience, seconds; none = forever.",
    )
    wrap_up_s: Distribution | None = Field(None, description="Wrap-up of every call, seconds.")
    formal_factor: float = Field(
        1.25, ge=1, description="Talk time multiplier of formal clients.", examples=[1.25]
    )
    forward_s: Distribution = Field(
        default_factory=lambda: Constant(dist="constant", value=25),
        description="Announcing and dialling one forward target, seconds.",
    )
    note_s: Distribution = Field(
        default_factory=lambda: Constant(dist="constant", value=60),
        description="Writing a call note (added to wrap-up), seconds.",
    )


class Costs(Strict):
    """What the centre's work costs and earns, in one currency. Wages are paid for the
    agents' whole working time (breaks included, as shifts are paid); a waiting second
    is any caller's, answered or not."""

    currency: str = Field("EUR", max_length=8, description="Currency label, for people.")
    wage_per_hour: float = Field(
        0, ge=0, description="Wage per agent-hour, every group.", examples=[30]
    )
    wage_per_hour_by_group: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Wage per agent-hour of named groups (overrides)."
    )
    per_abandoned_call: float = Field(
        0, ge=0, description="Cost of a call abandoned (lost business).", examples=[5]
    )
    per_waiting_second: float = Field(
        0, ge=0, description="Cost of a second a caller waits (toll lines).", examples=[0.01]
    )
    revenue_per_answered: float = Field(
        0, ge=0, description="Revenue of an answered call, every queue.", examples=[12]
    )
    revenue_per_answered_by_queue: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Revenue of an answered call of named queues."
    )


class LoadGate(Strict):
    """Thresholds of ``callsim load`` for this scenario (its flags override them): a run
    that breaks one exits 1, so CI can gate on it."""

    max_p95_ms: float | None = Field(
        None,
        gt=0,
        description="Highest p95 of any endpoint but the long poll, ms.",
        examples=[100],
    )
    max_error_rate: float | None = Field(
        None, ge=0, le=1, description="Highest share of failed requests.", examples=[0.001]
    )
    min_service_level: float | None = Field(
        None, ge=0, le=1, description="Lowest live service level of the run.", examples=[0.8]
    )


class Calibration(Strict):
    """How ``callsim calibrate`` made this scenario from a call log; ``callsim compare``
    uses it to rebuild each logged day. The simulator ignores it."""

    source: str = Field(description="The call log calibrated on.")
    days: list[str] = Field(description="The days used, YYYY-MM-DD.")
    types: list[str] = Field(description="The call type of each of calls[], in order.")
    priorities: list[int] = Field(
        default_factory=list,
        description="The logged caller priority of each of calls[], in order (empty: all one).",
    )
    pools: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Pools found in the log from who served what: queue (and agent group) "
        "name -> the call types it holds; empty: one queue for every type.",
        examples=[{"ps": ["NE", "NW", "PE", "PS", "TT"], "in": ["IN"]}],
    )
    availability_factor: float = Field(
        gt=0,
        description="Agents logged in = agents at work in the interval (their spells "
        "of calls) x this (the mean of availability_factors when those are given).",
    )
    availability_factors: list[Annotated[float, Field(gt=0)]] | None = Field(
        None,
        description="The availability factor of each interval of the horizon; none = "
        "availability_factor in every one.",
    )
    standby_factors: list[Annotated[float, Field(ge=0)]] | None = Field(
        None,
        description="Per interval of the horizon, agents at work x this are standby: "
        "not ready, they take a call once it has waited its queue's overflow to its standby "
        "queue (<queue>_standby); none = no standby agents.",
    )
    standby_per_idle_share: list[Annotated[float, Field(ge=0)]] | None = Field(
        None,
        description="Per interval of the horizon: a replayed day's ready agents = agents "
        "at work x (availability_factors + standby_factors) x (1 - this x the day's idle "
        "share: its agents' time at work more than 20 s into a gap between calls while "
        "calls of their skills waited; the product at most 0.9); its standby agents are "
        "standby_factors'. None = "
        "availability_factors on every day.",
    )
    retrial_share: float = Field(
        ge=0, lt=1, description="Share of logged calls that were retrials (left out of arrivals)."
    )
    patience_exp_mean_s: float = Field(
        gt=0, description="Exponential fit of patience (Erlang A's), seconds."
    )
    observed_abandon_rate: float = Field(ge=0, le=1, description="The log's, over the days.")


class Outbound(Strict):
    """Blended outbound: a progressive dialer gives an agent qualified for ``queue`` an
    outbound call when the agent becomes free with no inbound call waiting and at least
    ``reserve`` other agents are idle (the Erlang Blend threshold: they stay idle for
    inbound calls)."""

    queue: str = Field(
        description="The campaign's queue: its skills pick the agents who also dial out; "
        "its results are the outbound calls'.",
        examples=["campaign"],
    )
    reserve: int = Field(
        ge=0, le=100_000, description="Idle agents kept for inbound calls.", examples=[2]
    )
    right_party: float = Field(
        gt=0, le=1, description="Chance a dialled number reaches the right party.", examples=[0.3]
    )
    dial_s: Distribution = Field(
        default_factory=lambda: Constant(dist="constant", value=20),
        description="Time from dialling to the answer or to giving up, seconds.",
        examples=[{"dist": "uniform", "low": 10, "high": 30}],
    )
    talk_s: Distribution = Field(
        description="Talk time of a right-party call, seconds.",
        examples=[{"dist": "lognormal", "mean": 180, "cv": 0.7}],
    )
    wrap_up_s: Distribution | None = Field(
        None, description="After-call work of an outbound call; none = none."
    )


class Site(Strict):
    """A site with its own agents (``agents[].site``) and its share of every queue's calls."""

    name: Name = Field(description="Site name.", examples=["oslo"])
    share: float = Field(
        gt=0, le=1, description="Share of every queue's calls that arrive here.", examples=[0.6]
    )


class Scenario(Strict):
    """An inbound call centre to simulate."""

    name: Name = Field(
        description="Scenario name (used for result folders).", examples=["erlang-a-large"]
    )
    description: str = Field("", description="Free text for people.")
    horizon: Horizon
    service_level: ServiceLevel = Field(default_factory=ServiceLevel)  # type: ignore[arg-type]
    routing: Routing = Field(default_factory=Routing)  # type: ignore[arg-type]
    queues: list[Queue] = Field(min_length=1, description="The queues.")
    calls: list[CallStream] = Field(default_factory=list, description="The call streams.")
    agents: list[AgentGroup] = Field(min_length=1, description="The agent groups.")
    answering: Answering = Field(default_factory=Answering, description="Service work.")  # type: ignore[arg-type]
    clients: list[ClientSpec] = Field(
        default_factory=list, description="Answering-service clients and their calls."
    )
    load: LoadGate | None = Field(None, description="Thresholds of callsim load.")
    calibration: Calibration | None = Field(
        None, description="Written by callsim calibrate: how the scenario was made."
    )
    costs: Costs | None = Field(None, description="Wages, the cost of waits and abandons, revenue.")
    outbound: Outbound | None = Field(
        None, description="Blended outbound calls by a progressive dialer."
    )
    sites: list[Site] = Field(
        default_factory=list,
        description="Several sites: every queue is served at each, its calls shared by the "
        "sites' shares; a call may go to another site's agents after routing.site_delay_s. "
        "Results come per queue and site (queue@site).",
    )

    _written: dict[str, Any] | None = PrivateAttr(None)  # as written, before sites expand

    def written(self) -> dict[str, Any]:
        """The scenario as written (JSON types, set fields only): with sites, before they
        were expanded into queues per site (what --vary paths refer to)."""
        if self._written is not None:
            copy: dict[str, Any] = json.loads(json.dumps(self._written))
            return copy
        return self.model_dump(mode="json", exclude_unset=True)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        """Every cross-field problem at once (names that refer to nothing, routing loops,
        sites, clients, costs), each naming its field as written."""
        found: list[_LocatedError] = []
        names = [q.name for q in self.queues]
        known = ", ".join(names)
        declared = sorted({s for q in self.queues for s in q.skills})
        if dup := first_duplicate(names):
            found.append(_at("queues", f"queue name {dup!r} is given twice (names: {known})"))
        moves: dict[str, list[tuple[str, str]]] = {}
        for i, q in enumerate(self.queues):
            targets = [("overflow.to", t) for t in (q.overflow.to if q.overflow else [])]
            for field in FINAL:
                action = getattr(q, field)
                if isinstance(action, ToQueue):
                    targets.append((f"{field}.queue", action.queue))
                    if action.queue != q.name:  # said below: not another queue
                        moves.setdefault(q.name, []).append((field, action.queue))
            for where, target in targets:
                if target not in names or target == q.name:
                    found.append(
                        _at(
                            f"queues[{i}].{where}",
                            f"{target!r} is not another queue (queues: {known})",
                        )
                    )
        found += _routing_loops(names, moves)
        if not self.calls and not self.clients:
            found.append(_at("calls", "give at least one call stream (calls) or client (clients)"))
        found += _check_channels(self)
        for i, c in enumerate(self.calls):
            if c.queue not in names:
                found.append(
                    _at(f"calls[{i}].queue", f"unknown queue {c.queue!r} (queues: {known})")
                )
            if c.transfer is not None and c.transfer.queue not in names:
                found.append(
                    _at(
                        f"calls[{i}].transfer.queue",
                        f"unknown queue {c.transfer.queue!r} (queues: {known})",
                    )
                )
        found += self._check_clients(names)
        found += self._check_sites()
        if self.outbound is not None and self.outbound.queue not in names:
            found.append(
                _at("outbound.queue", f"unknown queue {self.outbound.queue!r} (queues: {known})")
            )
        groups = [g.name for g in self.agents]
        if dup := first_duplicate(groups):
            found.append(
                _at(
                    "agents",
                    f"agent group name {dup!r} is given twice (names: {', '.join(groups)})",
                )
            )
        for i, g in enumerate(self.agents):
            for j, skill in enumerate(g.skill_levels()):
                if skill not in declared:
                    found.append(
                        _at(
                            f"agents[{i}].skills[{j}]",
                            f"unknown skill {skill!r} (declared: {', '.join(declared)})",
                        )
                    )
        if self.costs is not None:
            for where, names_known, given in (
                ("wage_per_hour_by_group", groups, self.costs.wage_per_hour_by_group),
                ("revenue_per_answered_by_queue", names, self.costs.revenue_per_answered_by_queue),
            ):
                for key in given:
                    if key not in names_known:
                        found.append(
                            _at(
                                f"costs.{where}.{key}",
                                f"unknown name {key!r} (known: {', '.join(names_known)})",
                            )
                        )
        if found:
            raise _ProblemsError(found)
        return self

    def _check_sites(self) -> list[_LocatedError]:
        found = []
        names = [x.name for x in self.sites]
        for i, g in enumerate(self.agents):
            if g.site is not None and g.site not in names:
                known = ", ".join(names) or "none: give sites"
                found.append(_at(f"agents[{i}].site", f"unknown site {g.site!r} (sites: {known})"))
        if not self.sites:
            if self.routing.site_delay_s is not None:
                found.append(_at("routing.site_delay_s", "is for several sites: give sites"))
            return found
        if dup := first_duplicate(names):
            found.append(_at("sites", f"site name {dup!r} is given twice (got {names})"))
        if abs(sum(x.share for x in self.sites) - 1) > 1e-6:
            total = sum(x.share for x in self.sites)
            found.append(_at("sites", f"the shares add up to {total:g}, not 1"))
        if self.routing.site_delay_s is None:
            found.append(_at("routing.site_delay_s", "is required with sites (0: at once)"))
        for i, q in enumerate(self.queues):
            if q.overflow is not None:
                found.append(
                    _at(f"queues[{i}].overflow", "not with sites: sites overflow to each other")
                )
        if self.clients:
            found.append(_at("sites", "not with answering-service clients"))
        if self.outbound is not None:
            found.append(_at("sites", "not with blended outbound (outbound)"))
        return found

    @model_validator(mode="after")
    def _expand_sites(self) -> Scenario:
        """With sites: the same centre as one queue per queue and site (sites.py)."""
        if not self.sites:
            return self
        from callsim.scenario.sites import expand  # here: sites.py builds on this module

        out = Scenario.model_validate(expand(self.model_dump()))
        out._written = self.model_dump(mode="json", exclude_unset=True)
        return out

    def _check_clients(self, queues: list[str]) -> list[_LocatedError]:
        found = []
        known = ", ".join(queues)
        for language, queue in self.answering.contacts.language_queues.items():
            if queue not in queues:
                found.append(
                    _at(
                        f"answering.contacts.language_queues.{language}",
                        f"unknown queue {queue!r} (queues: {known})",
                    )
                )
        seen: dict[str, str] = {}
        zones = [("answering.time_zone", self.answering.time_zone)]
        for i, cl in enumerate(self.clients):
            if cl.queue not in queues:
                found.append(
                    _at(f"clients[{i}].queue", f"unknown queue {cl.queue!r} (queues: {known})")
                )
            for where, queue in _ivr_queues(cl.ivr, f"clients[{i}].ivr"):
                if queue not in queues:
                    found.append(_at(where, f"unknown queue {queue!r} (queues: {known})"))
            found += _duplicate_employees(cl, f"clients[{i}]")
            for n in cl.numbers:
                key = "".join(ch for ch in n if ch.isdigit())
                if key in seen:
                    found.append(
                        _at(f"clients[{i}].numbers", f"number {n!r} also belongs to {seen[key]!r}")
                    )
                seen[key] = cl.name
            if cl.time_zone:
                zones.append((f"clients[{i}].time_zone", cl.time_zone))
        for where, zone in zones:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                found.append(
                    _at(
                        where,
                        f"unknown time zone {zone!r} (expected an IANA name like Europe/Oslo)",
                    )
                )
        return found


def _duplicate_employees(client: ClientSpec, where: str) -> list[_LocatedError]:
    """One problem per employee whose name another of the client's employees has already
    (accents and case ignored, as the desk finds them): the caller asks for a name, so two
    namesakes with different handling would give an agent, and a card, two answers."""
    first: dict[str, int] = {}
    found = []
    for j, e in enumerate(client.employees):
        k = first.setdefault(fold(e.name), j)
        if k != j:
            hint = f"{e.name} ({e.department})" if e.department else f"{e.name} 2"
            found.append(
                _at(
                    f"{where}.employees[{j}].name",
                    f"{e.name!r} is also the name of {where}.employees[{k}] "
                    f"({client.employees[k].name!r}) of {client.name!r}; expected a name no "
                    f"other employee of the client has, accents and case ignored (e.g. {hint!r})",
                )
            )
    return found


def _routing_loops(
    names: list[str], moves: dict[str, list[tuple[str, str]]]
) -> list[_LocatedError]:
    """One problem per routing loop: queues whose on_full, on_empty or on_max_wait move
    calls round in a circle (overflow is no move: the call keeps its place)."""
    index = {q: i for i, q in enumerate(names)}
    found = []
    for loop in move_cycles(moves):
        steps = " -> ".join(f"{q} ({field})" for q, field in loop)
        first, field = loop[0]
        found.append(
            _at(
                f"queues[{index[first]}].{field}.queue",
                f"a routing loop: {steps} -> {first}: a call could move between these "
                "queues without end (end one of them in busy, voicemail, note or close)",
            )
        )
    return found


def _ivr_queues(menu: IvrMenu | None, where: str) -> list[tuple[str, str]]:
    """(field path, queue) of every queue option in a menu tree."""
    if menu is None:
        return []
    found = []
    for key, choice in menu.options.items():
        if choice.queue is not None:
            found.append((f"{where}.options.{key}.queue", choice.queue))
        found += _ivr_queues(choice.menu, f"{where}.options.{key}.menu")
    return found


def _check_channels(s: Scenario) -> list[_LocatedError]:
    """What channels refuse: emails never abandon (no patience_s), chats have no
    wrap-up, moves and overflow stay within a channel, the dialer calls a voice queue,
    slowdown is a chat's and due_h an email's."""
    found: list[_LocatedError] = []
    channel = {q.name: q.channel for q in s.queues}
    for i, q in enumerate(s.queues):
        if q.slowdown and q.channel is not Channel.CHAT:
            found.append(_at(f"queues[{i}].slowdown", "is for chat queues only"))
        if q.due_h is not None and q.channel is not Channel.EMAIL:
            found.append(_at(f"queues[{i}].due_h", "is for email queues only"))
        targets = [("overflow.to", t) for t in (q.overflow.to if q.overflow else [])]
        targets += [
            (f"{f}.queue", a.queue) for f in FINAL if isinstance(a := getattr(q, f), ToQueue)
        ]
        for where, target in targets:
            other = channel.get(target)
            if other is not None and other is not q.channel:
                found.append(
                    _at(
                        f"queues[{i}].{where}",
                        f"{target!r} is a {other.value} queue, not {q.channel.value} "
                        "(contacts stay in their channel)",
                    )
                )
    for i, c in enumerate(s.calls):
        kind = channel.get(c.queue)
        if kind is Channel.EMAIL and c.patience_s is not None:
            found.append(
                _at(
                    f"calls[{i}].patience_s", f"{c.queue!r} is an email queue: emails never abandon"
                )
            )
        if kind is Channel.CHAT and c.wrap_up_s is not None:
            found.append(
                _at(
                    f"calls[{i}].wrap_up_s",
                    f"{c.queue!r} is a chat queue: chats have no wrap-up (put it in talk_s)",
                )
            )
    if s.outbound is not None and channel.get(s.outbound.queue, Channel.VOICE) is not Channel.VOICE:
        found.append(_at("outbound.queue", f"{s.outbound.queue!r} is not a voice queue"))
    for i, cl in enumerate(s.clients):
        if channel.get(cl.queue, Channel.VOICE) is not Channel.VOICE:
            found.append(_at(f"clients[{i}].queue", f"{cl.queue!r} is not a voice queue"))
    return found


class _LocatedError(ValueError):
    """A cross-field error that knows the field path it belongs to."""

    def __init__(self, loc: str, message: str) -> None:
        super().__init__(message)
        self.loc = loc


class _ProblemsError(ValueError):
    """Several cross-field errors of one check, each knowing its field path."""

    def __init__(self, found: list[_LocatedError]) -> None:
        super().__init__("; ".join(f"{e.loc}: {e}" for e in found))
        self.found = found


def _at(loc: str, message: str) -> _LocatedError:
    return _LocatedError(loc, message)
