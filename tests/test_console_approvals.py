"""The approvals inbox lists only what the reader may decide (issue 13, manager and general
manager): the approvers the plugin names per step and severity (``tousu_approvers``, as the
API asks them), never the reader's own extension request, penalty or appeal, never a ticket
that names the reader. Both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import graded_penalty, run_db
from litestar.testing import TestClient
from sqlalchemy import select
from test_console_auth import csrf, login

from core.app import create_app
from core.console.inbox import inbox as inbox_of
from core.db import Database
from core.people.models import Staff, Tenant, User
from core.principal import Principal
from core.settings import load_settings

GW = "greenwood"


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def dispatched(api: Any, severity: str, accused: list[str] | None = None) -> dict[str, Any]:
    t = api.create(GW, accused_department="engineering", accused_staff=accused or [])
    t = api.act(GW, "clerk", t, "triage_valid", category="repair_quality", severity=severity,
                facets={"nature": "valid"})  # fmt: skip
    t = api.act(GW, "clerk", t, "register", reason="on_site")
    t = api.act(GW, "supervisor", t, "review")
    return api.act(GW, "clerk", t, "dispatch", department="engineering")


def extension(api: Any, t: dict[str, Any], who: str = "head-engineering") -> int:
    clocks = api.get(GW, "gm", f"/api/tickets/{t['id']}/deadlines").json()
    step = next(c["step"] for c in clocks if c["state"] == "running" and c["step"] == "reply")
    r = api.post(GW, who, f"/api/tickets/{t['id']}/deadlines/{step}/extensions",
                 json={"amount": 1, "unit": "hours", "reason": "等待配件"})  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def inbox(web: TestClient[Any], username: str, tenant: str = GW) -> str:
    web.cookies.clear()
    assert login(web, username, tenant=tenant).status_code == 303
    r = web.get("/approvals")
    assert r.status_code == 200 and "Traceback" not in r.text
    return r.text


def listed(page: str, kind: str) -> set[int]:
    return {int(x) for x in re.findall(rf'action="/{kind}/(\d+)/', page)}


def test_extensions_go_to_the_approvers_the_plugin_names_never_to_the_requester(
    api: Any, web: TestClient[Any]
) -> None:
    minor = extension(api, dispatched(api, "minor"))
    important = extension(api, dispatched(api, "important"))
    # property: a minor overrun is approved by the department manager or above, an important
    # one by the general manager only [000 §篇1 4(4)9]
    assert {minor, important} <= listed(inbox(web, "gm"), "extensions")
    manager = listed(inbox(web, "manager"), "extensions")
    assert minor in manager and important not in manager
    # the head who asked holds an approving role for minor tickets, yet never sees his own
    # request [000 §篇1 4(3)1, 4(4)9]
    head = listed(inbox(web, "head-engineering"), "extensions")
    assert minor not in head and important not in head
    assert listed(inbox(web, "clerk"), "extensions") == set()


def test_a_ticket_naming_the_reader_is_not_in_their_inbox(api: Any) -> None:
    """The general manager as a staff member named in the complaint (GW-S001): the
    extension on that ticket leaves their inbox; as themselves it is there."""
    ext = extension(api, dispatched(api, "minor", accused=["GW-S001"]))

    async def box(db: Database, named: bool) -> list[int]:
        async with db.cross_tenant() as s:
            u, t = (
                await s.execute(
                    select(User, Tenant)
                    .join(Tenant, Tenant.id == User.tenant_id)
                    .where(Tenant.slug == GW, User.username == "gm")
                )
            ).one()
            wang = await s.scalar(select(Staff.id).where(Staff.tenant_id == t.id,
                                                          Staff.code == "GW-S001"))  # fmt: skip
        p = Principal(user_id=u.id, username=u.username, roles=frozenset(u.roles),
                      tenant_id=t.id, tenant_slug=t.slug, plugin=t.plugin,
                      department_id=u.department_id, staff_id=wang if named else None)  # fmt: skip
        async with db.tenant(t.id) as scope:
            return [e.id for e in (await inbox_of(scope, p)).extensions]

    assert ext in run_db(api, lambda db: box(db, False))
    assert ext not in run_db(api, lambda db: box(db, True))


def test_penalties_go_to_management_only(api: Any, web: TestClient[Any]) -> None:
    pen = graded_penalty(api)
    assert pen["id"] in listed(inbox(web, "manager", "citybus"), "penalties")
    for who in ("supervisor", "clerk", "staff-wang", "head-fleet1"):
        assert pen["id"] not in listed(inbox(web, who, "citybus"), "penalties"), who
    # what the inbox offers, the API grants: the manager confirms from the inbox
    web.cookies.clear()
    assert login(web, "manager", tenant="citybus").status_code == 303
    token = csrf(web, "/approvals")
    r = web.post(f"/penalties/{pen['id']}/confirm", data={"_csrf_token": token},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert pen["id"] not in listed(web.get("/approvals").text, "penalties")


def test_the_inbox_link_shows_for_roles_that_approve(web: TestClient[Any]) -> None:
    for who, shown in (("staff-wang", False), ("clerk", False), ("supervisor", True),
                       ("manager", True)):  # fmt: skip
        web.cookies.clear()
        assert login(web, who).status_code == 303
        links = re.findall(r'href="([^"]+)"', web.get("/").text)
        assert ("/approvals" in links) is shown, who


def test_notifications_read_in_chinese_with_labels_not_codes(
    api: Any, web: TestClient[Any]
) -> None:
    t = dispatched(api, "minor")
    extension(api, t)
    web.cookies.clear()
    assert login(web, "manager").status_code == 303
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", web.get("/notifications").text))
    assert f"{t['number']}：申请延长「答复」时限：等待配件" in page
    assert "more time asked" not in page and "step reply" not in page
    en = web.get("/notifications?lang=en").text
    assert f"{t['number']}: more time asked for Reply: 等待配件" in en


@pytest.mark.parametrize(
    ("kind", "message", "zh"),
    [
        ("deadline_breached", "GW-1: step reply overdue since 2026-11-30T02:00:00+00:00",
         "GW-1：「答复」已超时（时限 2026-11-30 10:00）"),
        ("deadline_due_soon", "GW-1: step first_contact is due at 2026-11-30T02:00:00+00:00",
         "GW-1：「首日联系」将于 2026-11-30 10:00 到期"),
        ("escalation", "GW-1: major complaint — report within 30 minutes",
         "GW-1：重大投诉，须在 30 分钟内上报"),
        ("escalation", "GW-1: major complaint — report at once", "GW-1：重大投诉，须立即上报"),
        ("something_new", "as stored", "as stored"),
    ],
)  # fmt: skip
def test_notification_shapes(kind: str, message: str, zh: str) -> None:
    from zoneinfo import ZoneInfo

    from core.console import i18n, labels, notices

    tr = i18n.translations("zh_CN").gettext
    shown = notices.notice_text(
        kind, message, tr,
        lambda group, code: tr(labels.label(group, code)),
        lambda kind, code: {"major": "重大"}.get(code, code),
        lambda at: at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M"),
    )  # fmt: skip
    assert shown == zh


def test_bulk_refusal_reads_in_the_console_language_with_the_status_label(
    api: Any, web: TestClient[Any]
) -> None:
    """A bulk item refused because it was already decided reads in the console's language
    (Chinese by default), even when the browser asks for English, and names the status by its
    Chinese label (已确认), not its code."""
    a = graded_penalty(api)
    r = api.post("citybus", "manager", f"/api/penalties/{a['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    assert login(web, "manager", tenant="citybus").status_code == 303
    token = csrf(web, "/approvals")
    r = web.post(
        "/approvals/bulk/penalties",
        data={"_csrf_token": token, "decision": "confirm", "ids": str(a["id"])},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 200, r.text[:500]
    m = re.search(rf'<li data-refused="{a["id"]}">(.*?)</li>', r.text, re.S)
    assert m, r.text
    assert "不能重复决定" in m.group(1) and "已确认" in m.group(1), m.group(1)
    assert "already decided" not in m.group(1) and "confirmed" not in m.group(1)


def test_a_penalty_refusal_names_no_code_and_no_label_twice(api: Any, web: TestClient[Any]) -> None:
    """A penalty decision refused on the approvals page reads ``原因为必填项`` (not
    ``原因：原因为必填项``); decided elsewhere, it is refused on its ticket's page without the
    field's code (``status：…``)."""
    pen = graded_penalty(api)
    web.cookies.clear()
    assert login(web, "manager", tenant="citybus").status_code == 303
    r = web.post(f"/penalties/{pen['id']}/waive", data={
        "_csrf_token": csrf(web, "/approvals"), "reason": "",
    })  # fmt: skip
    assert r.status_code == 422, r.text[:300]
    said = re.findall(r'<p class="form-error"[^>]*>([^<]*)</p>', r.text)
    assert said and all(s == "原因为必填项" for s in said), said
    r = web.post(f"/penalties/{pen['id']}/adjust", data={
        "_csrf_token": csrf(web, "/approvals"), "amount_yuan": "", "reason": "",
    })  # fmt: skip
    said = re.findall(r'<p class="form-error"[^>]*>([^<]*)</p>', r.text)
    assert said and all("：" not in s for s in said), said
    r = api.post("citybus", "manager", f"/api/penalties/{pen['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    r = web.post(f"/penalties/{pen['id']}/confirm?from=ticket", data={
        "_csrf_token": csrf(web, "/approvals"),
    })  # fmt: skip
    assert r.status_code == 409, r.text[:300]
    said = re.findall(r'<p class="form-error"[^>]*>([^<]*)</p>', r.text)
    assert said and "已被处理" in said[0], said
    assert not any(re.search(r"[A-Za-z_]{3,}", s) for s in said), said
