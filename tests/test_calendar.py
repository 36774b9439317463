"""China working-day calendar (core.deadlines.calendar, domain §6).

Dates below are pinned from the State Council notices for 2025 (国办发明电〔2024〕12号) and
2026 (published Nov 2025), as returned by the `holidays` package and cross-checked by hand.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.deadlines.calendar import CalendarOutOfRange, WorkingCalendar, known_years

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
WINDOW = WorkingCalendar(hours=(dt.time(8, 30), dt.time(17, 30)))


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def sh(s: str) -> dt.datetime:
    """Shanghai local time."""
    return dt.datetime.fromisoformat(s).replace(tzinfo=SH)


def days(first: str, last: str) -> list[dt.date]:
    a, b = d(first), d(last)
    return [a + dt.timedelta(n) for n in range((b - a).days + 1)]


# --- the national schedule -------------------------------------------------------------------

MAKE_UP_WORKDAYS = [
    "2025-01-26",  # Sun, Spring Festival
    "2025-02-08",  # Sat, Spring Festival
    "2025-04-27",  # Sun, Labour Day
    "2025-09-28",  # Sun, National Day + Mid-Autumn
    "2025-10-11",  # Sat, National Day + Mid-Autumn
    "2026-01-04",  # Sun, New Year
    "2026-02-14",  # Sat, Spring Festival
    "2026-02-28",  # Sat, Spring Festival
    "2026-05-09",  # Sat, Labour Day
    "2026-09-20",  # Sun, National Day
    "2026-10-10",  # Sat, National Day
]

DAYS_OFF = [
    *days("2025-01-28", "2025-02-04"),  # Spring Festival, 8 days
    *days("2025-04-04", "2025-04-06"),  # Qingming
    *days("2025-05-01", "2025-05-05"),  # Labour Day
    *days("2025-05-31", "2025-06-02"),  # Dragon Boat
    *days("2025-10-01", "2025-10-08"),  # National Day + Mid-Autumn
    *days("2026-01-01", "2026-01-03"),  # New Year
    *days("2026-02-15", "2026-02-23"),  # Spring Festival, 9 days
    *days("2026-04-04", "2026-04-06"),  # Qingming
    *days("2026-05-01", "2026-05-05"),  # Labour Day
    *days("2026-06-19", "2026-06-21"),  # Dragon Boat
    *days("2026-09-25", "2026-09-27"),  # Mid-Autumn
    *days("2026-10-01", "2026-10-07"),  # National Day
]


@pytest.mark.parametrize("day", MAKE_UP_WORKDAYS)
def test_make_up_weekend_days_are_working_days(day):
    assert d(day).weekday() >= 5
    assert CAL.is_working_day(d(day))


@pytest.mark.parametrize("day", DAYS_OFF, ids=str)
def test_holiday_blocks_are_off(day):
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    "day", ["2025-01-27", "2025-02-05", "2025-10-09", "2026-02-24", "2026-10-08"]
)
def test_first_and_last_days_around_blocks_are_working(day):
    assert CAL.is_working_day(d(day))


def test_ordinary_weekend_is_off_and_weekday_is_working():
    assert not CAL.is_working_day(d("2025-03-08"))  # Sat
    assert CAL.is_working_day(d("2025-03-10"))  # Mon


def test_known_years_come_from_the_library():
    years = known_years()
    assert 2025 in years and 2026 in years
    assert years.start <= 2001


# --- add(): working days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Friday before Spring Festival 2026: Sat 14 make-up (1), 15-23 off, 24 (2), 25 (3), 26 (4).
        ("2026-02-13 10:00", 4, "2026-02-26 10:00"),
        # Fri + 1 working day = the Sunday make-up day.
        ("2025-09-26 10:00", 1, "2025-09-28 10:00"),
        # 2025-09-30 (a Tuesday) + 1 -> after the Oct 1-8 block.
        ("2025-09-30 10:00", 1, "2025-10-09 10:00"),
        ("2026-09-18 10:00", 1, "2026-09-20 10:00"),
        # Oct 10 (Sat) is a make-up day in 2026.
        ("2026-10-09 16:00", 1, "2026-10-10 16:00"),
        ("2025-12-31 09:00", 1, "2026-01-04 09:00"),
    ],
)
def test_add_working_days(start, n, due):
    got = CAL.add(sh(start), n, "working_days")
    assert got == sh(due)
    assert got.tzinfo == dt.UTC


def test_input_in_another_zone_is_read_in_tenant_local_time():
    # 2026-02-13 17:00Z is Sat 2026-02-14 01:00 in Shanghai, a make-up working day.
    start = dt.datetime(2026, 2, 13, 17, 0, tzinfo=dt.UTC)
    assert CAL.in_working_hours(start)
    assert CAL.add(start, 1, "working_days") == sh("2026-02-24 01:00")


def test_start_on_a_non_working_day_is_moved_first():
    # No window: moved to Tue 2026-02-24 00:00, one whole working day later.
    assert CAL.add(sh("2026-02-21 15:00"), 1, "working_days") == sh("2026-02-25 00:00")
    assert CAL.add(sh("2026-02-21 15:00"), 0, "working_days") == sh("2026-02-24 00:00")


def test_zero_returns_start():
    start = sh("2026-03-03 11:11")
    assert CAL.add(start, 0, "working_days") == start
    assert CAL.add(start, 0, "hours") == start


def test_elapsed_units_ignore_the_calendar():
    start = sh("2026-02-14 23:00")
    assert CAL.add(start, 2, "hours") == sh("2026-02-15 01:00")
    assert CAL.add(start, 90, "minutes") == sh("2026-02-15 00:30")
    assert CAL.add(start, 2, "calendar_days") == sh("2026-02-16 23:00")


def test_tenant_closure_pushes_due_date():
    cal = WorkingCalendar(closures=frozenset({d("2026-02-25")}))
    assert not cal.is_working_day(d("2026-02-25"))
    assert cal.add(sh("2026-02-13 10:00"), 4, "working_days") == sh("2026-02-27 10:00")


def test_tenant_extra_workday_pulls_due_date_in():
    cal = WorkingCalendar(extra_workdays=frozenset({d("2026-02-23")}))
    assert cal.is_working_day(d("2026-02-23"))
    assert cal.add(sh("2026-02-13 10:00"), 4, "working_days") == sh("2026-02-25 10:00")


def working_days_between(cal: WorkingCalendar, start: dt.date, end: dt.date) -> int:
    """The test's oracle: working days in ``(start, end]``, counted one by one (0 when
    ``end <= start``); ``add(s, n, "working_days")`` from a working time ``s`` lands on a
    date ``d`` with ``working_days_between(cal, s_local_date, d) == n``."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += cal.is_working_day(day)
    return count


def test_working_days_between():
    assert working_days_between(CAL, d("2026-02-13"), d("2026-02-26")) == 4
    assert working_days_between(CAL, d("2025-09-30"), d("2025-10-09")) == 1
    assert working_days_between(CAL, d("2026-02-26"), d("2026-02-13")) == 0


# --- working-hours window --------------------------------------------------------------------


def test_window_membership_is_half_open():
    assert WINDOW.in_working_hours(sh("2026-03-03 08:30"))
    assert WINDOW.in_working_hours(sh("2026-03-03 17:29"))
    assert not WINDOW.in_working_hours(sh("2026-03-03 17:30"))
    assert not WINDOW.in_working_hours(sh("2026-03-03 08:29"))
    assert not WINDOW.in_working_hours(sh("2026-02-16 10:00"))  # Spring Festival


def test_next_working_time():
    inside = sh("2026-03-03 10:00")
    assert WINDOW.next_working_time(inside) == inside
    assert WINDOW.next_working_time(sh("2026-03-03 07:00")) == sh("2026-03-03 08:30")
    # Friday evening before Spring Festival -> Saturday make-up day.
    assert WINDOW.next_working_time(sh("2026-02-13 18:00")) == sh("2026-02-14 08:30")
    assert WINDOW.next_working_time(sh("2026-02-14 18:00")) == sh("2026-02-24 08:30")
    assert CAL.next_working_time(sh("2026-02-15 12:00")) == sh("2026-02-24 00:00")


def test_add_with_window():
    # Inside the window: same clock time.
    assert WINDOW.add(sh("2026-02-13 10:00"), 4, "working_days") == sh("2026-02-26 10:00")
    # After hours: moved to Sat 02-14 08:30 (make-up day), then 1 working day on.
    assert WINDOW.add(sh("2026-02-13 18:00"), 1, "working_days") == sh("2026-02-24 08:30")
    # Before hours on a working day: moved to the same day's opening.
    assert WINDOW.add(sh("2026-03-03 07:00"), 1, "working_days") == sh("2026-03-04 08:30")


def test_other_tenant_time_zone():
    cal = WorkingCalendar(timezone="Asia/Urumqi", hours=(dt.time(9), dt.time(18)))
    # 09:30 in Shanghai is 07:30 in Urumqi (UTC+6): before that tenant's window.
    assert not cal.in_working_hours(sh("2026-03-03 09:30"))
    urumqi = ZoneInfo("Asia/Urumqi")
    assert cal.next_working_time(sh("2026-03-03 09:30")) == dt.datetime(
        2026, 3, 3, 9, tzinfo=urumqi
    )


# --- outside the known years -----------------------------------------------------------------


def test_unknown_year_raises_with_clear_message():
    last = known_years().stop - 1
    day = dt.date(last + 1, 3, 1)
    with pytest.raises(CalendarOutOfRange) as err:
        CAL.is_working_day(day)
    msg = str(err.value)
    assert day.isoformat() in msg
    assert f"{known_years().start}-{last}" in msg
    assert "fallback" in msg and "'weekends'" in msg and "'rules'" in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(CalendarOutOfRange):
        CAL.add(sh(f"{last}-12-30 10:00"), 10, "working_days")


def test_2027_uses_fallbacks():
    weekends = WorkingCalendar(fallback="weekends")
    rules = WorkingCalendar(fallback="rules")
    # 2027-02-08 (Mon) is Spring Festival day 3 by rule; 2027-02-09 a rule-based in-lieu day.
    assert weekends.is_working_day(d("2027-02-08"))
    assert not rules.is_working_day(d("2027-02-08"))
    assert not rules.is_working_day(d("2027-02-09"))
    assert rules.is_working_day(d("2027-02-11"))
    # No make-up working days without an official schedule.
    assert not rules.is_working_day(d("2027-02-20"))  # Sat
    assert weekends.add(sh("2027-02-05 10:00"), 1, "working_days") == sh("2027-02-08 10:00")
    assert rules.add(sh("2027-02-04 10:00"), 1, "working_days") == sh("2027-02-11 10:00")


def test_tenant_dates_answer_even_outside_known_years():
    cal = WorkingCalendar(extra_workdays=frozenset({d("2030-01-05")}))
    assert cal.is_working_day(d("2030-01-05"))


# --- validation ------------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    naive = dt.datetime(2026, 3, 3, 10, 0)
    for call in (
        lambda: CAL.add(naive, 1, "working_days"),
        lambda: CAL.add(naive, 1, "hours"),
        lambda: CAL.in_working_hours(naive),
        lambda: CAL.next_working_time(naive),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


def test_bad_configuration_and_arguments():
    with pytest.raises(ValueError):
        WorkingCalendar(timezone="Mars/Olympus")
    with pytest.raises(ValueError):
        WorkingCalendar(hours=(dt.time(18), dt.time(9)))
    with pytest.raises(ValueError):
        WorkingCalendar(
            closures=frozenset({d("2026-03-03")}), extra_workdays=frozenset({d("2026-03-03")})
        )
    with pytest.raises(ValueError):
        CAL.add(sh("2026-03-03 10:00"), -1, "working_days")
    with pytest.raises(ValueError):
        CAL.add(sh("2026-03-03 10:00"), 1, "fortnights")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        CAL.is_working_day(sh("2026-03-03 10:00"))


def test_calendar_is_hashable_with_plain_sets():
    cal = WorkingCalendar(closures={d("2026-03-03")})  # type: ignore[arg-type]
    assert hash(cal) == hash(WorkingCalendar(closures=frozenset({d("2026-03-03")})))


# --- property --------------------------------------------------------------------------------

# Starts end mid-November 2026 so that 30 working days stay inside the known years.
starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2026, 11, 15, 23, 59),
    timezones=st.just(SH),
)


@given(start=starts, n=st.integers(0, 29), cal=st.sampled_from([CAL, WINDOW]))
def test_working_day_property(start, n, cal):
    due = cal.add(start, n, "working_days")
    later = cal.add(start, n + 1, "working_days")
    assert due < later
    assert cal.in_working_hours(due)
    if n > 0:
        assert cal.is_working_day(due.astimezone(SH).date())
    if cal.in_working_hours(start):
        # Compare local dates: the UTC date of `due` may be the day before.
        assert working_days_between(cal, start.date(), due.astimezone(SH).date()) == n
