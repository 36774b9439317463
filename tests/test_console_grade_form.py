# ruff: noqa: F811  (the browser fixtures are imported from test_console_browser)
"""The grading form in a real browser: a field hidden because the chosen level does not need
it (an offence tier under 无责) is not submitted, and a refusal whose field is hidden is
still shown, at the top of the form. Greenwood (主责 needs a tier; 无责 refuses one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from test_console_browser import (  # noqa: F401  (fixtures)
    PASSWORDS,
    browser,
    browser_context_args,
    browser_type,
    browser_type_launch_args,
    login,
    playwright,
)
from test_queue_browser import KEYS, Http, base  # noqa: F401  (the serve fixture)

GW = "greenwood"


class GwHttp(Http):
    def call(self, method: str, who: str, path: str, json: Any = None, tenant: str = GW) -> Any:
        return super().call(method, who, path, json, tenant=GW)

    def ready_to_grade(self) -> dict[str, Any]:
        t = self.create(accused_staff=["GW-S001"], accused_department="engineering",
                        description="维修后仍漏水")  # fmt: skip
        t = self.act("clerk", t, "triage_valid", category="repair_quality", severity="minor",
                     facets={"nature": "valid"})  # fmt: skip
        t = self.act("clerk", t, "register", reason="on_site")
        t = self.act("supervisor", t, "review")
        t = self.act("clerk", t, "dispatch", department="engineering")
        return self.act("head-engineering", t, "first_contact", note="已电话联系")


@pytest.fixture
def page(browser: Browser, base: str) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(15000)
    p = context.new_page()
    login(p, base, GW, "head-engineering", PASSWORDS[(GW, "head-engineering")])
    yield p
    context.close()


def test_a_hidden_tier_is_not_sent_and_a_hidden_refusal_is_shown(page: Page, base: str) -> None:
    http = GwHttp(base)
    t = http.ready_to_grade()
    page.goto(f"{base}/tickets/{t['id']}")
    box = page.locator("details[data-action=grade]")
    box.locator("summary").click()
    form = box.locator("form")
    tier = form.locator("select[name='grades.0.offence']")
    form.locator("select[name='grades.0.staff']").select_option("GW-S001")
    form.locator("select[name='grades.0.grade']").select_option("main")
    expect(tier).to_be_visible()
    tier.select_option("tier_2")
    form.locator("[name='grades.0.findings']").fill("核实情况")
    form.locator("[name=findings]").fill("维修质量问题属实")
    form.locator("select[name='grades.0.grade']").select_option("none")
    expect(tier).to_be_hidden()
    expect(tier).to_be_disabled()

    # a client that still sends the hidden tier (an old copy of the script): the refusal on
    # the hidden field is shown at the top of the form, in Chinese
    page.evaluate(
        """() => window.addEventListener("submit", () => {
            document.querySelector("#form-grade select[name='grades.0.offence']").disabled = false;
        }, true)"""
    )
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.method == "POST" else None)
    form.locator("button[type=submit]").last.click()
    page.wait_for_load_state("domcontentloaded")
    assert "grades.0.offence=tier_2" in sent[-1]
    form = page.locator("details[data-action=grade] form")
    expect(form.locator("select[name='grades.0.offence']")).to_be_hidden()
    top = form.locator(".hidden-errors .form-error")
    expect(top).to_be_visible()
    expect(top).to_contain_text("无责")

    # the form as the script leaves it: the hidden tier is not sent, the grading goes through
    page.goto(f"{base}/tickets/{t['id']}")
    page.locator("details[data-action=grade] summary").click()
    form = page.locator("details[data-action=grade] form")
    form.locator("select[name='grades.0.staff']").select_option("GW-S001")
    form.locator("select[name='grades.0.grade']").select_option("main")
    form.locator("select[name='grades.0.offence']").select_option("tier_2")
    form.locator("select[name='grades.0.grade']").select_option("none")
    form.locator("[name='grades.0.findings']").fill("核实情况")
    form.locator("[name=findings]").fill("维修质量问题属实")
    form.locator("button[type=submit]").last.click()
    page.wait_for_load_state("domcontentloaded")
    assert "offence" not in sent[-1], sent[-1]
    expect(page.locator("h1")).to_contain_text("已定责")
    http.client.close()
