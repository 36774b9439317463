"""Times of things that already happened are not in the future nor in the far past.

``event_time`` at intake, ``contacted_at`` at first contact and ``complainant_told.at`` on
an extension request record when something happened: a time later than now (+ 5 minutes of
clock skew) or before a sane floor (the ticket's received time where the event follows it,
else 2000-01-01) is a 422 naming the field, in Chinese by default
(:func:`core.clock.check_past`). Both backends, through HTTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dutykit import TENANTS, error, post_action, walk

from core import clock

G, U = "greenwood", "riverside-power"


def _iso(delta: dt.timedelta) -> str:
    return (clock.now() + delta).isoformat()


@pytest.mark.parametrize(
    "when",
    ["2099-01-01T08:00:00+08:00", "1900-01-01T00:00:00Z", "1999-12-31T23:59:00Z", "+1h"],
)
def test_intake_refuses_an_event_time_in_the_future_or_far_past(api: Any, when: str) -> None:
    value = _iso(dt.timedelta(hours=1)) if when == "+1h" else when
    r = api.post(G, "clerk", "/api/tickets", json={
        "channel": "phone", "description": "电梯坏了", "event_time": value,
        "complainant": {"name": "张三丰", "contact": "13812345678", "address": "1栋"},
    })  # fmt: skip
    assert r.status_code == 422, r.text
    assert error(r)["field"] == "event_time", r.text
    # the field's label (事发时间), not its code, in the Chinese message
    assert "事发时间" in error(r)["message"] and "不能" in error(r)["message"], r.text
    assert "event_time" not in error(r)["message"] and "UTC" not in error(r)["message"], r.text


def test_intake_takes_a_past_event_time_and_a_little_clock_skew(api: Any) -> None:
    for value in ("2000-01-01T00:00:00Z", _iso(-dt.timedelta(days=3)),
                  _iso(dt.timedelta(minutes=2))):  # fmt: skip
        t = api.create(G, event_time=value)
        assert t["event_time"] is not None


@pytest.mark.parametrize("when", ["2099-01-01T10:00:00+08:00", "future", "before_received"])
def test_first_contact_refuses_a_time_not_yet_come_or_before_the_ticket(
    api: Any, when: str
) -> None:
    t = walk(api, G, "dispatched")
    head = TENANTS[G]["head"]
    value = {
        "2099-01-01T10:00:00+08:00": when,
        "future": _iso(dt.timedelta(minutes=30)),
        "before_received": (dt.datetime.fromisoformat(t["created_at"])
                            - dt.timedelta(days=1)).isoformat(),
    }[when]  # fmt: skip
    r = post_action(api, G, head, t, "first_contact", note="called", contacted_at=value)
    assert r.status_code == 422, r.text
    assert error(r)["field"] == "contacted_at", r.text
    # nothing was written: the ticket is still dispatched, at the same version
    again = api.get(G, head, f"/api/tickets/{t['id']}").json()
    assert again["state"] == "dispatched" and again["version"] == t["version"]
    done = api.act(G, head, t, "first_contact", note="called", contacted_at=_iso(-dt.timedelta(0)))
    assert done["state"] == "in_progress"


def test_an_extension_refuses_a_telling_before_the_ticket(api: Any) -> None:
    t = walk(api, U, "in_progress")
    head = TENANTS[U]["head"]
    told = {"by": head, "at": "1900-01-01T00:00:00Z", "how": "phone"}
    r = api.post(U, head, f"/api/tickets/{t['id']}/deadlines/reply/extensions",
                 json={"amount": 1, "unit": "working_days", "reason": "parts on order",
                       "complainant_told": told})  # fmt: skip
    assert r.status_code == 422 and error(r)["field"] == "complainant_told.at", r.text
