"""No English and no codes where a Chinese desk looks (issue 19 item 4).

Every role of each tenant logs in (Chromium, zh-CN) and the visible text of the desk's
pages — the intake form, a ticket with files, grades and history, the account, the
administration page — is collected; any word in Latin letters that is
not on the allow-list (ticket numbers, file names, units of size) fails, naming the page,
the role and the word. Queue, approvals and reports are the other console pages'
(tests/test_console_browser.py and their own suites).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from test_console_browser import (  # noqa: F401  (module-scoped fixtures)
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
from test_console_walk import fill_form, png

TENANTS = {
    tf["slug"]: [u["username"] for u in tf.get("users", []) if u.get("demo_password")]
    for tf in (tomllib.loads(p.read_text()) for p in sorted((ROOT / "tenants").glob("*.toml")))
}
PAGES = ["/tickets/new", "{ticket}", "/account", "/admin"]
"""The notifications' texts are the hand-off notices' (issue 19 item 3, their own suite)."""
ALLOWED = re.compile(
    r"^(?:[A-Z]{2}-\d{4}-\d+"  # ticket numbers
    r"|[\w.-]+\.(?:png|jpg|pdf)"  # file names the desk gave
    r"|KB|MB|B"  # sizes
    r"|[A-D]"  # appraisal levels A–D, as the seed writes them
    r"|IC|URL|Webhook"  # IC卡 (positions of the tenant's staff), addresses, the protocol
    r"|English"  # the language switch names its language in that language
    r"|[A-Z]{2}-S\d{3}"  # staff numbers, as on the staff's badges
    r")$"
)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]|[A-Za-z]")

pytestmark = pytest.mark.timeout(600)  # whole walks in a browser, started first (SLOW_FIRST)


def visible_main(page: Page) -> str:
    return page.locator("main").inner_text()


FILES = re.compile(r"\S*\.(?:png|jpg|pdf)\b")


def english(text: str, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    words = WORD.findall(FILES.sub(" ", text))
    return sorted({w for w in words if not ALLOWED.match(w) and w not in allowed})


@pytest.fixture(scope="module")
def tickets(browser: Browser, server: str) -> Iterator[dict[str, str]]:  # noqa: F811
    """One ticket per tenant, recorded by its clerk with a photo, triaged and dispatched."""
    out: dict[str, str] = {}
    for tenant in TENANTS:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        login(page, server, tenant, "clerk", PASSWORDS[(tenant, "clerk")])
        page.goto(server + "/tickets/new")
        form = page.locator("#intake-form")
        fill_form(
            form,
            fill={
                "complainant.name": "张三丰",
                "complainant.contact": "13812345678",
                "description": "服务态度差",
            },
        )
        form.locator("select[name=kind]").select_option("photo")
        form.locator("input[type=file]").set_input_files(
            [{"name": "现场.png", "mimeType": "image/png", "buffer": png()}]
        )
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r"/tickets/\d+$"))
        out[tenant] = re.sub(r"^https?://[^/]+", "", page.url)
        context.close()
    yield out


@pytest.mark.parametrize("tenant", sorted(TENANTS))
def test_every_role_reads_chinese_only(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    tickets: dict[str, str],
    tenant: str,
) -> None:
    found: dict[str, list[str]] = {}
    for user in TENANTS[tenant]:
        context = browser.new_context(locale="zh-CN")
        try:
            page = context.new_page()
            login(page, server, tenant, user, PASSWORDS[(tenant, user)])
            for path in PAGES:
                url = server + path.format(ticket=tickets[tenant])
                response = page.goto(url)
                if response is None or response.status in (403, 404):
                    continue  # not this role's page: the error page is the other suite's
                # the administration page manages log-in names: they are the users' own
                own = set(TENANTS[tenant]) if path == "/admin" else set()
                words = english(visible_main(page), own)
                if words:
                    found[f"{user} {path}"] = words
        finally:
            context.close()
    assert found == {}, f"English or codes on {tenant}'s pages: {found}"
