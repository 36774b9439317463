"""A complaint walked entirely in the console, intake to close, in each of the three tenants
(issue 19, done-when): every grade level each plugin offers, every appeal outcome, each
penalty decision, an extension, a pause, a return and redispatch, files attached, and (where
the industry closes on a signed service slip) an attachment-gated close — each step by the
role that does it, in Chromium.

Every submit goes through :meth:`Walk.submit`, which fails when a submit changes nothing on
the page and says nothing (no message beside a field or at the top). Refusals a desk meets
are tried on purpose first (an empty intake, an adjusted fine of ``两百``, an overturn
without the offence the plugin needs, a close before the slip is attached) and must be
shown beside their field, in Chinese, with the typed values kept.

One ``tousu serve`` and one browser for the module; screenshots go to docs/console/ when
``TOUSU_DOC_SHOTS=1`` (docs/console.md shows them), else to the pytest output directory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
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

CJK = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.timeout(600)  # whole walks in a browser, started first (SLOW_FIRST)


def png(colour: tuple[int, int, int] = (200, 30, 30), size: int = 24) -> bytes:
    """A small valid PNG (the API sniffs the bytes)."""
    raw = b"".join(b"\x00" + bytes(colour) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def small(path: Path) -> None:
    """A screenshot for docs/: the first 2600 px, ¾ size, 128 colours (tens of KB)."""
    from PIL import Image

    im = Image.open(path).convert("RGB")
    im = im.crop((0, 0, im.width, min(im.height, 2600)))
    im = im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.Resampling.LANCZOS)
    im.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


@dataclass
class Walk:
    browser: Browser
    base: str
    shots: Path
    tenant: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    ticket: str = ""

    def as_(self, username: str) -> Page:
        key = f"{self.tenant}/{username}"
        if key not in self.pages:
            context = self.browser.new_context(
                locale="zh-CN", viewport={"width": 1280, "height": 900}
            )
            context.set_default_timeout(15000)
            page = context.new_page()
            page.on("pageerror", lambda e: self.errors.append(str(e)))
            login(page, self.base, self.tenant, username, PASSWORDS[(self.tenant, username)])
            self.pages[key] = page
        page = self.pages[key]
        if self.ticket:  # each step reads the ticket as it is now (its version)
            page.goto(self.base + self.ticket)
        return page

    def shot(self, page: Page, name: str, part: str = "") -> None:
        path = self.shots / f"{self.tenant}-{name}.png"
        if part:
            page.locator(part).screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=True)
        if os.environ.get("TOUSU_DOC_SHOTS"):
            small(path)

    # ------------------------------------------------------------ submitting

    @staticmethod
    def said(page: Page) -> str:
        msgs = page.locator(".err:visible, .form-error:visible")
        return " | ".join(msgs.all_inner_texts()) if msgs.count() else ""

    def submit(self, page: Page, form: Locator, *, refused: bool = False) -> str:
        """Send ``form``; fail if the page neither changed nor said anything. Returns what
        the page said (messages beside fields or at the top) — empty when it changed."""
        before = page.locator("main").inner_text()
        form.locator("button[type=submit]").last.click()
        page.wait_for_load_state("domcontentloaded")
        after = page.locator("main").inner_text()
        said = self.said(page)
        assert after != before or said, f"a submit changed nothing and said nothing: {page.url}"
        if refused:
            assert said, f"expected a refusal on {page.url}"
            assert CJK.search(said), f"the refusal is not in Chinese: {said}"
        else:
            assert not said, f"refused: {said}"
        return said

    def open(self, page: Page, action: str) -> Locator:
        box = page.locator(f"details[data-action={action}]")
        expect(box, f"{action} is offered").to_have_count(1)
        if box.get_attribute("open") is None:
            box.locator("summary").click()
        return box.locator("form")

    def act(
        self,
        user: str,
        action: str,
        *,
        select: dict[str, str] | None = None,
        fill: dict[str, str] | None = None,
        check: list[str] | None = None,
        refused: bool = False,
    ) -> str:
        page = self.as_(user)
        form = self.open(page, action)
        fill_form(form, select, fill, check)
        return self.submit(page, form, refused=refused)

    def state(self, user: str, text: str) -> None:
        expect(self.as_(user).locator("h1")).to_contain_text(text)


def fill_form(
    form: Locator,
    select: dict[str, str] | None = None,
    fill: dict[str, str] | None = None,
    check: list[str] | None = None,
) -> None:
    for name, value in (select or {}).items():
        form.locator(f"select[name='{name}']").select_option(value)
    for name, value in (fill or {}).items():
        form.locator(f"[name='{name}']").fill(value)
    for name in check or []:
        boxes = form.locator(f"input[type=checkbox][name='{name}']")
        for i in range(boxes.count()):
            boxes.nth(i).check()


@pytest.fixture(scope="module")
def shots(pytestconfig: pytest.Config) -> Path:
    if os.environ.get("TOUSU_DOC_SHOTS"):
        out = ROOT / "docs" / "console"
    else:
        out = Path(pytestconfig.getoption("--output")) / "console-walk"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def walk(browser: Browser, server: str, shots: Path) -> Iterator[Walk]:  # noqa: F811
    w = Walk(browser, server, shots)
    yield w
    for page in w.pages.values():
        page.context.close()


def intake(w: Walk, staff: list[str], channel: str, dept: str, files: Path) -> str:
    """The clerk records the complaint with two photos; an empty form first shows every
    missing field beside itself."""
    clerk = w.as_("clerk")
    clerk.goto(w.base + "/tickets/new")
    form = clerk.locator("#intake-form")
    form.locator("[name=description]").fill("司机态度恶劣")
    said = w.submit(clerk, form, refused=True)
    for name in ("complainant.name", "complainant.contact"):
        expect(clerk.locator(f"[data-field='{name}']")).to_contain_text("必填")
    assert "complainant" not in said and "required" not in said
    expect(form.locator("[name=description]")).to_have_value("司机态度恶劣")
    fill_form(
        form,
        select={"channel": channel, "accused_department": dept},
        fill={"complainant.name": "张三丰", "complainant.contact": "abc"},
    )
    form.locator("select[name='accused_staff[]']").select_option(staff)
    w.submit(clerk, form, refused=True)
    expect(clerk.locator("[data-field='complainant.contact']")).to_contain_text("手机号")
    expect(form.locator("[name='complainant.name']")).to_have_value("张三丰")
    w.shot(clerk, "01-intake-refused")
    form.locator("[name='complainant.contact']").fill("13812345678")
    form.locator("[name=event_time]").fill("2026-12-01T08:30")
    form.locator("select[name=kind]").select_option("photo")
    form.locator("input[type=file]").set_input_files(
        [
            {"name": "现场1.png", "mimeType": "image/png", "buffer": png((200, 30, 30))},
            {"name": "现场2.png", "mimeType": "image/png", "buffer": png((30, 30, 200))},
        ]
    )
    w.submit(clerk, form)
    expect(clerk).to_have_url(re.compile(r"/tickets/\d+$"))
    w.ticket = re.sub(r"^https?://[^/]+", "", clerk.url)
    rows = clerk.locator("#attachments tr.attachment")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("现场照片")
    expect(clerk.locator("#attachments img.thumb")).to_have_count(2)
    expect(clerk.locator("#summary")).to_contain_text("2026-12-01 08:30")
    w.shot(clerk, "02-ticket-received")
    return w.ticket


def clock_steps(w: Walk, head: str, manager: str) -> None:
    """A pause and its resumption, then an extension the manager approves."""
    page = w.as_(head)
    box = page.locator("#clocks details.action", has_text="暂停计时").first
    box.locator("summary").click()
    form = box.locator("form")
    form.locator("select[name=reason]").select_option(index=1)
    w.submit(page, form)
    expect(page.locator("#clocks")).to_contain_text("已暂停")
    w.submit(page, page.locator("#clocks form.inline").first)
    expect(page.locator("#history")).to_contain_text("计时恢复")
    box = page.locator("#clocks details.action", has_text="申请延期").first
    box.locator("summary").click()
    form = box.locator("form")
    w.submit(page, form, refused=True)  # nothing filled: amount, unit and reason asked for
    expect(form.locator("[data-field=reason]")).to_be_visible()
    fill_form(form, select={"unit": "calendar_days"}, fill={"amount": "2", "reason": "等待配件"})
    if form.locator("select[name='complainant_told.by']").count():  # told first [002 第十五条]
        fill_form(
            form,
            select={"complainant_told.by": head, "complainant_told.how": "phone"},
            fill={
                "complainant_told.at": f"{dt.datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%dT%H:%M}"
            },
        )
    w.submit(page, form)
    expect(page.locator("#history")).to_contain_text("已申请延期")
    boss = w.as_(manager)
    boss.goto(w.base + "/approvals")
    row = boss.locator("tr", has_text="等待配件").first
    w.submit(boss, row.locator("form").first)
    boss.goto(w.base + w.ticket)
    expect(boss.locator("#history")).to_contain_text("延期已批准")


def penalties(w: Walk, manager: str) -> None:
    """Each decision once: the first proposed penalty confirmed (or adjusted when it has no
    amount), the next adjusted (after ``两百`` is refused beside the field), the next waived."""
    page = w.as_(manager)
    done: list[str] = []
    for verb in ("adjust", "confirm", "waive"):
        rows = page.locator("#penalties tbody tr", has=page.locator("details.action"))
        if rows.count() == 0:
            break
        row = rows.first
        row.locator("summary").click()
        form = row.locator(f"form.penalty-{verb}")
        if verb == "confirm" and "—" == row.locator("td").nth(2).inner_text().strip():
            verb, form = "adjust", row.locator("form.penalty-adjust")
        if verb == "adjust" and "adjust" not in done:
            form.locator("[name=amount_yuan]").fill("两百")
            form.locator("[name=reason]").fill("情节较轻")
            said = w.submit(page, form, refused=True)
            assert "amount_yuan" not in said and "Invalid" not in said, said
            form = page.locator("details[open] form.penalty-adjust")
            expect(form.locator("[name=amount_yuan]")).to_have_value("两百")
            expect(form.locator("[name=reason]")).to_have_value("情节较轻")
            w.shot(page, "09-penalty-amount-refused")
        if verb == "adjust":
            form.locator("[name=amount_yuan]").fill("50")
            form.locator("[name=reason]").fill("情节较轻")
        if verb == "waive":
            form.locator("[name=reason]").fill("首次，口头教育")
        w.submit(page, form)
        done.append(verb)
    assert done, "no penalty was proposed"


def appeal(w: Walk, staff_user: str, reason: str) -> None:
    page = w.as_(staff_user)
    box = page.locator("#grades details.action")
    box.locator("summary").click()
    box.locator("[name=reason]").fill(reason)
    w.submit(page, box.locator("form"))
    expect(page.locator("#appeals")).to_contain_text(reason)


def decide_appeal(w: Walk, manager: str, reason: str, decision: str, **fields: str) -> None:
    page = w.as_(manager)
    row = page.locator("#appeals tbody tr", has_text=reason)
    row.locator("summary").click()
    form = row.locator("form")
    form.locator("select[name=decision]").select_option(decision)
    fill_form(
        form,
        select={k: v for k, v in fields.items() if k in ("grade", "offence")},
        fill={"reason": "复核后决定"}
        | {k: v for k, v in fields.items() if k not in ("grade", "offence")},
    )
    w.submit(page, form)
    expect(page.locator("#appeals tbody tr", has_text=reason)).to_contain_text(
        "改判" if decision == "overturned" else "维持"
    )


def common_start(
    w: Walk, staff: list[str], dept: str, head: str, triage: dict[str, str], files: Path
) -> None:
    intake(w, staff, "phone", dept, files)
    w.act("clerk", "triage_valid", select=triage)
    w.act("clerk", "register", select={"reason": "needs_follow_up", "owner": "clerk"})
    expect(w.as_("clerk").locator("#summary")).to_contain_text("跟进人")
    w.act("supervisor", "review", fill={"note": "已核对"})
    w.act("clerk", "dispatch", select={"department": dept})
    w.act(head, "return", fill={"reason": "应由本部门另一班组处理，退回重派"})
    w.act("clerk", "dispatch", select={"department": dept}, fill={"note": "重新派单"})
    w.act(head, "first_contact", fill={"note": "已电话联系投诉人"})


def finish(
    w: Walk, head: str, manager: str, verification: str, checks: list[str] | None = None
) -> None:
    page = w.as_(head)
    if page.locator("details[data-action=reply]").count():
        w.act(head, "reply", fill={"reply": "已核实并处理，向您致歉"}, check=["apology"])
    for reviewer in ("supervisor", manager):  # who reviews replies is the industry's word
        page = w.as_(reviewer)
        if page.locator("details[data-action=review_reply]").count():
            w.act(reviewer, "review_reply", fill={"note": "答复属实"})
            break
    w.act("clerk", "follow_up", fill={"note": "投诉人表示满意"})
    penalties(w, "gm")  # the manager re-proposed some when overturning: another decides
    # only the utility's close asks its 四不放过 checklist [002 第二条]
    w.act(manager, "close", select={"verification": verification}, check=checks or [])
    w.state(manager, "已销项")


def timeline_is_labelled(w: Walk, user: str) -> None:
    page = w.as_(user)
    heads = page.locator("#history li > b").all_inner_texts()
    assert heads and "—" not in heads, heads
    text = page.locator("#history").inner_text()
    for code in ("on_site", "needs_follow_up", "overturned", "appeal ", "_"):
        assert code not in text, (code, text)
    w.shot(page, "10-closed-history", part="#history")


def test_greenwood_walks_a_complaint_to_a_slip_gated_close(walk: Walk, tmp_path: Path) -> None:
    w = walk
    w.tenant, w.ticket = "greenwood", ""
    staff = ["GW-S001", "GW-S002", "GW-S003", "GW-S006"]
    common_start(
        w,
        staff,
        "engineering",
        "head-engineering",
        {"category": "repair_quality", "severity": "important", "facets.nature": "valid"},
        tmp_path,
    )
    clock_steps(w, "head-engineering", "gm")  # 重要投诉超时需经总经理批准 [000 §篇1 4(4)9]
    head = w.as_("head-engineering")
    form = w.open(head, "grade")
    lines = {
        0: ("GW-S001", "main", "tier_2"),
        1: ("GW-S002", "full", "tier_3"),
        2: ("GW-S003", "none", None),
        3: ("GW-S006", "secondary", "tier_1"),
    }
    for i, (code, level, _) in lines.items():
        form.locator(f"select[name='grades.{i}.staff']").select_option(code)
        form.locator(f"select[name='grades.{i}.grade']").select_option(level)
        form.locator(f"[name='grades.{i}.findings']").fill("核实情况")
    form.locator("[name=findings]").fill("维修质量问题属实")
    w.submit(head, form, refused=True)  # the tiers the plugin needs are not picked yet
    expect(form.locator("[data-field='grades.0.offence']")).to_contain_text("档")
    w.shot(head, "05-grade-needs-tier")
    for i, (_, _, tier) in lines.items():
        if tier:
            form.locator(f"select[name='grades.{i}.offence']").select_option(tier)
    w.submit(head, form)
    w.state("head-engineering", "已定责")
    appeal(w, "staff-wang", "维修配件未到，并非擅自离场")
    appeal(w, "staff-zhang", "当天不在岗")
    manager = w.as_("manager")
    row = manager.locator("#appeals tbody tr", has_text="维修配件未到")
    row.locator("summary").click()
    form = row.locator("form")
    form.locator("select[name=decision]").select_option("overturned")
    form.locator("select[name=grade]").select_option("secondary")
    form.locator("[name=reason]").fill("配件延误属实")
    w.submit(manager, form, refused=True)  # 次责 needs an offence tier in this industry
    w.shot(manager, "07-appeal-refused")
    form = manager.locator("#appeals details[open] form")
    expect(form.locator("[data-field=offence]")).to_be_visible()
    expect(form.locator("[name=reason]")).to_have_value("配件延误属实")
    form.locator("select[name=offence]").select_option("tier_1")
    w.submit(manager, form)
    decide_appeal(w, "manager", "当天不在岗", "upheld")
    finish_greenwood(w)


def finish_greenwood(w: Walk) -> None:
    page = w.as_("head-engineering")
    w.act("head-engineering", "reply", fill={"reply": "电梯已修复，向您致歉"}, check=["apology"])
    w.act("clerk", "follow_up", fill={"note": "业主表示满意"})
    penalties(w, "gm")  # the manager re-proposed some when overturning: another decides
    said = w.act("manager", "close", select={"verification": "service_slip_signed"}, refused=True)
    assert "POST" not in said and "/api/" not in said, said
    page = w.as_("manager")
    w.shot(page, "11-close-needs-slip")
    box = page.locator("#attachments details.action")
    box.locator("summary").click()
    form = box.locator("form")
    form.locator("select[name=kind]").select_option("service_slip")
    form.locator("input[type=file]").set_input_files(
        [{"name": "维修服务单.png", "mimeType": "image/png", "buffer": png((20, 160, 20))}]
    )
    w.submit(page, form)
    expect(page.locator("#attachments")).to_contain_text("维修服务单")
    w.act("manager", "close", select={"verification": "service_slip_signed"})
    w.state("manager", "已销项")
    timeline_is_labelled(w, "manager")
    # the staff member complained about sees neither the slip nor the complainant
    staff = w.as_("staff-wang")
    expect(staff.locator("#attachments")).not_to_contain_text("维修服务单.png")
    expect(staff.locator("#attachments")).to_contain_text("现场1.png")


def test_citybus_walks_every_grade_and_outcome(walk: Walk, tmp_path: Path) -> None:
    w = walk
    w.tenant, w.ticket = "citybus", ""
    common_start(
        w,
        ["CB-S001", "CB-S002", "CB-S003", "CB-S006"],
        "fleet-1",
        "head-fleet1",
        {"category": "skip_stop", "severity": "general"},
        tmp_path,
    )
    clock_steps(w, "head-fleet1", "manager")
    head = w.as_("head-fleet1")
    form = w.open(head, "grade")
    lines = {0: ("CB-S001", "main"), 1: ("CB-S002", "full"), 2: ("CB-S003", "none"),
             3: ("CB-S006", "secondary")}  # fmt: skip
    for i, (code, level) in lines.items():
        form.locator(f"select[name='grades.{i}.staff']").select_option(code)
        form.locator(f"select[name='grades.{i}.grade']").select_option(level)
        form.locator(f"[name='grades.{i}.findings']").fill("核实情况")
    form.locator("[name=findings]").fill("甩站属实")
    w.submit(head, form, refused=True)  # 主责 needs the passenger's own violation
    expect(form.locator("[data-field='grades.0.complainant_violation']")).to_be_visible()
    w.shot(head, "05-grade-needs-violation")
    for i, (_, level) in lines.items():
        if level != "full":
            form.locator(f"[name='grades.{i}.complainant_violation']").fill("乘客未在站台候车")
    w.submit(head, form)
    w.state("head-fleet1", "已定责")
    appeal(w, "staff-wang", "当时站台无人候车")
    appeal(w, "staff-yang", "并非本人当班")
    decide_appeal(
        w, "manager", "当时站台无人候车", "overturned", grade="secondary",
        complainant_violation="乘客在非站点招手",
    )  # fmt: skip
    decide_appeal(w, "manager", "并非本人当班", "upheld")
    finish(w, "head-fleet1", "manager", "result_confirmed")
    timeline_is_labelled(w, "manager")


def test_riverside_power_walks_every_grade_and_outcome(walk: Walk, tmp_path: Path) -> None:
    w = walk
    w.tenant, w.ticket = "riverside-power", ""
    common_start(
        w,
        ["RP-S001", "RP-S002", "RP-S005"],
        "station-chengguan",
        "head-chengguan",
        {"category": "service_attitude", "severity": "general"},
        tmp_path,
    )
    clock_steps(w, "head-chengguan", "manager")
    head = w.as_("head-chengguan")
    form = w.open(head, "grade")
    lines = {0: ("RP-S001", "main"), 1: ("RP-S002", "none"), 2: ("RP-S005", "secondary")}
    for i, (code, level) in lines.items():
        form.locator(f"select[name='grades.{i}.staff']").select_option(code)
        form.locator(f"select[name='grades.{i}.grade']").select_option(level)
        form.locator(f"[name='grades.{i}.findings']").fill("核实情况")
    form.locator("[name=findings]").fill("服务态度问题属实")
    said = w.submit(head, form, refused=True)  # a general event: the offence is picked
    assert "general_" not in said and "RP-S001:" not in said, said
    w.shot(head, "05-grade-needs-offence")
    for i, (_, level) in lines.items():
        if level != "none":
            form.locator(f"select[name='grades.{i}.offence']").select_option(
                "general_poor_attitude"
            )
    w.submit(head, form)
    w.state("head-chengguan", "已定责")
    appeal(w, "staff-chen", "客户先辱骂在先")
    appeal(w, "staff-zhou", "未参与此次服务")
    decide_appeal(
        w, "manager", "客户先辱骂在先", "overturned", grade="secondary",
        offence="general_poor_attitude",
    )  # fmt: skip
    decide_appeal(w, "manager", "未参与此次服务", "upheld")
    finish(w, "head-chengguan", "manager", "result_confirmed", ["four_donts[]"])
    timeline_is_labelled(w, "manager")


def test_no_script_errors(walk: Walk) -> None:
    assert walk.errors == []


_ = Any
