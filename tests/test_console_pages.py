"""Console pages over HTTP on both backends: the same tenant boundary and masking as the
API, every code shown by its label, English as the second language (issue 13 item 2)."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import csrf, login

from core.app import create_app
from core.console import labels
from core.console.messages import missing
from core.people.roles import Role
from core.plugins import hooks_for, plugin_names
from core.settings import load_settings
from core.tickets import schemas as ts
from core.tickets.lifecycle import TRANSITIONS, State


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings({"DATABASE_URL": api.url}))
    with TestClient(app) as client:
        yield client


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_core_code_has_a_label_and_every_message_a_chinese_translation() -> None:
    assert set(State) <= set(labels.STATES)
    assert set(TRANSITIONS) <= set(labels.ACTIONS)
    assert set(typing.get_args(ts.Channel)) <= set(labels.CHANNELS)
    assert {r.value for r in Role} <= set(labels.ROLES)
    for name in plugin_names():
        steps = {r.step for r in hooks_for(name).deadlines().rules}
        assert steps <= set(labels.STEPS), name
    assert missing("zh_CN") == []


def test_another_tenants_ticket_is_404_in_the_console_too(api: Any, web: TestClient[Any]) -> None:
    theirs = api.create("citybus")
    assert login(web, "manager").status_code == 303
    r = web.get(f"/tickets/{theirs['id']}")
    assert r.status_code == 404 and theirs["number"] not in r.text
    assert "Traceback" not in r.text
    token = csrf(web, "/")
    r = web.post(
        f"/tickets/{theirs['id']}/act/triage_invalid",
        data={"_csrf_token": token, "version": "1", "reason": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 404
    after = api.get("citybus", "manager", f"/api/tickets/{theirs['id']}").json()
    assert after["version"] == 1 and after["state"] == "received"


def test_accused_staff_sees_the_complainant_masked_exactly_as_the_api_masks_it(
    api: Any, web: TestClient[Any]
) -> None:
    t = api.create("greenwood", accused_staff=["GW-S001"], accused_department="engineering")
    via_api = api.get("greenwood", "staff-wang", f"/api/tickets/{t['id']}").json()["complainant"]
    assert via_api["masked"] is True
    assert login(web, "staff-wang").status_code == 303
    page = web.get(f"/tickets/{t['id']}").text
    summary = text(page)
    assert via_api["contact"] in summary and via_api["name"] in summary
    assert "13812345678" not in page and "张三丰" not in page
    assert "已隐去" in summary


def test_english_is_the_second_language_and_codes_never_show(
    api: Any, web: TestClient[Any]
) -> None:
    t = api.create("greenwood", accused_department="engineering")
    assert login(web, "clerk").status_code == 303
    zh = text(web.get(f"/tickets/{t['id']}").text)
    assert "已受理" in zh and "受理渠道" in zh
    en = text(web.get(f"/tickets/{t['id']}?lang=en").text)
    assert "Received" in en and "Channel" in en and "已受理" not in en
    assert web.cookies.get("tousu_lang") == "en"
    assert "Queue" in text(web.get("/").text)  # remembered
    # no raw state, action or channel code on the page (code words in links/forms aside)
    for code in ["received", "triage_valid", "phone", "clerk"]:
        assert not re.search(rf">\s*{code}\s*<", web.get(f"/tickets/{t['id']}").text), code


def test_intake_sent_twice_records_one_complaint(api: Any, web: TestClient[Any]) -> None:
    assert login(web, "clerk").status_code == 303
    page = web.get("/tickets/new").text
    idem = re.search(r'name="_idem" value="([^"]+)"', page)
    assert idem
    form = {
        "_csrf_token": csrf(web, "/tickets/new"),
        "_idem": idem.group(1),
        "channel": "visit",
        "complainant.name": "赵六",
        "complainant.contact": "13600000000",
        "description": f"双击提交 {idem.group(1)}",
        "accused_department": "security",
    }
    first = web.post("/tickets/new", data=form, follow_redirects=False)
    second = web.post("/tickets/new", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    found = api.get("greenwood", "clerk", "/api/tickets", params={"q": idem.group(1)}).json()
    assert len(found["items"]) == 1


def test_the_approvals_inbox_of_a_staff_member_is_empty(web: TestClient[Any]) -> None:
    """Whoever opens it sees only what they may decide (tests/test_console_approvals.py):
    a staff member decides nothing, and the header offers no link."""
    assert login(web, "staff-wang").status_code == 303
    r = web.get("/approvals")
    assert r.status_code == 200 and "Traceback" not in r.text
    assert not re.search(r'action="/(penalties|extensions|appeals)/', r.text)
    assert "/approvals" not in re.findall(r'href="([^"]+)"', web.get("/").text)
