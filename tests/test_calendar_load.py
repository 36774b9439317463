"""The working calendar past 2026 (issue 23 §6), through HTTP and the CLI, on both backends.

``holidays`` 0.109 carries China's schedule up to 2026. An estimate never blocks a decision
and is shown as one (``source: "estimate"``); the operator loads next year's schedule with
``tousu calendar load FILE`` (calendars/china-2027.example.toml is an example, not the State
Council's notice) and the clocks are recomputed; a window that ends on 31 December asks
nothing of the next year. The loaded year is removed again at the end of each test: the
database is shared by the session.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import cst, make_operator, ts
from dutykit import TENANTS, history, walk

from core import clock
from core.cli import main
from core.deadlines.calendar import known_years, missing_years

U = "riverside-power"
EXAMPLE = Path(__file__).resolve().parent.parent / "calendars" / "china-2027.example.toml"
CST = dt.timezone(dt.timedelta(hours=8))

pytestmark = pytest.mark.skipif(
    2027 in known_years(), reason="the installed holidays package already carries 2027"
)


def clocks(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(U, "manager", f"/api/tickets/{t['id']}/deadlines")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def running(api: Any, t: dict[str, Any], step: str) -> dict[str, Any]:
    (found,) = [c for c in clocks(api, t) if c["step"] == step and c["state"] == "running"]
    return found


def extend(api: Any, t: dict[str, Any], amount: int = 3) -> Any:
    """Ask 3 more working days on the reply (the complainant told first, 第十五条) and have
    the manager approve."""
    told = {"by": "head-chengguan", "at": "2026-12-30T10:00:00+08:00", "how": "phone"}
    r = api.post(U, TENANTS[U]["head"], f"/api/tickets/{t['id']}/deadlines/reply/extensions",
                 json={"amount": amount, "unit": "working_days", "reason": "parts on order",
                       "complainant_told": told})  # fmt: skip
    assert r.status_code == 201, r.text
    return api.post(U, "manager", f"/api/extensions/{r.json()['id']}/approve",
                    json={"reason": "ok"})  # fmt: skip


def cli(api: Any, monkeypatch: Any, *args: str) -> int:
    monkeypatch.setenv("DATABASE_URL", api.url)
    return main(["calendar", *args])


def test_reply_due_on_31_december_is_not_an_estimate(api):
    """Dispatched Fri 2026-12-25 10:00, the unit's 4 working days [002 第十五条] end Thu
    2026-12-31 10:00: no day of 2027 touches the window, so the clock is the plugin's, not
    an estimate (its warning point was computed by asking about 1 January)."""
    clock.travel_to(cst(2026, 12, 25, 10, 0))
    t = walk(api, U, "dispatched")
    reply = running(api, t, "reply")
    assert ts(reply["due_at"]).astimezone(CST).date() == dt.date(2026, 12, 31)
    assert reply["source"] == "plugin", reply


def test_an_extension_into_2027_is_approved_as_an_estimate_then_made_official(
    api, monkeypatch, capsys
):
    """情况复杂的…时限可以适当延长 [002 第十五条]: the extension across New Year is approved (it
    was 422 "no official China working-day schedule for 2027-01-01"), shown as an estimate;
    ``tousu calendar load`` of the 2027 file recomputes it (the history says so) and a
    second extension across New Year is approved as official."""
    clock.travel_to(cst(2026, 12, 25, 10, 0))
    t = walk(api, U, "in_progress")
    clock.travel_to(cst(2026, 12, 30, 10, 0))
    r = extend(api, t)
    assert r.status_code == 200, r.text
    reply = running(api, t, "reply")
    assert reply["source"] == "estimate", reply
    try:
        assert cli(api, monkeypatch, "load", str(EXAMPLE)) == 2  # an example: refused …
        assert "example" in capsys.readouterr().err
        assert cli(api, monkeypatch, "load", str(EXAMPLE), "--allow-example") == 0  # … unless
        out = capsys.readouterr().out
        assert "calendar 2027 loaded" in out, out
        reply = running(api, t, "reply")
        assert reply["source"] == "extension", reply
        # 12-31 10:00 + 3 working days of the file: 1-3 Jan off → Mon 4, Tue 5, Wed 6 Jan
        due = ts(reply["due_at"]) - dt.datetime(2027, 1, 6, 10, 0, tzinfo=CST)
        assert dt.timedelta(0) <= due < dt.timedelta(minutes=1), reply
        assert "calendar_retimed" in [e["action"] for e in history(api, U, t)]
        other = walk(api, U, "in_progress")  # started 12-30: due Tue 2027-01-05 by the file
        r = extend(api, other, 1)
        assert r.status_code == 200, r.text
        assert running(api, other, "reply")["source"] == "extension"
    finally:
        assert cli(api, monkeypatch, "remove", "2027") == 0


def test_the_operator_is_warned_from_1_november_when_next_year_is_missing(api, monkeypatch):
    """The State Council publishes next year's schedule in the autumn: from 1 November the
    platform operator's view names the missing year; after loading, it does not."""
    op = make_operator(api)
    clock.travel_to(cst(2026, 10, 31, 12, 0))
    r = api.client.get("/api/platform/calendar", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["missing"] == [] and r.json()["warning"] is None
    clock.travel_to(cst(2026, 11, 1, 9, 0))
    body = api.client.get("/api/platform/calendar", headers=op).json()
    assert body["missing"] == [2027] and "tousu calendar load" in body["warning"]
    assert missing_years(cst(2026, 11, 1, 9, 0)) == [2027]
    assert missing_years(cst(2026, 11, 1, 9, 0), [2027]) == []
    assert api.get(U, "manager", "/api/platform/calendar").status_code == 403
    try:
        assert cli(api, monkeypatch, "load", str(EXAMPLE), "--allow-example") == 0
        body = api.client.get("/api/platform/calendar", headers=op).json()
        assert body["missing"] == [] and body["loaded"][0]["year"] == 2027
    finally:
        assert cli(api, monkeypatch, "remove", "2027") == 0


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("year = 2027\ndays_off = ['2026-12-31']", "days_off[0]"),
        ("year = 2027\ndays_off = ['2027-01-01']\nworkdays = ['2027-01-04']", "workdays[0]"),
        ("year = 2027\ndays_off = []", "days_off"),
        ("year = 2027\ndays_off = ['2027-01-01']\nholidays = []", "unknown key"),
    ],
)
def test_a_bad_schedule_file_is_refused_naming_the_key(tmp_path, monkeypatch, capsys, text, names):
    """A bad file never reaches the database: exit 2 and one line naming the key."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["calendar", "load", str(path)]) == 2
    assert names in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()
