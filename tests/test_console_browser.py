"""The console in a real browser (Debian's Chromium, headless, through Playwright).

A real ``tousu serve`` on the embedded default (SQLite, demo tenants, in-process worker)
listens on a free port; each role logs in with its demo password and takes its step of the
complaint loop through the console only. Screenshots of every page go to
``<pytest-playwright output>/console/`` for review. Chromium missing is a failure, not a
skip: ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType, Page, Playwright, expect, sync_playwright
from serverkit import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORDS: dict[tuple[str, str], str | None] = {
    ("", "ops"): "operator-passphrase",
}
PASSWORDS |= {
    (tf["slug"], u["username"]): u.get("demo_password")
    for tf in (tomllib.loads(p.read_text()) for p in sorted((ROOT / "tenants").glob("*.toml")))
    for u in tf.get("users", [])
}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Module-scoped (pytest-playwright's is session-scoped): the sync API keeps an event
    loop running in this thread while it lives, and later tests call ``asyncio.run``."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser_context_args() -> dict[str, Any]:
    return {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    b = browser_type.launch(**browser_type_launch_args)
    yield b
    b.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tousu serve`` on a free port, in a subprocess, on a fresh SQLite file."""
    work = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work}/tousu.db",
        "TOUSU_TENANTS_DIR": str(ROOT / "tenants"),
        # webhooks to a local address nobody listens on: deliveries fail and wait to retry
        "TOUSU_WEBHOOK_ALLOW_NETS": "127.0.0.1/32",
    }
    env.pop("REDIS_URL", None)
    log = (work / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    cli = [sys.executable, "-m", "core.cli", "users"]
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("tousu serve did not start:\n" + (work / "serve.log").read_text()[-3000:])
        time.sleep(0.3)
    # a platform operator with a console password, through the CLI
    subprocess.run([*cli, "create", "ops"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*cli, "passwd", "ops", "--password-stdin"],
        cwd=ROOT, env=env, check=True, capture_output=True, input=b"operator-passphrase\n",
    )  # fmt: skip
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    printed = (work / "serve.log").read_text()
    assert "Console (web, Chinese)" in printed


@pytest.fixture(scope="module")
def shots(pytestconfig: pytest.Config) -> Path:
    out = Path(pytestconfig.getoption("--output")) / "console"
    out.mkdir(parents=True, exist_ok=True)
    return out


class Desk:
    """Who is logged in where: one browser context per person, every request recorded."""

    def __init__(self, browser: Browser, base: str, shots: Path) -> None:
        self.browser, self.base, self.shots = browser, base, shots
        self.requests: list[str] = []
        self.pages: dict[str, Page] = {}
        self.errors: list[str] = []
        self.ticket_url = ""
        """The ticket the complaint loop closed (staff-wang graded main on it)."""

    def as_(self, username: str, tenant: str = "greenwood") -> Page:
        key = f"{tenant}/{username}"
        if key not in self.pages:
            context = self.browser.new_context(
                locale="zh-CN", viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.on("request", lambda r: self.requests.append(r.url))
            page.on("pageerror", lambda e: self.errors.append(str(e)))
            login(page, self.base, tenant, username, PASSWORDS[(tenant, username)])
            self.pages[key] = page
        return self.pages[key]

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def login(page: Page, base: str, tenant: str, username: str, password: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#tenant", tenant)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("header.top .who")).to_contain_text(username)


def act(
    page: Page,
    action: str,
    fill: dict[str, str] | None = None,
    select: dict[str, str] | None = None,
) -> None:
    """Open the action's form on the ticket page, fill it, submit it."""
    box = page.locator(f"details[data-action={action}]")
    box.locator("summary").click()
    form = box.locator("form")
    for name, value in (select or {}).items():
        form.locator(f"select[name='{name}']").select_option(value)
    for name, value in (fill or {}).items():
        form.locator(f"[name='{name}']").fill(value)
    form.locator("button[type=submit]").last.click()
    page.wait_for_load_state("domcontentloaded")


def state_is(page: Page, text: str) -> None:
    expect(page.locator("h1")).to_contain_text(text)


@pytest.fixture(scope="module")
def desk(browser: Browser, server: str, shots: Path) -> Iterator[Desk]:
    d = Desk(browser, server, shots)
    yield d
    for page in d.pages.values():
        page.context.close()


def test_wrong_password_shows_its_message(desk: Desk, page: Page) -> None:
    page.on("request", lambda r: desk.requests.append(r.url))
    page.goto(desk.base + "/login")
    desk.shot(page, "00-login")
    page.fill("#tenant", "greenwood")
    page.fill("#username", "clerk")
    page.fill("#password", "not-the-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("[data-field=password]")).to_have_text("单位、用户名或密码不正确")
    desk.shot(page, "01-login-wrong-password")


def test_complaint_from_intake_to_close_in_the_browser(desk: Desk) -> None:
    clerk = desk.as_("clerk")
    desk.shot(clerk, "02-queue-empty")
    clerk.click("text=受理新投诉")
    clerk.select_option("#channel", "phone")
    clerk.fill("[name='complainant.name']", "张三丰")
    clerk.fill("[name='complainant.contact']", "13812345678")
    clerk.fill("[name='complainant.address']", "3栋2单元301")
    clerk.select_option("#accused_department", "engineering")
    clerk.select_option("#accused_staff", ["GW-S001"])
    clerk.fill("#event_place", "3栋电梯")
    clerk.fill("#description", "电梯维修后仍然停运，已经三天")
    clerk.fill("#demands", "尽快修好电梯并道歉")
    desk.shot(clerk, "03-intake-form")
    clerk.click("#intake-form button[type=submit]")
    expect(clerk).to_have_url(re.compile(r"/tickets/\d+$"))
    ticket_url = desk.ticket_url = clerk.url
    state_is(clerk, "已受理")
    number = clerk.locator("h1").inner_text().split(" ")[0]
    assert number.startswith("GW-")
    expect(clerk.locator("#complainant")).to_contain_text("13812345678")
    desk.shot(clerk, "04-ticket-received")

    act(
        clerk,
        "triage_valid",
        select={"category": "repair_quality", "severity": "important", "facets.nature": "valid"},
    )
    state_is(clerk, "有效，未立项")
    act(clerk, "register", select={"reason": "on_site"})
    state_is(clerk, "已立项")

    supervisor = desk.as_("supervisor")
    supervisor.goto(ticket_url)
    act(supervisor, "review", fill={"note": "已核对，可派单"})
    state_is(supervisor, "待派单")

    clerk.goto(ticket_url)
    act(clerk, "dispatch", select={"department": "engineering"})
    state_is(clerk, "已派单")

    head = desk.as_("head-engineering")
    head.goto(desk.base + "/")
    expect(head.locator("#queue")).to_contain_text(number)
    desk.shot(head, "05-department-queue")
    head.goto(ticket_url)
    act(head, "first_contact", fill={"note": "已电话联系业主，约定上门"})
    state_is(head, "处理中")
    act(
        head,
        "grade",
        select={
            "grades.0.staff": "GW-S001",
            "grades.0.grade": "main",
            "grades.0.offence": "tier_2",
        },
        fill={"grades.0.findings": "维修未完工即离场", "findings": "维修质量问题属实"},
    )
    state_is(head, "已定责")
    act(head, "reply", fill={"reply": "电梯已修复，向您致歉"})
    state_is(head, "已答复")
    desk.shot(head, "06-ticket-replied")

    clerk.goto(ticket_url)
    act(clerk, "follow_up", fill={"note": "业主表示满意"})
    state_is(clerk, "已回访")

    manager = desk.as_("manager")
    manager.goto(desk.base + "/approvals")
    expect(manager.locator("#pending-penalties")).to_contain_text("王强")
    desk.shot(manager, "07-approvals")
    row = manager.locator("#pending-penalties tbody tr", has_text="王强")
    row.locator("summary").click()
    row.locator("button[data-decision=confirm]").click()
    expect(manager.locator("#pending-penalties")).not_to_contain_text("王强")
    manager.goto(ticket_url)
    expect(manager.locator("#penalties")).to_contain_text("已确认")
    act(manager, "close", select={"verification": "result_confirmed"})
    state_is(manager, "已销项")
    timeline = manager.locator("#history")
    for step in [
        "受理投诉",
        "甄别为有效投诉",
        "立项",
        "班长审核",
        "派单",
        "首日联系",
        "定责",
        "答复投诉人",
        "回访：满意",
        "销项",
    ]:
        expect(timeline).to_contain_text(step)
    desk.shot(manager, "08-ticket-closed")
    # the README's screenshot of the ticket page
    manager.screenshot(path=str(desk.shots / "ticket-page.png"), full_page=False)

    staff = desk.as_("staff-wang")
    staff.goto(ticket_url)
    complainant = staff.locator("#complainant")
    expect(complainant).to_contain_text("已隐去")
    expect(complainant).not_to_contain_text("13812345678")
    expect(complainant).not_to_contain_text("张三丰")
    desk.shot(staff, "09-ticket-as-accused-staff")


def test_stale_version_and_missing_field_show_their_messages(desk: Desk) -> None:
    clerk = desk.as_("clerk")
    clerk.goto(desk.base + "/tickets/new")
    clerk.fill("[name='complainant.name']", "李四")
    clerk.fill("[name='complainant.contact']", "13900001111")
    clerk.click("#intake-form button[type=submit]")  # no description
    expect(clerk.locator("[data-field=description]")).to_contain_text("必填")
    desk.shot(clerk, "10-intake-missing-field")
    clerk.fill("#description", "楼道灯不亮")
    clerk.click("#intake-form button[type=submit]")
    expect(clerk).to_have_url(re.compile(r"/tickets/\d+$"))
    ticket_url = clerk.url

    other = desk.as_("supervisor")
    other.goto(ticket_url)  # the supervisor reads version 1 ...
    act(
        clerk,
        "triage_valid",
        select={"category": "lighting", "severity": "minor", "facets.nature": "valid"},
    )
    state_is(clerk, "有效，未立项")  # ... the clerk changed it meanwhile
    other_box = other.locator("details[data-action=reclassify]")
    other_box.locator("summary").click()
    other_box.locator("select[name=severity]").select_option("important")
    other_box.locator("[name=reason]").fill("影响多户")
    other_box.locator("button[type=submit]").click()
    expect(other.locator("details[data-action=reclassify] .form-error")).to_have_text(
        "此工单已被他人修改，请刷新"
    )
    desk.shot(other, "11-stale-version")

    clerk.goto(desk.base + "/")
    rows = clerk.locator("#queue-rows tr")
    expect(rows).to_have_count(2)
    clerk.locator("#q").press_sequentially("楼道")  # htmx searches as the clerk types
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("楼道灯不亮")
    desk.shot(clerk, "12-queue-search")
    for path, name in [("/notifications", "13-notifications"), ("/account", "14-account")]:
        clerk.goto(desk.base + path)
        desk.shot(clerk, name)


def test_api_docs_render_offline_and_authorize_with_a_bearer_key(desk: Desk, page: Page) -> None:
    page.on("request", lambda r: desk.requests.append(r.url))
    page.goto(desk.base + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("tousu")
    page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux")
    expect(dialog).to_contain_text("bearer")
    expect(dialog).to_contain_text("tousu_session")
    desk.shot(page, "15-api-docs-authorize")
    token = "gw-clerk-demo-7521564b74"
    dialog.locator("input").first.fill(token)
    dialog.locator("button.authorize").first.click()
    page.locator(".dialog-ux button.close-modal").click()
    op = page.locator("#operations-people-me")
    op.locator("button.opblock-summary-control").click()
    op.locator("button.try-out__btn").click()
    op.locator("button.execute").click()
    expect(op.locator(".responses-wrapper .live-responses-table")).to_contain_text(
        '"username": "clerk"'
    )
    desk.shot(page, "16-api-docs-me")


def test_admin_reports_and_platform_pages(desk: Desk) -> None:
    admin = desk.as_("admin")
    admin.goto(desk.base + "/admin")
    fine = admin.locator("#fines ~ table").first.locator("tbody tr", has_text="第1档").first
    fine.locator("[name=amount_yuan]").fill("5000")
    fine.locator("button[type=submit]").click()
    expect(admin.locator("[data-form=fine]")).to_contain_text(
        "超出"
    )  # the API's message, in Chinese
    expect(admin.locator("[data-form=fine]")).to_contain_text("范围")
    desk.shot(admin, "17-admin")
    manager = desk.as_("manager")
    manager.goto(desk.base + "/reports")
    expect(manager.locator(".kpis")).to_contain_text("回访率")
    manager.wait_for_load_state("networkidle")
    desk.shot(manager, "18-reports")
    ops = desk.as_("ops", tenant="")
    expect(ops).to_have_url(re.compile(r"/platform$"))
    expect(ops.locator("table")).to_contain_text("greenwood")
    desk.shot(ops, "19-platform-tenants")


def test_staff_member_appeals_their_own_grade_in_the_browser(desk: Desk) -> None:
    """staff-wang, named and graded on the closed ticket, appeals through the one form the
    conflict-of-interest guard lets him send; a missing reason shows its message first."""
    assert desk.ticket_url, "runs after the complaint loop"
    staff = desk.as_("staff-wang")
    staff.goto(desk.ticket_url)
    expect(staff.locator("#grades")).to_contain_text("主责")
    box = staff.locator("#grades details.action")
    box.locator("summary").click()
    expect(box.locator("summary")).to_have_text("对定责提出申诉")
    box.locator("button[type=submit]").click()  # no reason
    expect(staff.locator("#grades [data-field=reason]")).to_contain_text("必填")
    desk.shot(staff, "20-appeal-missing-reason")
    box = staff.locator("#grades details.action")
    box.locator("[name=reason]").fill("维修配件未到，并非擅自离场")
    box.locator("button[type=submit]").click()
    expect(staff.locator("#appeals")).to_contain_text("维修配件未到")
    expect(staff.locator("#appeals")).to_contain_text("待处理")
    expect(staff.locator("#grades details.action")).to_have_count(0)  # one appeal per grade
    desk.shot(staff, "21-appeal-filed")
    # the same person still cannot act on the ticket otherwise: no action offered
    expect(staff.locator("details[data-action]")).to_have_count(0)

    manager = desk.as_("manager")
    manager.goto(desk.base + "/approvals")
    expect(manager.locator("body")).to_contain_text("维修配件未到")
    desk.shot(manager, "22-approvals-appeal")


def test_admin_manages_webhooks_in_the_browser(desk: Desk) -> None:
    """Create a webhook, see its failing delivery, send it again, disable and enable it."""
    admin = desk.as_("admin")
    admin.goto(desk.base + "/admin#webhooks")
    hook_url = "http://127.0.0.1:9/tousu-hook"
    form = admin.locator("form[action='/admin/do/webhook']")
    form.locator("[name=url]").fill(hook_url)
    form.locator("button[type=submit]").click()
    expect(admin.locator("body")).to_contain_text("签名密钥")
    row = admin.locator("#webhook-list tbody tr", has_text=hook_url)
    expect(row).to_contain_text("是")
    # an event after the webhook exists: a complaint filed through the API by a machine
    key = "gw-clerk-demo-7521564b74"
    r = httpx.post(
        desk.base + "/api/tickets",
        headers={"Authorization": f"Bearer {key}"},
        json={"channel": "phone", "complainant": {"name": "赵六", "contact": "13600000000"},
              "description": "webhook 测试投诉"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    row.locator("a", has_text="投递记录").click()
    expect(admin.locator("h1")).to_have_text("Webhook 投递记录")
    deliveries = admin.locator("#deliveries tbody tr[data-delivery]")
    deadline = time.monotonic() + 60
    while deliveries.count() == 0 and time.monotonic() < deadline:
        time.sleep(1)  # the in-process worker relays the event and tries the POST
        admin.reload()
    expect(deliveries.first).to_be_visible()
    desk.shot(admin, "23-webhook-deliveries")
    deliveries.first.locator("button[type=submit]").click()
    expect(admin.locator("body")).to_contain_text("已排队重新发送")
    admin.goto(desk.base + "/admin#webhooks")
    row = admin.locator("#webhook-list tbody tr", has_text=hook_url)
    row.locator("button[type=submit]", has_text="停用").click()
    row = admin.locator("#webhook-list tbody tr", has_text=hook_url)
    expect(row).to_contain_text("否")
    desk.shot(admin, "24-webhook-disabled")
    row.locator("button[type=submit]", has_text="启用").click()
    expect(admin.locator("#webhook-list tbody tr", has_text=hook_url)).to_contain_text("是")


def test_no_request_left_for_another_host(desk: Desk) -> None:
    assert desk.requests, "the browser made no requests at all"
    foreign = [
        u for u in desk.requests if not u.startswith(desk.base) and not u.startswith("data:")
    ]
    assert foreign == []
    assert desk.errors == []
