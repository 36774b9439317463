"""The reporting window: a month in the tenant's time zone, or any ``[from, to)`` range.

Months are counted in the tenant's own time zone (``tenant.config["timezone"]``), because a
complaint taken at 00:30 on the 1st in Shanghai belongs to that month there, whatever the
UTC date says. The customer count for 万户投诉比 is a tenant setting per period (domain §8).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from dateutil.relativedelta import relativedelta

from core.errors import Invalid
from core.penalties.service import DEFAULT_TZ, period_bounds

MAX_DAYS = 366
"""Longest ``from``/``to`` window: a year, so a trend has at most 53 weeks or 13 months and
a ledger export at most 13 months (a report is never a full-table scan)."""
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
"""Windows lie inside these years: complaints were not kept before, and not far ahead."""


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """``[start, end)`` in UTC; ``label`` is ``YYYY-MM`` when the window is one month."""

    start: dt.datetime
    end: dt.datetime
    timezone: str
    label: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.zone)

    @property
    def name(self) -> str:
        """A file-name-safe name: the month, or ``YYYYMMDD-YYYYMMDD`` (local dates)."""
        if self.label:
            return self.label
        last = self.local(self.end - dt.timedelta(microseconds=1))
        return f"{self.local(self.start):%Y%m%d}-{last:%Y%m%d}"

    def months(self) -> list[str]:
        """The ``YYYY-MM`` months (local) the window touches, in order."""
        first = self.local(self.start).date().replace(day=1)
        last = self.local(self.end - dt.timedelta(microseconds=1)).date()
        out = []
        while first <= last:
            out.append(f"{first:%Y-%m}")
            first += relativedelta(months=1)
        return out


def tenant_timezone(config: dict[str, Any] | None) -> str:
    tz = (config or {}).get("timezone") or DEFAULT_TZ
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_TZ
    return str(tz)


def month(label: str, tz: str) -> Period:
    start, end = period_bounds(label, tz)
    if not EARLIEST.year <= int(label[:4]) < LATEST.year:
        raise Invalid(
            f"period: {label} is outside {EARLIEST:%Y}-{LATEST:%Y}",
            field="period",
            rule=f"a month from {EARLIEST:%Y}-01 to {LATEST.year - 1}-12",
        )
    return Period(start=start, end=end, timezone=tz, label=label)


def resolve(
    config: dict[str, Any] | None,
    now: dt.datetime,
    period: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Period:
    """The window a request asks for: ``period`` (a month), or ``from`` and ``to``, or else
    the current month, all in the tenant's time zone."""
    tz = tenant_timezone(config)
    if period is not None and (start is not None or end is not None):
        raise Invalid("give either period or from/to, not both", field="period", rule="one window")
    if period is not None:
        return month(period, tz)
    if start is None and end is None:
        return month(f"{now.astimezone(ZoneInfo(tz)):%Y-%m}", tz)
    if start is None or end is None:
        field = "from" if start is None else "to"
        raise Invalid(f"{field} is missing", field=field, rule="from and to go together")
    for field, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise Invalid(
                f"{field} has no time zone", field=field, rule="a timezone-aware ISO time"
            )
    if start >= end:
        raise Invalid("from must be before to", field="to", rule="from < to")
    for field, value in (("from", start), ("to", end)):
        if not EARLIEST <= value <= LATEST:
            raise Invalid(
                f"{field}: outside {EARLIEST:%Y}-{LATEST:%Y}",
                field=field,
                rule=f"a time from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}",
            )
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise Invalid(
            f"to: the window is longer than {MAX_DAYS} days; ask for one year at a time",
            field="to",
            rule=f"to - from <= {MAX_DAYS} days",
        )
    return Period(start=start.astimezone(dt.UTC), end=end.astimezone(dt.UTC), timezone=tz)


def customers(config: dict[str, Any] | None, window: Period) -> int | None:
    """Customers served in the window: ``config["customers"]`` is one number, or a number per
    ``YYYY-MM`` (the month the window starts in is used). None when not configured."""
    value = (config or {}).get("customers")
    if isinstance(value, dict):
        value = value.get(window.months()[0])
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value
