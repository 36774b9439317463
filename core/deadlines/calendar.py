"""China working-day calendar for complaint deadlines (domain §6).

Deadlines such as "answer within 1 working day" follow the State Council's yearly holiday
schedule, which moves whole working days around: holidays are stretched into blocks and some
Saturdays/Sundays become working days (调休). That schedule is published each November and is
not computable, so it comes from the maintained ``holidays`` package (never hand-typed here):
``holidays.China(years=y)`` lists the days off, ``.weekend_workdays`` the make-up working days.

For a year the package has no official schedule for, a rule-based guess would silently move
due dates by days, so the default is to refuse (:class:`CalendarOutOfRange`); a tenant may opt
into a fallback. Upgrading ``holidays`` extends :func:`known_years` with no code change.

The module is pure: no I/O, no database; tenants' settings are passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays.countries import china as _china

Fallback = Literal["error", "weekends", "rules"]
Unit = Literal["minutes", "hours", "calendar_days", "working_days"]

_FALLBACKS = ("error", "weekends", "rules")
_ELAPSED = {
    "minutes": dt.timedelta(minutes=1),
    "hours": dt.timedelta(hours=1),
    "calendar_days": dt.timedelta(days=1),
}
_ONE_DAY = dt.timedelta(days=1)


class CalendarOutOfRange(ValueError):
    """A date falls in a year without an official schedule and no fallback is configured."""

    def __init__(self, day: dt.date, known: range) -> None:
        self.day = day
        self.known = known
        super().__init__(
            f"no official China working-day schedule for {day.isoformat()}: the installed "
            f"`holidays` package ({holidays.__version__}) knows {known.start}-{known.stop - 1}. "
            "Upgrade `holidays` once the State Council publishes that year's schedule, or "
            "configure the tenant calendar fallback: 'weekends' (Mon-Fri working, no "
            "holidays) or 'rules' (rule-based statutory holidays, no make-up working days)."
        )


@lru_cache(maxsize=1)
def known_years() -> range:
    """Years for which the library carries the State Council schedule (its 调休 table).

    Read from the library at runtime, so a ``holidays`` upgrade extends it automatically.
    The substituted-days table is the marker: every official notice since 2001 moves days,
    while years beyond the table get only rule-based holidays and no make-up days.
    """
    table = getattr(getattr(_china, "ChinaStaticHolidays", None), "special_public_holidays", None)
    if not table:  # pragma: no cover - only if the library's layout changes
        raise RuntimeError("holidays.countries.china no longer exposes its 调休 table")
    return range(min(table), max(table) + 1)


class _YearTable(NamedTuple):
    """National calendar of one year: weekdays off and weekend days that are working days."""

    days_off: frozenset[dt.date]
    weekend_workdays: frozenset[dt.date]


@lru_cache(maxsize=256)
def _national_year(year: int, fallback: Fallback) -> _YearTable | None:
    """Cached per-year table; ``None`` means "out of range, fallback is error".

    Cached because ``add`` walks day by day and building a ``holidays`` object is slow.
    Only the PUBLIC category is used: half-day holidays (Women's Day, Youth Day...) apply to
    some groups only and do not close a complaint desk.
    """
    if year in known_years():
        national = holidays.China(years=year)
        return _YearTable(frozenset(national), frozenset(national.weekend_workdays))
    if fallback == "weekends":
        return _YearTable(frozenset(), frozenset())
    if fallback == "rules":
        # Rule-based statutory days (with the library's weekend-to-Monday shifts) but no
        # make-up working days: those only exist in a published schedule.
        return _YearTable(frozenset(holidays.China(years=year)), frozenset())
    return None


def _aware(at: dt.datetime) -> dt.datetime:
    if not isinstance(at, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass a timezone-aware datetime")
    return at


def _micro(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _plain_date(day: dt.date) -> dt.date:
    # datetime is a date subclass; accepting one would silently ignore its time zone.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a date, got {type(day).__name__}")
    return day


@dataclass(frozen=True)
class WorkingCalendar:
    """One tenant's working calendar: national schedule, tenant overrides, hours, time zone.

    ``closures`` and ``extra_workdays`` are the tenant's own non-working and working dates;
    they override the national calendar (and are answered even outside the known years).
    ``hours`` is an optional same-day working window ``[start, end)`` in local time.
    """

    timezone: str = "Asia/Shanghai"
    closures: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()
    hours: tuple[dt.time, dt.time] | None = None
    fallback: Fallback = "error"

    def __post_init__(self) -> None:
        # Fail at configuration time, not at the first deadline computed.
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if self.fallback not in _FALLBACKS:
            raise ValueError(f"fallback must be one of {_FALLBACKS}, got {self.fallback!r}")
        # Normalise to frozensets so the calendar stays hashable whatever the caller passed.
        object.__setattr__(self, "closures", frozenset(map(_plain_date, self.closures)))
        object.__setattr__(self, "extra_workdays", frozenset(map(_plain_date, self.extra_workdays)))
        if both := self.closures & self.extra_workdays:
            raise ValueError(f"dates both closed and working: {sorted(both)}")
        if self.hours is not None:
            start, end = self.hours
            if not start < end:
                raise ValueError("working hours must be a same-day window with start < end")

    @property
    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _local(self, at: dt.datetime) -> dt.datetime:
        return _aware(at).astimezone(self._tz)

    def _at(self, day: dt.date, clock: dt.time) -> dt.datetime:
        """Local wall-clock time on ``day``, returned in UTC."""
        return dt.datetime.combine(day, clock, tzinfo=self._tz).astimezone(dt.UTC)

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` (a local date) is a working day for this tenant."""
        day = _plain_date(day)
        if day in self.closures:
            return False
        if day in self.extra_workdays:
            return True
        table = _national_year(day.year, self.fallback)
        if table is None:
            raise CalendarOutOfRange(day, known_years())
        if day in table.weekend_workdays:
            return True
        return day.weekday() < 5 and day not in table.days_off

    def period(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The working period ``[opens, closes)`` of a local ``day`` in UTC, or ``None``.

        A working day without a window is the whole local day (00:00 to the next 00:00).
        On a daylight-saving change a window may lose or gain an hour; a window that falls
        entirely into the skipped hour is empty (``None``), never negative.
        """
        if not self.is_working_day(day):
            return None
        if self.hours is None:
            return self._at(day, dt.time(0)), self._at(day + _ONE_DAY, dt.time(0))
        opens, closes = self._at(day, self.hours[0]), self._at(day, self.hours[1])
        return (opens, closes) if opens < closes else None

    def in_working_hours(self, at: dt.datetime) -> bool:
        """Whether ``at`` lies in the working period of its local day (working day and, when
        a window is set, ``start <= local time < end``)."""
        period = self.period(self._local(at).date())
        return period is not None and period[0] <= at < period[1]

    def _periods_from(self, at: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working periods that end after ``at``, in order (an endless walk: the caller stops).

        Starts one local day before ``at``'s, since a window-less day's period ends at the
        next midnight; a year outside the known schedule raises :class:`CalendarOutOfRange`.
        """
        day = self._local(at).date() - _ONE_DAY
        # About two years of days off in a row would be a misconfigured calendar, not a
        # deadline: stop rather than loop for ever.
        for _ in range(800):
            period = self.period(day)
            if period is not None and period[1] > at:
                yield period
            day += _ONE_DAY
        raise ValueError(f"no working time within 800 days after {at.isoformat()}")

    def next_working_time(self, at: dt.datetime) -> dt.datetime:
        """``at`` itself (in UTC) if in working time, else when the next working period opens.

        That is the window start (today's if still ahead, else the next working day's), or
        00:00 of the next working day when there is no window.
        """
        _aware(at)
        opens, _ = next(self._periods_from(at))
        return max(opens, at).astimezone(dt.UTC)

    def working_time(self, start: dt.datetime, end: dt.datetime) -> Fraction:
        """Working time in ``[start, end)``, in working days (0 when ``end <= start``).

        Each working day's period counts 1 whatever its length, and a part of it counts its
        share of that period's real duration: with hours 08:30-17:30, Mon 13:00 to Tue 13:00
        is 1 working day, Mon 17:00 to Tue 09:00 is 1/9 (30 + 30 minutes of 9 hours).
        Exact (a :class:`~fractions.Fraction`), so that :meth:`advance` inverts it.
        """
        _aware(start), _aware(end)
        total = Fraction(0)
        if end <= start:
            return total
        for opens, closes in self._periods_from(start):
            if opens >= end:
                break
            part = min(end, closes) - max(start, opens)
            if part > dt.timedelta(0):
                total += Fraction(_micro(part), _micro(closes - opens))
        return total

    def advance(self, start: dt.datetime, amount: Fraction | int) -> dt.datetime:
        """The first working instant ``t >= start`` with ``working_time(start, t) == amount``.

        ``amount`` is in working days (see :meth:`working_time`). The result is always in
        working time: an amount used up exactly at a closing time runs on to the next
        opening. ``advance(s, n)`` for a whole ``n`` is ``add(s, n, "working_days")``.
        """
        _aware(start)
        left = Fraction(amount)
        if left < 0:
            raise ValueError(f"amount must be >= 0, got {amount}")
        for opens, closes in self._periods_from(start):
            begin = max(start, opens)
            length = _micro(closes - opens)
            here = Fraction(_micro(closes - begin), length)
            if here > left:
                return (begin + dt.timedelta(microseconds=round(left * length))).astimezone(dt.UTC)
            left -= here
        raise AssertionError("unreachable")  # pragma: no cover - _periods_from raises

    def add(self, start: dt.datetime, amount: int, unit: Unit) -> dt.datetime:
        """Due time ``amount`` ``unit`` after ``start``, in UTC.

        Product decisions (domain §6):

        - ``minutes``, ``hours``, ``calendar_days``: plain elapsed time, ``start + delta``.
          "Within 2 h" and "follow-up within 24 h" are clock hours, not working hours, and
          are not moved out of nights or holidays.
        - ``working_days``: a start outside working time (non-working day, or outside the
          window) is first moved to :meth:`next_working_time`, so a complaint received on a
          holiday gets the full allowance. The due time is then the same local clock time on
          the N-th following working day: received Fri 2026-02-13 10:00, 4 working days ->
          Sat 02-14 (make-up day) is day 1, 02-15..23 are off, 02-24/25/26 are days 2-4 ->
          due 2026-02-26 10:00 +08:00. Without a window a moved start is 00:00, so the due
          time is 00:00 of the day after the N-th working day counted from the move, i.e. N
          whole working days.
        - ``amount`` 0 returns ``start`` (after the move, for working days); negative amounts
          are refused, deadlines only run forward.
        """
        _aware(start)
        if amount < 0:
            raise ValueError(f"amount must be >= 0, got {amount}")
        if unit in _ELAPSED:
            return (start + amount * _ELAPSED[unit]).astimezone(dt.UTC)
        if unit != "working_days":
            raise ValueError(f"unknown deadline unit {unit!r}")
        return self.advance(start, amount)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Number of working days in ``(start, end]``; 0 when ``end <= start``.

        Half-open so that ``add(s, n, "working_days")`` from a working time ``s`` lands on a
        date ``d`` with ``working_days_between(s_local_date, d) == n``.
        """
        day, end = _plain_date(start), _plain_date(end)
        count = 0
        while day < end:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count
