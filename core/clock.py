"""The one source of "now" for the application.

Deadlines, sweeps and ledgers depend on the time; tests and demos move it with
:func:`travel_to` instead of waiting for a month to pass. Production never calls it.
"""

from __future__ import annotations

import datetime as dt

from core.errors import Invalid

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


# ---------------------------------------------------------------- times of past events

SKEW = dt.timedelta(minutes=5)
"""How far a time of something that already happened may lie ahead of :func:`now`: the
clock of the clerk's PC or phone may run a little fast."""

FLOOR = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""The earliest time a past event is accepted at, where nothing closer bounds it (no
complaint desk records an event of the last century; 1900-01-01 is a default, not a date)."""


def check_past(
    value: dt.datetime | None, field: str, *, after: dt.datetime | None = None
) -> dt.datetime | None:
    """``value`` (an aware time of an event that already happened: when the complained-of
    event took place, when the complainant was contacted or told) if it is not later than
    :func:`now` + :data:`SKEW` and not earlier than ``after`` less :data:`SKEW` (the
    ticket's received time, where the event must follow it) or else :data:`FLOOR`. ``None``
    passes through.

    Raises :class:`core.errors.Invalid` (422) naming ``field``: rule ``not in the future`` or
    ``not before <floor>``.
    """
    if value is None:
        return None
    if value > now() + SKEW:
        raise Invalid(
            "{field} records something that already happened: it cannot be in the future",
            field=field,
            rule="not in the future",
            params={"field": field},
        )
    if after is not None and after.tzinfo is None:  # SQLite hands stored UTC back naive
        after = after.replace(tzinfo=dt.UTC)
    # a form gives minutes and clocks differ: the received time less SKEW still passes
    floor = FLOOR if after is None else max(FLOOR, after - SKEW)
    if value < floor:
        stamp = floor.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise Invalid(
            "{field} cannot be earlier than {floor}",
            field=field,
            rule=f"not before {stamp}",
            params={"field": field, "floor": floor},
        )
    return value
