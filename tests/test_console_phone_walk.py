"""What a department head and a manager meet on a phone (390 x 844, Chromium): a manager
deciding twenty penalties at once while one of them was decided elsewhere (the refused one
names its ticket and says why, the other nineteen are decided), a reply, a follow-up and a
close with their refusals beside the field, and a bus company's (transit) grading, reply and
bulk close in that industry's words. Nothing is wider than the phone; no English, no code.

One ``tousu serve`` (SQLite, demo tenants) for the module; the tickets are brought to the
step under test through the API with the demo bearer keys, the steps under test are taken in
the browser. Screenshots go to ``<pytest output>/console-phone/``.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from test_console_browser import (  # noqa: F401  (module-scoped fixtures: one serve, one browser)
    PASSWORDS,
    ROOT,
    browser,
    browser_context_args,
    browser_type,
    browser_type_launch_args,
    login,
    playwright,
    server,
)

PHONE = {"width": 390, "height": 844}
KEYS = {
    (tf["slug"], u["username"]): u.get("demo_key")
    for tf in (tomllib.loads(p.read_text()) for p in sorted((ROOT / "tenants").glob("*.toml")))
    for u in tf.get("users", [])
}
LATIN_WORD = re.compile(r"[A-Za-z_]{3,}")
"""A word of Latin letters in a message: English, or a code (tier_2, result_confirmed)."""


class Api:
    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)

    def call(self, tenant: str, user: str, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {KEYS[(tenant, user)]}", **kw.pop("headers", {})}
        r = self.client.request(method, path, headers=headers, **kw)
        assert r.status_code < 300, (path, r.status_code, r.text[:300])
        return r.json() if r.content else None

    def step(self, tenant: str, user: str, tid: int, action: str, body: dict[str, Any]) -> None:
        version = self.call(tenant, user, "GET", f"/api/tickets/{tid}")["version"]
        self.call(
            tenant, user, "POST", f"/api/tickets/{tid}/{action}", json={"version": version, **body}
        )

    def graded(self, n: int) -> list[int]:
        """``n`` greenwood complaints graded 主责 / 第2档 (each a proposed penalty)."""
        gw, out = "greenwood", []
        for i in range(n):
            t = self.call(
                gw, "clerk", "POST", "/api/tickets",
                headers={"Idempotency-Key": uuid.uuid4().hex},
                json={
                    "channel": "phone", "description": f"电梯维修后仍然停运（{i + 1}）",
                    "complainant": {"name": "张三", "contact": "13812345678"},
                    "accused_department": "engineering", "accused_staff": ["GW-S001"],
                },
            )  # fmt: skip
            tid = t["id"]
            self.step(gw, "clerk", tid, "triage-valid", {
                "category": "repair_quality", "severity": "important",
                "facets": {"nature": "valid"},
            })  # fmt: skip
            self.step(gw, "clerk", tid, "register", {"reason": "on_site"})
            self.step(gw, "supervisor", tid, "review", {"note": "可派单"})
            self.step(gw, "clerk", tid, "dispatch", {"department": "engineering"})
            self.step(gw, "head-engineering", tid, "first-contact", {"note": "已联系业主"})
            self.step(gw, "head-engineering", tid, "grade", {
                "grades": [{"staff": "GW-S001", "grade": "main", "offence": "tier_2",
                            "findings": "维修未完工即离场"}],
                "findings": "维修质量问题属实",
            })  # fmt: skip
            out.append(tid)
        return out


@pytest.fixture(scope="module")
def api(server: str) -> Iterator[Api]:  # noqa: F811
    a = Api(server)
    yield a
    a.client.close()


@pytest.fixture(scope="module")
def shots(pytestconfig: pytest.Config) -> Path:
    out = Path(pytestconfig.getoption("--output")) / "console-phone"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def phone(browser: Browser, server: str) -> Iterator[Any]:  # noqa: F811
    pages: dict[str, Page] = {}

    def as_(username: str, tenant: str = "greenwood") -> Page:
        key = f"{tenant}/{username}"
        if key not in pages:
            page = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()  # type: ignore[arg-type]
            login(page, server, tenant, username, PASSWORDS[(tenant, username)])
            pages[key] = page
        return pages[key]

    yield as_
    for page in pages.values():
        page.context.close()


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: the page is {width} px wide"


def readable(text: str) -> None:
    """Chinese, without English words or codes (ticket numbers and amounts are fine)."""
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert not LATIN_WORD.search(re.sub(r"[A-Z]{2}-\d{4}-\d{6}", "", text)), text


def open_action(page: Page, action: str) -> Any:
    box = page.locator(f"details[data-action={action}]")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    return box.locator("form")


def test_twenty_penalties_decided_at_once_one_refused_with_its_reason(
    api: Api,
    phone: Any,
    server: str,  # noqa: F811
    shots: Path,
) -> None:
    ids = api.graded(20)
    manager = phone("manager")
    manager.goto(server + "/approvals")
    rows = manager.locator("#pending-penalties tbody tr")
    expect(rows).to_have_count(20)
    fits_the_phone(manager)
    rule = rows.first.locator("td").nth(3).inner_text()
    assert rule.startswith("第2档") and "A." not in rule, rule  # the heading, not the offences
    manager.screenshot(path=str(shots / "approvals.png"))

    # meanwhile the general manager waives the penalty of the second ticket on its own page
    pending = api.call("greenwood", "manager", "GET", f"/api/tickets/{ids[1]}/penalties")
    api.call("greenwood", "gm", "POST", f"/api/penalties/{pending[0]['id']}/waive",
             json={"reason": "情节轻微"})  # fmt: skip
    manager.locator("#pending-penalties input[data-select-all]").check()
    manager.locator("#bulk-penalties button[type=submit]").click()
    summary = manager.locator("#bulk-penalties-summary")
    expect(summary.locator(".summary-done")).to_contain_text("19")
    refused = summary.locator("[data-refused]")
    expect(refused).to_have_count(1)
    number = api.call("greenwood", "manager", "GET", f"/api/tickets/{ids[1]}")["number"]
    said = refused.inner_text()
    assert said.startswith(number), said
    readable(said)
    fits_the_phone(manager)
    manager.screenshot(path=str(shots / "approvals-bulk-decided.png"), full_page=True)
    for tid in ids[:1] + ids[2:]:
        statuses = {
            x["status"]
            for x in api.call("greenwood", "manager", "GET", f"/api/tickets/{tid}/penalties")
        }
        assert statuses == {"confirmed"}, (tid, statuses)


def test_reply_follow_up_and_close_on_a_phone_refuse_beside_the_field(
    api: Api,
    phone: Any,
    server: str,  # noqa: F811
    shots: Path,
) -> None:
    (tid,) = api.graded(1)
    penalty = api.call("greenwood", "manager", "GET", f"/api/tickets/{tid}/penalties")[0]
    api.call("greenwood", "manager", "POST", f"/api/penalties/{penalty['id']}/confirm", json={})
    url = f"{server}/tickets/{tid}"

    head = phone("head-engineering")
    head.goto(url)
    open_action(head, "reply").locator("button[type=submit]").click()
    expect(head.locator("[data-field=reply]")).to_have_text("答复为必填项")
    fits_the_phone(head)
    open_action(head, "reply").locator("[name=reply]").fill("电梯已修复，向您致歉")
    open_action(head, "reply").locator("button[type=submit]").click()
    expect(head.locator("h1")).to_contain_text("已答复")
    head.screenshot(path=str(shots / "replied.png"))

    clerk = phone("clerk")
    clerk.goto(url)
    open_action(clerk, "follow_up").locator("[name=note]").fill("业主表示满意")
    open_action(clerk, "follow_up").locator("button[type=submit]").click()
    expect(clerk.locator("h1")).to_contain_text("已回访")

    manager = phone("manager")
    manager.goto(url)
    open_action(manager, "close").locator("button[type=submit]").click()
    expect(manager.locator("[data-field=verification]")).to_have_text("销项核实为必填项")
    open_action(manager, "close").locator("select[name=verification]").select_option(
        "result_confirmed"
    )
    open_action(manager, "close").locator("button[type=submit]").click()
    expect(manager.locator("h1")).to_contain_text("已销项")
    fits_the_phone(manager)
    readable(manager.locator("#penalties").inner_text())
    manager.screenshot(path=str(shots / "closed.png"), full_page=True)


def test_a_bus_company_grades_replies_and_closes_in_its_own_words(
    api: Api,
    phone: Any,
    server: str,  # noqa: F811
    shots: Path,
) -> None:
    cb = "citybus"
    t = api.call(
        cb, "clerk", "POST", "/api/tickets",
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={
            "channel": "phone", "description": "12路司机开车打电话，急刹车导致乘客摔倒",
            "complainant": {"name": "李四", "contact": "13912345678"},
            "accused_department": "fleet-1", "accused_staff": ["CB-S001"],
        },
    )  # fmt: skip
    tid, url = t["id"], f"{server}/tickets/{t['id']}"
    head = phone("head-fleet1", cb)
    clerk = phone("clerk", cb)
    clerk.goto(url)
    form = open_action(clerk, "triage_valid")
    form.locator("select[name=category]").select_option(index=4)
    form.locator("select[name=severity]").select_option(index=1)
    form.locator("button[type=submit]").click()
    expect(clerk.locator("h1")).to_contain_text("有效，未立项")
    api.step(cb, "clerk", tid, "register", {"reason": "on_site"})
    api.step(cb, "supervisor", tid, "review", {"note": "已核对"})
    api.step(cb, "clerk", tid, "dispatch", {"department": "fleet-1"})
    api.step(cb, "head-fleet1", tid, "first-contact", {"note": "已电话联系乘客"})

    head.goto(url)
    form = open_action(head, "grade")
    form.locator("select[name='grades.0.grade']").select_option("main")
    form.locator("[name='grades.0.findings']").fill("开车使用手机属实")
    form.locator("[name=findings]").fill("司机违规属实")
    form.locator("button[type=submit]").click()
    # the bus company's rule: a main responsibility names the passenger's own part in it
    said = head.locator("[data-field='grades.0.complainant_violation']")
    expect(said).to_be_visible()
    assert "乘客" in said.inner_text()
    fits_the_phone(head)
    head.screenshot(path=str(shots / "transit-grade-refused.png"))
    form = open_action(head, "grade")
    form.locator("[name='grades.0.complainant_violation']").fill("乘客未扶好扶手")
    form.locator("button[type=submit]").click()
    expect(head.locator("h1")).to_contain_text("已定责")

    form = open_action(head, "reply")
    form.locator("[name=reply]").fill("已对司机严肃处理")
    form.locator("button[type=submit]").click()
    expect(head.locator("[data-field=apology]")).to_contain_text("致歉")  # 有责: an apology
    form = open_action(head, "reply")
    form.locator("input[type=checkbox][name=apology]").check()
    form.locator("button[type=submit]").click()
    expect(head.locator("h1")).to_contain_text("已答复")
    api.step(cb, "clerk", tid, "follow-up", {"note": "乘客满意"})
    for x in api.call(cb, "manager", "GET", f"/api/tickets/{tid}/penalties"):
        api.call(cb, "manager", "POST", f"/api/penalties/{x['id']}/confirm", json={})

    manager = phone("manager", cb)
    manager.goto(server + "/approvals")
    select = manager.locator("#bulk-close-verification")
    offered = [o.inner_text() for o in select.locator("option").all()]
    assert offered[0] == "— 请选择 —" and "处理结果已与乘客确认" in offered, offered
    assert "服务单已签字" not in " ".join(offered)  # the property company's word, not a bus's
    manager.locator(f"#closable input[value^='{tid}:']").check()
    manager.locator("#bulk-closures button[type=submit]").click()
    expect(manager.locator(".form-error")).to_have_text("请选择销项核实方式")  # not a default
    manager.locator(f"#closable input[value^='{tid}:']").check()
    manager.locator("#bulk-close-verification").select_option(label="处理结果已与乘客确认")
    manager.locator("#bulk-closures button[type=submit]").click()
    expect(manager.locator("#bulk-closures-summary .summary-done")).to_contain_text("1")
    fits_the_phone(manager)
    manager.screenshot(path=str(shots / "transit-bulk-closed.png"))
    assert api.call(cb, "manager", "GET", f"/api/tickets/{tid}")["state"] == "closed"
