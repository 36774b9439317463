"""The reporting window: a month in the tenant's time zone, or any ``[from, to)`` range.

Months are counted in the tenant's own time zone (``tenant.config["timezone"]``), because a
complaint taken at 00:30 on the 1st in Shanghai belongs to that month there, whatever the
UTC date says. The customer count for 万户投诉比 is a tenant setting per period (domain §8).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from dateutil.relativedelta import relativedelta

from core.error_text import label_codes
from core.errors import Invalid
from core.penalties.service import period_bounds
from core.settings import tenant_zone

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


tenant_timezone = tenant_zone
"""A tenant's zone from its configuration (:func:`core.settings.tenant_zone`)."""


FIRST_MONTH = f"{EARLIEST:%Y}-01"
LAST_MONTH = f"{LATEST.year - 1}-12"
"""The report months: one bound (:data:`EARLIEST`, :data:`LATEST`) and one message."""
label_codes("bound", {"from": "起始时间（from）", "to": "截止时间（to）"})  # a window's end
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def check_month(label: str) -> None:
    """Raises Invalid (422, field ``period``) unless ``label`` is a ``YYYY-MM`` month from
    :data:`FIRST_MONTH` to :data:`LAST_MONTH` — the same words for every report."""
    if not _MONTH.fullmatch(label) or not EARLIEST.year <= int(label[:4]) < LATEST.year:
        raise Invalid(
            "period {label} is not a month from {first} to {last}",
            field="period",
            params={"label": repr(label[:20]), "first": FIRST_MONTH, "last": LAST_MONTH},
            rule=f"YYYY-MM from {FIRST_MONTH} to {LAST_MONTH}",
        )


def month(label: str, tz: str) -> Period:
    """The month ``label`` (``YYYY-MM``, :func:`check_month`) in zone ``tz``."""
    check_month(label)
    start, end = period_bounds(label, tz)
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
        raise Invalid(
            "{field} is missing",
            field=field,
            rule="from and to go together",
            params={"field": field},
        )
    for field, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise Invalid(
                "{field} has no time zone",
                field=field,
                rule="a timezone-aware ISO time",
                params={"field": field},
            )
    if start >= end:
        raise Invalid("from must be before to", field="to", rule="from < to")
    for field, value in (("from", start), ("to", end)):
        if not EARLIEST <= value <= LATEST:
            raise Invalid(
                "{bound}: outside {earliest} to {latest}",
                field=field,
                params={
                    "bound": field,
                    "earliest": f"{EARLIEST:%Y-%m-%d}",
                    "latest": f"{LATEST:%Y-%m-%d}",
                },
                rule=f"a time from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}",
            )
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise Invalid(
            "to: the window is longer than {n} days; ask for one year at a time",
            field="to",
            params={"n": MAX_DAYS},
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
