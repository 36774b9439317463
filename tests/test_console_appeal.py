"""A staff member appeals their own grade from the console (issue 13; [000 §篇8 4(3)1]).

The appeal form is the one console route the conflict-of-interest guard lets the person
named in the complaint send — mirroring the API's ``fileAppeal`` exemption; every other
form on that ticket still refuses them. Both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import graded_citybus
from litestar.testing import TestClient
from test_console_auth import csrf, login

from core.app import create_app
from core.people import guards
from core.settings import load_settings

CB = "citybus"


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_graded_staff_member_appeals_from_the_console_once(
    api: Any, web: TestClient[Any]
) -> None:
    t = graded_citybus(api)  # CB-S001 (staff-wang) graded main
    assert login(web, "staff-wang", tenant=CB).status_code == 303
    page = web.get(f"/tickets/{t['id']}").text
    assert f'action="/tickets/{t["id"]}/appeal"' in page and "申诉" in text(page)
    token = csrf(web, f"/tickets/{t['id']}")

    r = web.post(f"/tickets/{t['id']}/appeal", data={"_csrf_token": token, "reason": ""})
    assert r.status_code == 422 and "Traceback" not in r.text
    assert re.search(r'data-field="reason">[^<]*必填', r.text), text(r.text)[-400:]
    assert api.get(CB, "manager", f"/api/tickets/{t['id']}/appeals").json() == []

    r = web.post(
        f"/tickets/{t['id']}/appeal",
        data={"_csrf_token": token, "reason": "乘客先争执，我只是解释票价"},
        follow_redirects=False,
    )
    assert r.status_code == 303, text(r.text)[-400:]
    (appeal,) = api.get(CB, "manager", f"/api/tickets/{t['id']}/appeals").json()
    assert (appeal["staff"], appeal["status"]) == ("CB-S001", "pending")
    history = api.get(CB, "manager", f"/api/tickets/{t['id']}/history").json()
    assert history[-1]["action"] == "appeal_filed"
    assert f'action="/tickets/{t["id"]}/appeal"' not in web.get(f"/tickets/{t['id']}").text

    r = web.post(f"/tickets/{t['id']}/appeal", data={"_csrf_token": token, "reason": "再次申诉"})
    assert r.status_code == 409 and "Traceback" not in r.text
    assert re.search(r"id=\"page-error\">[^<]+", r.text)
    assert len(api.get(CB, "manager", f"/api/tickets/{t['id']}/appeals").json()) == 1


def test_the_exemption_covers_the_appeal_form_only(api: Any, web: TestClient[Any]) -> None:
    t = graded_citybus(api)
    assert login(web, "staff-wang", tenant=CB).status_code == 303
    token = csrf(web, f"/tickets/{t['id']}")
    clocks = api.get(CB, "manager", f"/api/tickets/{t['id']}/deadlines").json()
    step = next(c["step"] for c in clocks if c["state"] == "running")
    before = api.get(CB, "manager", f"/api/tickets/{t['id']}").json()["version"]
    for path, form in (
        (f"/tickets/{t['id']}/act/reply", {"version": str(before), "reply": "x"}),
        (f"/tickets/{t['id']}/clocks/{step}/pause", {"reason": "complainant_unreachable"}),
    ):
        r = web.post(path, data={"_csrf_token": token, **form})
        assert r.status_code == 403, path
        assert "你是此投诉中被投诉或被定责的人员" in r.text
    assert api.get(CB, "manager", f"/api/tickets/{t['id']}").json()["version"] == before
    # in the route table: the API's appeal route and this form, nothing else
    from core.app import create_app as build

    app = build(load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}))
    exempt = sorted(
        r.path
        for r in app.routes
        for h in getattr(r, "route_handlers", [])
        if (h.opt or {}).get(guards.EXEMPT)
    )
    assert exempt == ["/api/tickets/{ticket_id:int}/appeals", "/tickets/{ticket_id:int}/appeal"]


def test_a_staff_member_without_a_grade_gets_no_form_and_files_nothing(
    api: Any, web: TestClient[Any]
) -> None:
    t = graded_citybus(api)
    assert login(web, "supervisor", tenant=CB).status_code == 303
    assert f'action="/tickets/{t["id"]}/appeal"' not in web.get(f"/tickets/{t['id']}").text
    token = csrf(web, f"/tickets/{t['id']}")
    r = web.post(f"/tickets/{t['id']}/appeal", data={"_csrf_token": token, "reason": "x"})
    assert r.status_code == 403 and "Traceback" not in r.text
    assert api.get(CB, "manager", f"/api/tickets/{t['id']}/appeals").json() == []
