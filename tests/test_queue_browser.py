# ruff: noqa: F811  (the browser fixtures are imported from test_console_browser)
"""The queue and the pages around it in a real browser (issue 20): a tenant with more than
100 tickets, every sort and filter from the form, a saved view (own and shared), a bulk
decision with one refused item, live updates without reload (typing kept), the 390 × 844
layout, the headers' effect (no inline script runs under the CSP), and axe-core on every
page with no serious or critical violation.

A real ``tousu serve`` (SQLite, demo tenants) with ``TOUSU_CONSOLE_POLL_SECONDS=1`` so
live updates arrive within a second or two; data is made through the HTTP API with the
demo tenants' keys."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from serverkit import free_port
from test_console_browser import (  # noqa: F401  (fixtures)
    PASSWORDS,
    ROOT,
    browser,
    browser_context_args,
    browser_type,
    browser_type_launch_args,
    login,
    playwright,
)

CB = "citybus"
KEYS = {
    (tf["slug"], u["username"]): u.get("demo_key")
    for tf in (tomllib.loads(p.read_text()) for p in sorted((ROOT / "tenants").glob("*.toml")))
    for u in tf.get("users", [])
}
N = 106


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("queue-serve")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work}/tousu.db",
        "TOUSU_TENANTS_DIR": str(ROOT / "tenants"),
        "TOUSU_WEBHOOK_ALLOW_NETS": "127.0.0.1/32",
        "TOUSU_CONSOLE_POLL_SECONDS": "1",
    }
    env.pop("REDIS_URL", None)
    log = (work / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("tousu serve did not start:\n" + (work / "serve.log").read_text()[-3000:])
        time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


class Http:
    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)

    def call(self, method: str, who: str, path: str, json: Any = None, tenant: str = CB) -> Any:
        r = self.client.request(
            method, path, json=json, headers={"Authorization": f"Bearer {KEYS[(tenant, who)]}"}
        )
        assert r.status_code < 300, f"{method} {path} as {who}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {
            "channel": "phone",
            "complainant": {"name": "李雷", "contact": "13911112222"},
            "description": "车辆到站未停",
        } | fields
        return self.call("POST", "clerk", "/api/tickets", body)  # type: ignore[no-any-return]

    def act(self, who: str, t: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        path = f"/api/tickets/{t['id']}/{action.replace('_', '-')}"
        return self.call("POST", who, path, {"version": t["version"]} | body)  # type: ignore[no-any-return]

    def graded(self) -> dict[str, Any]:
        """A citybus ticket graded main for CB-S001: a 100-yuan penalty proposed."""
        t = self.create(channel="government_transfer", accused_staff=["CB-S001"],
                        accused_department="fleet-1")  # fmt: skip
        t = self.act("clerk", t, "triage_valid", category="skip_stop", severity="general",
                     facets={"direction": "government", "mode": "phone"})  # fmt: skip
        t = self.act("clerk", t, "register", reason="on_site")
        t = self.act("supervisor", t, "review")
        t = self.act("clerk", t, "dispatch", department="fleet-1")
        t = self.act("head-fleet1", t, "first_contact", note="called")
        return self.act(
            "head-fleet1", t, "grade", findings="investigated",
            grades=[{"staff": "CB-S001", "grade": "main", "findings": "established",
                     "complainant_violation": "argued about the fare before boarding"}],
        )  # fmt: skip


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[Http]:
    h = Http(base)
    yield h
    h.client.close()


@pytest.fixture(scope="module")
def tickets(http: Http) -> list[dict[str, Any]]:
    """N citybus tickets, every third by letter."""
    return [
        http.create(
            channel="letter" if i % 3 == 0 else "phone", description=f"第{i}号投诉：车辆到站未停"
        )
        for i in range(N)
    ]


def page_as(browser: Browser, base: str, who: str, tenant: str = CB, **ctx: Any) -> Page:
    context = browser.new_context(
        locale="zh-CN", viewport=ctx.pop("viewport", {"width": 1280, "height": 900}), **ctx
    )
    page = context.new_page()
    login(page, base, tenant, who, PASSWORDS[(tenant, who)])  # type: ignore[arg-type]
    return page


def test_queue_over_100_tickets_sorts_filters_and_views(
    browser: Browser, base: str, tickets: list[dict[str, Any]]
) -> None:
    page = page_as(browser, base, "clerk")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/?sort=number")
    expect(page.locator("#queue-count")).to_contain_text(str(N))
    expect(page.locator("#queue-rows tr")).to_have_count(50)
    page.click("a[rel=next]")
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(r"page=3"))
    expect(page.locator("#queue-rows tr")).to_have_count(N - 100)
    # the six newest are on the last page of the oldest-first order, none lost
    last = [tickets[i]["number"] for i in range(100, N)]
    expect(page.locator("#queue-rows")).to_contain_text(last[-1])
    # each sort from the form, reflected in the URL and the order
    page.goto(base + "/")
    for sort, first in (
        ("-number", tickets[-1]["number"]),
        ("number", tickets[0]["number"]),
        ("received", tickets[0]["number"]),
        ("-received", tickets[-1]["number"]),
    ):
        page.select_option("#sort", sort)
        page.click("#search-form button[type=submit]")
        expect(page).to_have_url(
            re.compile(rf"sort={re.escape(sort).replace('-', '%2D|-')}|sort=%2D")
        )
        expect(page.locator("#queue-rows tr").first).to_contain_text(first)
    for sort in ("due", "-due", "severity", "-severity"):
        page.goto(base + f"/?sort={sort}")
        expect(page.locator("#sort")).to_have_value(sort)
        expect(page.locator("#queue-count")).to_contain_text(str(N))
    # filters: channel, state, due, owner, mine, severity, category, department
    page.goto(base + "/")
    page.select_option("#channel", "letter")
    page.click("#search-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"channel=letter"))
    expect(page.locator("#queue-count")).to_contain_text(str(len(range(0, N, 3))))
    for query, empty in (
        ("state=closed", True),
        ("due=overdue", True),
        ("owner=none", False),
        ("mine=1", True),
        ("severity=major", True),
        ("category=skip_stop", True),
        ("department=fleet-1", True),
        ("state=received", False),
        ("due=due_soon", None),
    ):
        page.goto(base + "/?" + query)
        key, value = query.split("=")
        if key == "mine":
            expect(page.locator("#mine")).to_be_checked()
        else:
            expect(page.locator(f"#{key}")).to_have_value(value)
        if empty is True:
            expect(page.locator("#queue-rows")).to_contain_text("暂无工单")
        elif empty is False:
            expect(page.locator("#queue-count")).to_contain_text(str(N))
    # a saved view: the current filters under a name, listed, opened from the list
    page.goto(base + "/?channel=letter&sort=-number")
    page.fill("#view-name", "信件投诉")
    page.click("#save-view button[type=submit]")
    view = page.locator("li.saved[data-view='信件投诉'] a")
    expect(view).to_be_visible()
    page.goto(base + "/")
    view.click()
    expect(page).to_have_url(re.compile(r"channel=letter"))
    expect(page.locator("#channel")).to_have_value("letter")
    # a shared view set by the tenant admin shows up for the clerk
    admin = page_as(browser, base, "admin")
    admin.goto(base + "/?due=overdue")
    admin.fill("#view-name", "全公司超时")
    admin.check("#save-view [name=shared]")
    admin.click("#save-view button[type=submit]")
    expect(admin.locator("li.saved[data-view='全公司超时']")).to_contain_text("共享")
    page.goto(base + "/")
    expect(page.locator("li.saved[data-view='全公司超时']")).to_be_visible()
    expect(page.locator("li.saved[data-view='全公司超时'] button")).to_have_count(0)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    admin.context.close()
    page.context.close()


def test_bulk_decision_with_one_refused_item(browser: Browser, base: str, http: Http) -> None:
    first, second = http.graded(), http.graded()
    page = page_as(browser, base, "manager")
    page.goto(base + "/approvals")
    rows = page.locator("#pending-penalties tbody tr")
    expect(rows.filter(has_text=second["number"]).first).to_be_visible()
    ticked = rows.locator("input[name=ids]").count()
    page.check("#pending-penalties thead input[data-select-all]")  # tick all
    assert page.locator("#pending-penalties input[name=ids]:checked").count() == ticked
    # meanwhile one of the second ticket's is decided on its own (another manager's tab)
    pens = http.call("GET", "manager", f"/api/tickets/{second['id']}/penalties")
    pid = next(x["id"] for x in pens if x["status"] == "proposed")
    http.call("POST", "gm", f"/api/penalties/{pid}/waive", {"reason": "首次，口头警告"})
    page.select_option("#bulk-penalty-decision", "confirm")
    page.click("#bulk-penalties button[type=submit]")
    summary = page.locator("#bulk-penalties-summary")
    expect(summary.locator(".summary-done")).to_contain_text(str(ticked - 1))
    expect(summary.locator(".summary-refused")).to_contain_text(second["number"])
    expect(summary.locator(f"[data-refused='{pid}']")).to_be_visible()
    expect(page.locator("#pending-penalties")).not_to_contain_text(first["number"])
    pens = http.call("GET", "manager", f"/api/tickets/{first['id']}/penalties")
    assert {x["status"] for x in pens} == {"confirmed"}
    page.context.close()


def test_live_updates_without_reload(browser: Browser, base: str, http: Http) -> None:
    page = page_as(browser, base, "clerk")
    page.goto(base + "/?sort=-number")
    page.evaluate("document.body.dataset.marker = 'same-page'")
    page.fill("#view-name", "正在输入")  # typed, not sent
    new = http.create(description="实时更新测试")
    expect(page.locator("#queue-rows tr").first).to_contain_text(new["number"], timeout=10_000)
    assert page.evaluate("document.body.dataset.marker") == "same-page"  # no reload
    expect(page.locator("#view-name")).to_have_value("正在输入")
    # the ticket page: with a form open and typed into, a change shows who made it
    page.goto(base + f"/tickets/{new['id']}")
    box = page.locator("details[data-action=triage_invalid]")
    box.locator("summary").click()
    box.locator("textarea, input[type=text]").first.fill("我正在写的理由")
    http.act("supervisor", new, "triage_invalid", reason="重复投诉")
    notice = page.locator("#live-ticket [data-changed]")
    expect(notice).to_contain_text("冯雪", timeout=10_000)  # the supervisor's display name
    expect(notice).to_contain_text("刚刚")
    expect(box.locator("textarea, input[type=text]").first).to_have_value("我正在写的理由")
    page.context.close()


def test_phone_layout(browser: Browser, base: str, http: Http, tickets: list[Any]) -> None:
    page = page_as(browser, base, "clerk", viewport={"width": 390, "height": 844})
    page.goto(base + "/")
    row = page.locator("#queue-rows tr").first
    box = row.bounding_box()
    assert box is not None and box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    for cell in ("td.num", "td.state", "td.sev", "td.due", "td.desc"):
        expect(row.locator(cell)).to_be_visible()
    expect(row.locator("td.wide").first).to_be_hidden()
    assert page.locator("#queue thead").bounding_box()["x"] < 0  # type: ignore[index]
    # a card is a few lines high, not one character per line
    assert box["height"] < 140, box
    page.screenshot(path=str(ROOT / "var" / "queue-390.png")) if (ROOT / "var").exists() else None
    # the ticket page: the actions the reader may take come first
    page.goto(base + f"/tickets/{tickets[0]['id']}")
    actions = page.locator("#actions").bounding_box()
    summary = page.locator("#summary").bounding_box()
    assert actions and summary and actions["y"] < summary["y"]
    assert actions["y"] < 400
    page.context.close()


def test_reports_charts_open_full_size(browser: Browser, base: str) -> None:
    page = page_as(browser, base, "manager")
    page.goto(base + "/reports")
    link = page.locator("a.chart-link").first
    expect(link).to_have_attribute("href", re.compile(r"\.svg\?period="))
    r = page.request.get(base + str(link.get_attribute("href")))
    assert r.status == 200 and r.headers["content-type"].startswith("image/svg+xml")
    page.context.close()


PAGES = [
    ("", "/login", None),
    (CB, "/", "clerk"),
    (CB, "/?sort=-number&channel=letter", "clerk"),
    (CB, "/tickets/new", "clerk"),
    (CB, "/tickets/1", "clerk"),
    (CB, "/approvals", "manager"),
    (CB, "/reports", "manager"),
    (CB, "/notifications", "clerk"),
    (CB, "/account", "clerk"),
    (CB, "/help", "clerk"),
    (CB, "/no-such-page", "clerk"),
    (CB, "/admin", "admin"),
]  # fmt: skip


@pytest.mark.parametrize(("tenant", "path", "who"), PAGES)
def test_no_serious_accessibility_violation(
    browser: Browser, base: str, tickets: list[Any], tenant: str, path: str, who: str | None
) -> None:
    if who is None:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
    else:
        page = page_as(browser, base, who, tenant)
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    page.context.close()
    assert not bad, bad


def test_keyboard_shortcuts(browser: Browser, base: str, tickets: list[Any]) -> None:
    page = page_as(browser, base, "clerk")
    page.goto(base + "/?sort=number")
    page.keyboard.press("j")
    first = page.locator("#queue a[data-ticket]").first
    expect(first).to_be_focused()
    page.keyboard.press("j")
    second = page.locator("#queue a[data-ticket]").nth(1)
    expect(second).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{tickets[1]['id']}$"))
    page.keyboard.press("j")  # the next ticket of the queue, from a ticket page
    expect(page).to_have_url(re.compile(rf"/tickets/{tickets[2]['id']}$"))
    page.keyboard.press("/")
    expect(page).to_have_url(re.compile(r"/\?focus=q"))
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("nq")  # typing in a field is never a shortcut
    expect(page.locator("#q")).to_have_value("nq")
    page.locator("h1").click()
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/tickets/new$"))
    page.locator("h1").click()
    page.keyboard.press("?")
    expect(page).to_have_url(re.compile(r"/help$"))
    expect(page.locator("#shortcut-table")).to_contain_text("/")
    # the skip link is the first stop of the keyboard and lands on the content
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.context.close()
