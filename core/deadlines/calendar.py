"""China working-day calendar for complaint deadlines (domain §6).

Deadlines such as "answer within 1 working day" follow the State Council's yearly holiday
schedule, which moves whole working days around: holidays are stretched into blocks and some
Saturdays/Sundays become working days (调休). That schedule is published each November and is
not computable, so it comes from the maintained ``holidays`` package (never hand-typed here):
``holidays.China(years=y).is_working_day(d)`` answers, from its days off and its make-up
working days (``.weekend_workdays``).

For a year the package has no official schedule for, a rule-based guess would silently move
due dates by days, so the default is to refuse (:class:`CalendarOutOfRange`); a tenant may opt
into a fallback. Upgrading ``holidays`` extends :func:`known_years` with no code change.

The module is pure: no I/O, no database; tenants' settings are passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays.countries import china as _china

from core.settings import DEFAULT_TIMEZONE

Fallback = Literal["error", "weekends", "rules"]
Unit = Literal["minutes", "hours", "calendar_days", "working_days"]

_FALLBACKS = ("error", "weekends", "rules")
ELAPSED = {
    "minutes": dt.timedelta(minutes=1),
    "hours": dt.timedelta(hours=1),
    "calendar_days": dt.timedelta(days=1),
}
"""The units of plain elapsed time, each as one step of it."""
_ONE_DAY = dt.timedelta(days=1)


class CalendarOutOfRange(ValueError):
    """A date falls in a year without an official schedule and no fallback is configured."""

    def __init__(self, day: dt.date, known: range) -> None:
        self.day = day
        self.known = known
        super().__init__(
            f"no official China working-day schedule for {day.isoformat()}: the installed "
            f"`holidays` package ({holidays.__version__}) knows {known.start}-{known.stop - 1}. "
            "Load the State Council's schedule once published (`tousu calendar load FILE`), "
            "upgrade `holidays`, or configure the tenant calendar fallback: 'weekends' "
            "(Mon-Fri working, no holidays) or 'rules' (rule-based statutory holidays, "
            "no make-up working days)."
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


class OfficialYear(NamedTuple):
    """One year's national schedule as the State Council published it, loaded from a file
    (:func:`parse_schedule`): every day off (weekend days inside a holiday block included or
    not — a weekend is off anyway) and every weekend day that is a working day (调休)."""

    year: int
    days_off: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str = ""
    example: bool = False
    """The file says it is an example, not the published schedule (``example = true``)."""


class ScheduleError(ValueError):
    """A schedule file that cannot be loaded: the message names the key and the rule."""


def parse_schedule(text: str) -> OfficialYear:
    """Read a schedule file (TOML; format in docs/deadlines.md "Loading next year's
    calendar")::

        year = 2027
        source = "国务院办公厅关于2027年部分节假日安排的通知"
        days_off = ["2027-01-01", ...]
        workdays = ["2027-02-07", ...]

    Raises :class:`ScheduleError` naming the key: a date outside ``year``, a date listed
    twice or in both lists, a make-up working day that is not a Saturday or Sunday, no day
    off at all."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"not a TOML file: {exc}") from exc
    unknown = set(data) - {"year", "source", "days_off", "workdays", "example"}
    if unknown:
        raise ScheduleError(f"unknown key(s) {sorted(unknown)}: year, source, days_off, workdays")
    year = data.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2200:
        raise ScheduleError("year: a four-digit year is required")
    source = data.get("source", "")
    if not isinstance(source, str) or len(source) > 200:
        raise ScheduleError("source: text of at most 200 characters")

    def dates(key: str) -> list[dt.date]:
        raw = data.get(key, [])
        if not isinstance(raw, list):
            raise ScheduleError(f"{key}: a list of dates (YYYY-MM-DD)")
        out = []
        for i, item in enumerate(raw):
            try:
                day = item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item))
            except ValueError as exc:
                raise ScheduleError(f"{key}[{i}]: {item!r} is not a date (YYYY-MM-DD)") from exc
            if isinstance(day, dt.datetime) or day.year != year:
                raise ScheduleError(f"{key}[{i}]: {day} is not a day of {year}")
            if day in out:
                raise ScheduleError(f"{key}[{i}]: {day} is listed twice")
            out.append(day)
        return out

    off, work = dates("days_off"), dates("workdays")
    if not off:
        raise ScheduleError("days_off: a year's schedule has days off (at least New Year)")
    if both := set(off) & set(work):
        raise ScheduleError(f"workdays: {sorted(both)[0]} is also a day off")
    for i, day in enumerate(work):
        if day.weekday() < 5:
            raise ScheduleError(f"workdays[{i}]: {day} is a weekday; 调休 moves weekend days")
    example = data.get("example", False)
    if not isinstance(example, bool):
        raise ScheduleError("example: true or false")
    return OfficialYear(year, frozenset(off), frozenset(work), source, example)


def missing_years(now: dt.datetime, loaded: Iterable[int] = ()) -> list[int]:
    """Years whose official schedule is missing and needed by ``now`` (UTC-aware): this year
    when neither the ``holidays`` package nor ``loaded`` (years loaded with ``tousu calendar
    load``) carries it, and next year from 1 November (Asia/Shanghai) — the State Council
    publishes it in the autumn — when missing. ``tousu check`` and the operator's view warn
    with it (issue 23 §6)."""
    local = _aware(now).astimezone(ZoneInfo("Asia/Shanghai"))
    have = set(known_years()) | set(loaded)
    wanted = [local.year] + ([local.year + 1] if local.month >= 11 else [])
    return [y for y in wanted if y not in have]


@lru_cache(maxsize=256)
def _national_year(year: int, fallback: Fallback) -> holidays.HolidayBase | None:
    """The national calendar of one year, whose ``is_working_day`` answers for its days;
    ``None`` means "out of range, fallback is error".

    Cached because ``add`` walks day by day and building a ``holidays`` object is slow.
    Only the PUBLIC category is used (the library's default): half-day holidays (Women's
    Day, Youth Day...) apply to some groups only and do not close a complaint desk.
    """
    if year in known_years() or fallback == "rules":
        # A known year: the published schedule, days off and make-up working days (调休).
        # "rules": the library's rule-based statutory days (with its weekend-to-Monday
        # shifts) and no make-up working days, which only exist in a published schedule
        # (a year past known_years() has none in the library's table).
        china: holidays.HolidayBase = holidays.China(years=year)  # untyped in the library
        return china
    if fallback == "weekends":
        return holidays.HolidayBase(years=year)  # Mon-Fri working, no holidays
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

    timezone: str = DEFAULT_TIMEZONE
    closures: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()
    hours: tuple[dt.time, dt.time] | None = None
    fallback: Fallback = "error"
    official: tuple[OfficialYear, ...] = ()
    """Years of the national schedule loaded by the operator (``tousu calendar load``, issue
    23 §6): they answer before the library, so a year the installed ``holidays`` does not
    carry is official as soon as the State Council publishes it."""

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
        object.__setattr__(self, "_loaded", {y.year: y for y in self.official})
        if self.hours is not None:
            start, end = self.hours
            if not start < end:
                raise ValueError("working hours must be a same-day window with start < end")

    def known(self) -> range:
        """The years with an official schedule: the library's, extended by loaded years
        that follow on."""
        years = known_years()
        stop = years.stop
        while stop in self._loaded:
            stop += 1
        return range(years.start, stop)

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
        loaded = self._loaded.get(day.year)
        if loaded is not None:
            if day in loaded.workdays:
                return True
            return day.weekday() < 5 and day not in loaded.days_off
        national = _national_year(day.year, self.fallback)
        if national is None:
            raise CalendarOutOfRange(day, self.known())
        return national.is_working_day(day)

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

    def _periods_from(
        self, at: dt.datetime, until: dt.date | None = None
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working periods that end after ``at``, in order (an endless walk: the caller stops).

        Starts one local day before ``at``'s, since a window-less day's period ends at the
        next midnight; a year outside the known schedule raises :class:`CalendarOutOfRange`.
        """
        day = self._local(at).date() - _ONE_DAY
        # About two years of days off in a row would be a misconfigured calendar, not a
        # deadline: stop rather than loop for ever.
        for _ in range(800):
            if until is not None and day > until:
                # no period of a later day can start before ``until`` ends: the walk stops
                # without asking the calendar about it (a window ending on 31 December
                # needs no schedule of the next year, issue 23 §6)
                return
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
        for opens, closes in self._periods_from(start, self._local(end).date()):
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
        if unit in ELAPSED:
            return (start + amount * ELAPSED[unit]).astimezone(dt.UTC)
        if unit != "working_days":
            raise ValueError(f"unknown deadline unit {unit!r}")
        return self.advance(start, amount)
