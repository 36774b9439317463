"""Properties of working time (issue 11 "Prove it"), over generated calendars and clocks.

Calendars: China's national schedule (2025-2026, with its make-up working days) plus
generated tenant closures and extra working days, with or without a working-hours window,
in zones with and without daylight saving. Clocks: a start, a limit, then a generated
sequence of pauses/resumptions, extensions, calendar changes and severity (limit) changes.

Properties:
- a working-day due instant is always a working instant;
- the working time left at a pause is the working time left at the resumption;
- a clock recomputed after the changes equals one computed from scratch with the final
  calendar, and equals an independent event-by-event simulation of its remaining budget;
- a warning falls inside working time, strictly before the due instant, whenever the window
  has working time;
- whole working days land on the same local clock time N working days on (the day-walk
  rule of domain §6) wherever daylight saving does not change the day's length.
Bounded: each test sets ``max_examples`` (a few thousand cases in all, well under a minute).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.deadlines import engine
from core.deadlines.calendar import WorkingCalendar
from core.deadlines.models import StepClock
from core.rules import DeadlineTable
from core.tickets.models import Ticket

ZONES = [
    "Asia/Shanghai",  # no DST
    "Asia/Kolkata",  # no DST, half-hour offset
    "UTC",
    "Europe/London",  # DST: last Sunday of March / October at 01:00 UTC
    "America/New_York",  # DST: second Sunday of March, first Sunday of November
    "Australia/Sydney",  # DST the other way round (April / October)
]
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2026, 10, 31)  # the clocks end by 2026-12-31
PERCENT = 25
EPS = Fraction(1, 10**9)  # microsecond rounding on days whose length DST changed

days = st.dates(min_value=FIRST, max_value=LAST)


def _window(quarters: tuple[int, int]) -> tuple[dt.time, dt.time]:
    """From a start and a length in quarter hours: e.g. (34, 36) is 08:30-17:30."""
    start, length = quarters
    end = min(start + length, 95)
    return dt.time(start // 4, start % 4 * 15), dt.time(end // 4, end % 4 * 15)


windows = st.one_of(st.none(), st.tuples(st.integers(0, 48), st.integers(4, 56)).map(_window))


@st.composite
def calendars(draw: Any) -> WorkingCalendar:
    closures = draw(st.frozensets(days, max_size=12))
    extra = draw(st.frozensets(days, max_size=12)) - closures
    hours = draw(windows)
    return WorkingCalendar(
        timezone=draw(st.sampled_from(ZONES)),
        closures=closures,
        extra_workdays=extra,
        hours=hours,
    )


def instants(lo: dt.date = FIRST, hi: dt.date = LAST) -> Any:
    return st.datetimes(
        min_value=dt.datetime.combine(lo, dt.time()),
        max_value=dt.datetime.combine(hi, dt.time()),
        timezones=st.just(dt.UTC),
    ).map(lambda t: t.replace(second=0, microsecond=0))


def new_clock(start: dt.datetime, amount: int, unit: str) -> StepClock:
    return StepClock(
        step="reply",
        state="running",
        started_at=start,
        amount=amount,
        unit=unit,
        source="plugin",
        paused_seconds=0,
        warned_at=None,
        breached_at=None,
    )


def fresh(clock: StepClock) -> StepClock:
    """A new clock with the same inputs only (nothing of the old one's derived state)."""
    other = new_clock(clock.started_at, clock.amount, clock.unit)
    other.pauses = list(clock.pauses or ())
    other.extensions = list(clock.extensions or ())
    return other


def working_left(cal: WorkingCalendar, start: dt.datetime, end: dt.datetime) -> Fraction:
    return cal.working_time(start, end)


FAST = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


# ---------------------------------------------------------------- the calendar itself


@FAST
@given(cal=calendars(), start=instants(), amount=st.fractions(0, 12, max_denominator=97))
def test_advance_lands_in_working_time_and_inverts_working_time(cal, start, amount):
    due = cal.advance(start, amount)
    assert due >= start
    assert cal.in_working_hours(due), (due, cal)
    assert abs(cal.working_time(start, due) - amount) <= EPS
    # It is the first such working instant.
    before = due - dt.timedelta(milliseconds=1)
    if before >= start and cal.in_working_hours(before):
        assert cal.working_time(start, before) < amount


@FAST
@given(cal=calendars(), start=instants(), n=st.integers(0, 10))
def test_whole_working_days_keep_the_local_clock_time(cal, start, n):
    """Domain §6: N working days after a working instant is the same local clock time on
    the N-th following working day — checked by an independent walk over the days."""
    zone = ZoneInfo(cal.timezone)
    begin = cal.next_working_time(start)
    local = begin.astimezone(zone)
    day = local.date()
    for _ in range(n):
        day += dt.timedelta(days=1)
        while not cal.is_working_day(day):
            day += dt.timedelta(days=1)
    expected = dt.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone)
    got = cal.add(start, n, "working_days")
    first, last = cal.period(local.date()), cal.period(day)
    assert first is not None and last is not None
    if first[1] - first[0] == last[1] - last[0] and expected.utcoffset() == local.utcoffset():
        assert got == expected.astimezone(dt.UTC), (got, expected, cal)


# ---------------------------------------------------------------- clocks and their operations

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("pause"), st.integers(0, 6 * 24 * 60), st.integers(1, 8 * 24 * 60)),
        st.tuples(st.just("extend"), st.integers(1, 4), st.sampled_from(["working_days", "hours"])),
        st.tuples(st.just("close"), st.integers(0, 20)),
        st.tuples(st.just("open"), st.integers(0, 20)),
        st.tuples(st.just("severity"), st.integers(1, 6)),
    ),
    max_size=8,
)


def simulate(
    cal: WorkingCalendar, clock: StepClock, ops: list[Any], now: dt.datetime
) -> tuple[WorkingCalendar, list[str]]:
    """Apply ``ops`` as the service does (set_times after each, with the calendar of that
    moment); check the pause property on the way. Returns the final calendar."""
    table = DeadlineTable(rules=(), warn_before_percent=PERCENT)
    ticket = Ticket(severity="general")
    engine.set_times(cal, clock, table, ticket)
    log = []
    for op in ops:
        kind = op[0]
        if kind == "pause":
            paused = now + dt.timedelta(minutes=op[1])
            resumed = paused + dt.timedelta(minutes=op[2])
            if paused >= clock.due_at:
                continue
            left = cal.working_time(paused, clock.due_at)
            wall = clock.due_at - paused
            clock.state, clock.paused_at = "paused", paused
            engine.close_pause(clock, resumed)
            clock.state = "running"
            engine.set_times(cal, clock, table, ticket)
            now = resumed
            if clock.unit == "working_days" and all(
                u == "working_days" for _, u, _ in clock.extensions or ()
            ):
                # Issue 11 §1: the working time left is preserved across the pause.
                assert abs(cal.working_time(resumed, clock.due_at) - left) <= EPS, (op, cal)
            elif not clock.extensions and clock.unit != "working_days":
                assert clock.due_at - resumed == wall
        elif kind == "extend":
            clock.extensions = [*(clock.extensions or ()), [op[1], op[2], now.isoformat()]]
        elif kind in ("close", "open"):
            day = (
                clock.due_at.astimezone(ZoneInfo(cal.timezone)) - dt.timedelta(days=op[1])
            ).date()
            closures, extra = set(cal.closures), set(cal.extra_workdays)
            closures.discard(day), extra.discard(day)
            (closures if kind == "close" else extra).add(day)
            cal = WorkingCalendar(
                timezone=cal.timezone, closures=closures, extra_workdays=extra, hours=cal.hours
            )
        else:  # a severity change re-reads the limit
            clock.amount = op[1]
        engine.set_times(cal, clock, table, ticket)
        log.append(kind)
    return cal, log


def oracle(cal: WorkingCalendar, clock: StepClock) -> dt.datetime:
    """Event by event: spend the budget between pauses, add each extension when reached.

    Independent of the engine's leg-by-leg walk: the remaining working time is carried
    through the pauses explicitly (only for clocks entirely in working days)."""
    legs = [Fraction(clock.amount)] + [Fraction(a) for a, _, _ in clock.extensions or ()]
    pauses = engine.closed_pauses(clock)
    left, cursor = sum(legs), clock.started_at
    for paused, resumed in pauses:
        if resumed <= cursor:
            continue
        if paused > cursor:
            spent = cal.working_time(cursor, paused)
            if spent > left:
                break
            left -= spent
        cursor = max(cursor, resumed)
    return cal.advance(cursor, left)


@settings(
    max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    cal=calendars(),
    start=instants(hi=dt.date(2026, 8, 31)),
    amount=st.integers(0, 8),
    unit=st.sampled_from(["working_days", "working_days", "hours", "calendar_days"]),
    ops=OPS,
)
def test_clock_operations(cal, start, amount, unit, ops):
    clock = new_clock(start, amount, unit)
    final, _ = simulate(cal, clock, ops, start)
    # Recomputed after every change == computed from scratch with the final calendar.
    table = DeadlineTable(rules=(), warn_before_percent=PERCENT)
    again = fresh(clock)
    engine.set_times(final, again, table, Ticket(severity="general"))
    assert (again.due_at, again.warn_at) == (clock.due_at, clock.warn_at)
    all_working = unit == "working_days" and all(
        u == "working_days" for _, u, _ in clock.extensions or ()
    )
    if all_working:
        assert final.in_working_hours(clock.due_at), (clock.due_at, final)
        assert abs(final.working_time(oracle(final, clock), clock.due_at)) <= EPS
        assert abs(final.working_time(clock.due_at, oracle(final, clock))) <= EPS
    # The warning: inside working time, strictly before due, when the window has any.
    since = dt.datetime.fromisoformat(clock.extensions[-1][2]) if clock.extensions else start
    budget = engine._working_left(final, since, clock.due_at, engine.closed_pauses(clock))
    if budget > 0:
        assert final.in_working_hours(clock.warn_at), (clock.warn_at, final)
        assert since <= clock.warn_at < clock.due_at
        for paused, resumed in engine.closed_pauses(clock):
            assert not paused <= clock.warn_at < resumed  # never while paused
    else:
        assert clock.warn_at == clock.due_at


@FAST
@given(cal=calendars(), start=instants(hi=dt.date(2026, 8, 31)), amount=st.integers(1, 5))
def test_out_of_hours_start_warns_in_working_time(cal, start, amount):
    """Issue 11 §3 as a property: whatever the hour a clock starts, its warning is a working
    instant strictly before the due instant (a working-day clock always has working time)."""
    clock = new_clock(start, amount, "working_days")
    engine.set_times(
        cal,
        clock,
        DeadlineTable(rules=(), warn_before_percent=PERCENT),
        Ticket(severity="general"),
    )
    assert cal.in_working_hours(clock.warn_at)
    assert start <= clock.warn_at < clock.due_at
    left = cal.working_time(clock.warn_at, clock.due_at)
    assert abs(left - Fraction(amount * PERCENT, 100)) <= EPS


# ---------------------------------------------------------------- report dates on both backends

DST_EDGES = [  # moments near daylight-saving changes and month ends, where offsets matter
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),  # Europe/London springs forward
    dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC),  # 07-01 00:30 in London (issue 11 §4)
    dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC),  # Europe/London falls back
    dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC),  # America/New_York springs forward
    dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC),  # America/New_York falls back
    dt.datetime(2026, 4, 4, 16, 0, tzinfo=dt.UTC),  # Australia/Sydney falls back
    dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC),  # 11-01 00:00 in Shanghai
]
near_edges = st.tuples(st.sampled_from(DST_EDGES), st.integers(-26 * 60, 26 * 60)).map(
    lambda a: a[0] + dt.timedelta(minutes=a[1])
)
moments = st.lists(st.one_of(near_edges, instants(dt.date(2026, 1, 1))), min_size=1, max_size=25)


def _label(moment: dt.datetime, zone: str, granularity: str) -> str:
    day = moment.astimezone(ZoneInfo(zone)).date()
    if granularity == "month":
        return f"{day:%Y-%m}"
    if granularity == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    return day.isoformat()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    zone=st.sampled_from(ZONES),
    at=moments,
    granularity=st.sampled_from(["day", "week", "month"]),
    margin=st.integers(0, 40 * 24 * 60),
)
def test_report_buckets_are_local_dates_on_both_backends(api, zone, at, granularity, margin):
    """Issue 11 §4: the day, week and month a stored UTC time is counted in is its date in
    the tenant's zone, computed by the database (SQLite and PostgreSQL alike) — checked
    against Python's zone conversion for generated moments around DST changes."""
    from conftest import run_db
    from sqlalchemy import literal, select, union_all

    from core.db import UTCDateTime
    from core.reports import sql
    from core.reports.period import Period

    window = Period(
        start=min(at) - dt.timedelta(minutes=margin),
        end=max(at) + dt.timedelta(minutes=1 + margin),
        timezone=zone,
    )
    rows = union_all(
        *(
            select(literal(i).label("i"), literal(m, UTCDateTime()).label("at"))
            for i, m in enumerate(at)
        )
    ).subquery("v")

    async def go(db: Any) -> dict[int, str]:
        async with db.cross_tenant() as session:
            key = sql.bucket(None, rows.c.at, window, granularity)  # type: ignore[arg-type]
            got = await session.execute(select(rows.c.i, key))
            return {int(i): str(label) for i, label in got}

    got = run_db(api, go)
    assert got == {i: _label(m, zone, granularity) for i, m in enumerate(at)}
    assert set(got.values()) <= set(sql.buckets(window, granularity))
