"""The one source of "now" for the application.

Deadlines, sweeps and ledgers depend on the time; tests and demos move it with
:func:`travel_to` instead of waiting for a month to pass. Production never calls it.
"""

from __future__ import annotations

import datetime as dt

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + _offset


def travel_to(moment: dt.datetime) -> None:
    """Make :func:`now` read ``moment`` (and run on from there)."""
    global _offset
    if moment.tzinfo is None:
        raise ValueError("travel_to needs a timezone-aware datetime")
    _offset = moment - dt.datetime.now(dt.UTC)


def reset() -> None:
    global _offset
    _offset = dt.timedelta(0)
