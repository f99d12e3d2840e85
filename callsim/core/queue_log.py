"""Export the ACD journal as Asterisk ``queue_log`` lines, for existing queue-report tools.

Format: ``epoch|callid|queuename|agent|EVENT|data1|data2|...``; ``NONE`` fills an empty
call, queue or agent field, as Asterisk writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from callsim.core.record import JournalEntry


def queue_log_lines(entries: Iterable[JournalEntry], epoch_s: float = 0.0) -> Iterator[str]:
    """One ``queue_log`` line per journal entry; ``epoch_s`` is the Unix time of clock 0."""
    for e in entries:
        fields = [
            str(int(epoch_s + e.at_s)),
            "NONE" if e.call is None else str(e.call),
            e.queue or "NONE",
            e.agent or "NONE",
            e.kind.value,
            *(str(d) for d in e.data),
        ]
        yield "|".join(fields)
