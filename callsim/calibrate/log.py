"""Per-call logs of a real centre: the Anonymous Bank format and a documented generic CSV,
read into calls with clear rules for the log's flaws, each dropped row counted by reason.

A call, as the simulator sees one: it reaches the queue at ``arrival_s`` (after any voice
menu), waits ``wait_s``, and is answered (talking ``talk_s`` with ``agent``) or hangs up.

The Anonymous Bank log (README in docs/calibration.md), rules in order:

- a row that is not 17 tab-separated fields is split on any white space instead (some
  October rows use spaces); if it still is not 17 fields it is dropped (``broken row``);
- ``PHANTOM`` outcomes are not calls (``phantom``); an outcome other than AGENT or HANG
  (``no outcome``);
- a HANG that never entered the queue hung up in the voice menu (``voice-menu hang-up``):
  it never asked for an agent;
- an AGENT call with no server (``NO_SERVER``) is dropped (``answered by no agent``);
- times wrap at midnight: a time earlier than the one before it is on the next day (the
  call keeps its date; its times run past 24:00);
- a time or number that does not read is dropped (``unreadable``).

The generic CSV (one row per call, a header naming the columns, any order):

- ``arrival`` (required): when the call reached the queue, ISO date-time;
- ``answered``: when an agent answered (empty if not);
- ``abandoned``: when the caller hung up while waiting (empty if answered);
- ``talk_s``: seconds talked (answered calls); ``agent``: who answered;
- ``type`` (optional, default ``all``); ``caller`` (optional): a caller id, for retrials;
- ``priority`` (optional, default 0): the caller's priority as the ACD saw it (higher first).

The Asterisk ``queue_log`` (``epoch|callid|queue|agent|EVENT|data...``, as ``callsim run
--queue-log`` writes it), read by ``QueueLogReader``: a call's queue is its type.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callsim.errors import InputError

FORMATS = ("anonymous-bank", "csv", "queue_log")
EXAMPLES = 3  # line numbers kept per reason


@dataclass(frozen=True, slots=True)
class LoggedCall:
    day: date
    type: str
    caller: str  # "" when unknown
    arrival_s: float  # seconds after the day's midnight (past 86,400 after midnight)
    wait_s: float
    answered: bool
    talk_s: float
    agent: str  # "" when not answered
    priority: int = 0  # as logged (the bank: 2 priority customers, 1 regular, 0 unknown)


@dataclass
class CallLog:
    source: str
    calls: list[LoggedCall]
    dropped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=dict)  # reason -> line numbers
    repaired: Counter[str] = field(default_factory=Counter)
    rows: int = 0
    # (day, agent) -> spells logged in and not paused (seconds after the day's midnight),
    # when the log records agent states (queue_log: login, log-off, pause, unpause)
    staffed: dict[tuple[date, str], list[tuple[float, float]]] = field(default_factory=dict)

    def drop(self, reason: str, line: int) -> None:
        self.dropped[reason] += 1
        seen = self.examples.setdefault(reason, [])
        if len(seen) < EXAMPLES:
            seen.append(line)

    @property
    def days(self) -> list[date]:
        return sorted({c.day for c in self.calls})

    def missing_days(self) -> list[date]:
        """Days between the first and last with no calls at all."""
        days = self.days
        if not days:
            return []
        have, out, d = set(days), [], days[0]
        while d <= days[-1]:
            if d not in have:
                out.append(d)
            d += timedelta(days=1)
        return out


def _open_text(path: Path) -> str:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the log ({exc.strerror or exc})") from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise InputError(f"{path}: not a gzip file ({exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_log(path: Path, fmt: str = "anonymous-bank", time_zone: str = "UTC") -> CallLog:
    """The log at ``path`` in format ``fmt``; ``time_zone`` the centre's, for a log whose
    times are Unix seconds (queue_log)."""
    if fmt not in FORMATS:
        raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    text = _open_text(path)
    if fmt == "anonymous-bank":
        log = _bank(path, text)
    elif fmt == "csv":
        log = _csv(path, text)
    else:
        log = QueueLogReader(path, _zone(time_zone)).read(text)
    if not log.calls:
        reasons = ", ".join(f"{n} {r}" for r, n in log.dropped.most_common()) or "no rows"
        raise InputError(
            f"{path}: no usable calls in {log.rows:,} rows ({reasons}); is it the {fmt} format?"
        )
    return log


BANK_FIELDS = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)


def _hms(text: str) -> int:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


def _bank(path: Path, text: str) -> CallLog:
    lines = text.splitlines()
    head = lines[0].split("\t") if lines else []
    if [h.strip() for h in head] != list(BANK_FIELDS):
        raise InputError(
            f"{path}: line 1 is not the Anonymous Bank header ({', '.join(BANK_FIELDS[:4])}, ...)"
        )
    log = CallLog(str(path), [])
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        log.rows += 1
        f = line.split("\t")
        if len(f) != 17:
            f = line.split()
            if len(f) != 17:
                log.drop("broken row", n)
                continue
            log.repaired["separators"] += 1
        f = [x.strip() for x in f]
        outcome = f[12]
        if outcome == "PHANTOM":
            log.drop("phantom", n)
            continue
        if outcome not in ("AGENT", "HANG"):
            log.drop("no outcome", n)
            continue
        try:
            day = datetime.strptime(f[5], "%y%m%d").date()
            entry, exit_ = _hms(f[6]), _hms(f[7])
            q_start, q_time = _hms(f[9]), int(f[11])
            talk = int(f[15])
        except ValueError:
            log.drop("unreadable", n)
            continue
        if exit_ < entry:
            exit_ += 86_400
            log.repaired["past midnight"] += 1
        queued = q_start != 0 or q_time > 0
        if outcome == "HANG" and not queued:
            log.drop("voice-menu hang-up", n)
            continue
        server = f[16]
        if outcome == "AGENT" and server in ("NO_SERVER", ""):
            log.drop("answered by no agent", n)
            continue
        answered = outcome == "AGENT"
        log.calls.append(
            LoggedCall(
                day,
                f[4],
                "" if f[2] in ("0", "") else f[2],
                float(exit_),
                float(q_time if queued else 0),
                answered,
                float(talk) if answered else 0.0,
                server if answered else "",
                _priority(f[3]),
            )
        )
    return log


def _priority(text: str) -> int:
    return int(text) if text.isdigit() and len(text) <= 2 else 0


CSV_COLUMNS = (
    "arrival",
    "answered",
    "abandoned",
    "talk_s",
    "agent",
    "type",
    "caller",
    "priority",
)


def _csv(path: Path, text: str) -> CallLog:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "arrival" not in header:
        raise InputError(
            f"{path}: missing column 'arrival' (columns: "
            f"{', '.join(CSV_COLUMNS)}; found: {', '.join(header) or 'none'})"
        )
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise InputError(
            f"{path}: unknown column {unknown[0]!r} (expected: {', '.join(CSV_COLUMNS)})"
        )
    log = CallLog(str(path), [])
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        log.rows += 1
        try:
            at = datetime.fromisoformat(row["arrival"])
            answered_at = datetime.fromisoformat(row["answered"]) if row.get("answered") else None
            left_at = datetime.fromisoformat(row["abandoned"]) if row.get("abandoned") else None
            talk = float(row.get("talk_s") or 0)
            priority = int(row.get("priority") or 0)
        except ValueError:
            log.drop("unreadable", n)
            continue
        if (answered_at is None) == (left_at is None):
            log.drop("no outcome" if answered_at is None else "answered and abandoned", n)
            continue
        end = answered_at or left_at
        assert end is not None
        wait = (end - at).total_seconds()
        if wait < 0 or talk < 0:
            log.drop("negative time", n)
            continue
        if answered_at is not None and not row.get("agent"):
            log.drop("answered by no agent", n)
            continue
        midnight = datetime.combine(at.date(), datetime.min.time(), at.tzinfo)
        log.calls.append(
            LoggedCall(
                at.date(),
                row.get("type") or "all",
                row.get("caller", ""),
                (at - midnight).total_seconds(),
                wait,
                answered_at is not None,
                talk if answered_at is not None else 0.0,
                row.get("agent", ""),
                max(0, priority),
            )
        )
    return log


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--time-zone: {name!r} is not a time zone (e.g. Europe/Oslo)") from None


CALL_ENDS = {  # event -> the data field (from 0) with the talk time, for answered calls
    "COMPLETEAGENT": 1,
    "COMPLETECALLER": 1,
    "BLINDTRANSFER": 3,
    "ATTENDEDTRANSFER": 4,
}
LEFT = {  # event -> why an unanswered call is not one the model takes
    "EXITWITHTIMEOUT": "left by the queue's timeout",
    "EXITEMPTY": "left an empty queue",
    "JOINEMPTY": "joined an empty queue",
    "FULL": "queue full",
    "EXITWITHKEY": "left with a key",
}
STAFF = {  # event -> what it does to an agent's state
    "AGENTLOGIN": "in",
    "ADDMEMBER": "in",
    "AGENTLOGOFF": "out",
    "REMOVEMEMBER": "out",
    "PAUSE": "pause",
    "PAUSEALL": "pause",
    "UNPAUSE": "unpause",
    "UNPAUSEALL": "unpause",
}


@dataclass
class _Open:
    line: int
    entered: float
    queue: str
    caller: str
    connected: float | None = None
    agent: str = ""
    done: bool = False


class QueueLogReader:
    """Asterisk ``queue_log`` lines into calls, and agents' spells of work from their
    login, log-off, pause and unpause records. Rules:

    - a line that is not at least 5 ``|``-separated fields with a whole epoch is dropped
      (``broken row``); a call's events are matched by its call id;
    - a call arrives at its first ``ENTERQUEUE`` (its queue is its type; a later
      ENTERQUEUE of the same call while it lasts is counted as ``entered again`` and
      ignored; a call id used again after its call ended is a new call); its caller is
      ENTERQUEUE's caller id;
    - answered at ``CONNECT`` by its agent, its talk the call time of COMPLETEAGENT,
      COMPLETECALLER or a transfer; abandoned at ``ABANDON``;
    - a call that left by a queue's rule (EXITWITHTIMEOUT, EXITEMPTY, JOINEMPTY, FULL,
      EXITWITHKEY) is dropped by that reason: its caller did not choose to hang up;
    - a call with no end in the log (``no outcome``) is dropped;
    - an agent is at work from AGENTLOGIN (or ADDMEMBER) to AGENTLOGOFF (REMOVEMEMBER),
      less the time between PAUSE and UNPAUSE; a spell still open at the end of the log
      ends at the log's last time.
    """

    def __init__(self, path: Path, zone: ZoneInfo) -> None:
        self.path = path
        self.zone = zone

    def _day(self, t: float) -> tuple[date, float]:
        at = datetime.fromtimestamp(t, self.zone)
        midnight = datetime.combine(at.date(), datetime.min.time(), self.zone)
        return at.date(), t - midnight.timestamp()

    def read(self, text: str) -> CallLog:
        log = CallLog(str(self.path), [])
        calls: dict[str, _Open] = {}
        state: dict[str, tuple[bool, bool, float]] = {}  # agent -> in, paused, since
        spells: list[tuple[str, float, float]] = []
        last = 0.0
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            log.rows += 1
            f = line.strip().split("|")
            try:
                t = float(int(f[0]))
            except (ValueError, IndexError):
                log.drop("broken row", n)
                continue
            if len(f) < 5:
                log.drop("broken row", n)
                continue
            last = max(last, t)
            callid, queue, agent, event, data = f[1], f[2], f[3], f[4], f[5:]
            if event in STAFF:
                self._staff(state, spells, agent, STAFF[event], t)
                continue
            c = calls.get(callid)
            if event == "ENTERQUEUE":
                if c is not None and not c.done:
                    log.repaired["entered again"] += 1
                    continue
                caller = data[1] if len(data) > 1 and data[1] not in ("", "NONE") else ""
                calls[callid] = _Open(n, t, queue, caller)
            elif c is None or c.done:
                continue
            elif event == "CONNECT":
                c.connected, c.agent = t, agent
            elif event in CALL_ENDS and c.connected is not None:
                c.done = True
                talk = _number(data, CALL_ENDS[event])
                if talk is None:
                    log.drop("unreadable", n)
                else:
                    log.calls.append(self._call(c, c.connected - c.entered, True, talk))
            elif event == "ABANDON":
                c.done = True
                log.calls.append(self._call(c, t - c.entered, False, 0.0))
            elif event in LEFT:
                c.done = True
                log.drop(LEFT[event], n)
        for c in calls.values():
            if not c.done:
                log.drop("no outcome", c.line)
        for agent, (logged_in, paused, since) in state.items():
            if logged_in and not paused and last > since:
                spells.append((agent, since, last))
        for agent, a, b in spells:
            day, start = self._day(a)
            log.staffed.setdefault((day, agent), []).append((start, start + b - a))
        return log

    def _call(self, c: _Open, wait: float, answered: bool, talk: float) -> LoggedCall:
        day, at = self._day(c.entered)
        agent = c.agent if answered else ""
        return LoggedCall(day, c.queue, c.caller, at, max(0.0, wait), answered, talk, agent)

    @staticmethod
    def _staff(
        state: dict[str, tuple[bool, bool, float]],
        spells: list[tuple[str, float, float]],
        agent: str,
        what: str,
        t: float,
    ) -> None:
        """An agent's state change; a spell of work ends when they log off or pause."""
        logged_in, paused, since = state.get(agent, (False, False, t))
        working = logged_in and not paused
        logged_in = {"in": True, "out": False}.get(what, logged_in)
        paused = {"pause": True, "unpause": False, "out": False}.get(what, paused)
        if working and not (logged_in and not paused) and t > since:
            spells.append((agent, since, t))
        if not working and logged_in and not paused:
            since = t
        state[agent] = (logged_in, paused, since)


def _number(data: list[str], k: int) -> float | None:
    try:
        return float(data[k])
    except (IndexError, ValueError):
        return None
