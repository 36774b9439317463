"""Every action and event kind a ticket's history can hold has a Chinese label on the
timeline (issue 19 item 2), and each industry's words stay in its own console and API
(item 5: channels, closing conditions, registration reasons).

The kinds are collected from the code that writes history events — every literal (or
f-string with its known values) passed as the action to ``append_event``, every ``action=``
of a ``TicketEvent`` row, the lifecycle's transitions and the sweep's bulk rows — in the core
and in every plugin, so a new kind without a label fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import login

from core.app import create_app
from core.console import labels
from core.console.i18n import translations
from core.plugins import hooks_for
from core.settings import load_settings
from core.tickets.lifecycle import TRANSITIONS

ROOT = Path(__file__).resolve().parent.parent
FSTRING_VALUES = {
    # f"penalty_{d.action}": the decisions of core.penalties.service.Decision
    "penalty_": ("confirm", "adjust", "waive"),
    # f"extension_{ext.status}": an extension's decided states
    "extension_": ("approved", "rejected"),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _values(node: ast.AST, names: dict[str, str]) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in names:
        return {names[node.id]}
    if isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
        prefix = str(node.values[0].value)
        return {prefix + v for v in FSTRING_VALUES.get(prefix, ())}
    return set()


def _ticket_actions() -> set[str]:
    """Kinds written through ``append_event`` or as ticket events (not the audit log)."""
    out = set(TRANSITIONS) | {"intake"}
    for base in ("core", "plugins"):
        for path in (ROOT / base).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {  # module constants, e.g. AUTO_UPGRADE = "auto_upgrade"
                n.targets[0].id: n.value.value
                for n in ast.walk(tree)
                if isinstance(n, ast.Assign)
                and len(n.targets) == 1
                and isinstance(n.targets[0], ast.Name)
                and isinstance(n.value, ast.Constant)
                and isinstance(n.value.value, str)
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and (
                    getattr(node.func, "id", "") == "append_event"
                    # attachments number their events themselves (core.attachments.history)
                    or (
                        isinstance(node.func, ast.Attribute)
                        and node.func.attr == "append"
                        and getattr(node.func.value, "id", "") == "history"
                    )
                ):
                    if len(node.args) >= 3:
                        out |= _values(node.args[2], names)
                if isinstance(node, ast.Dict) and path.parent.name == "deadlines":
                    # the sweep's set-based path writes event rows as dicts {"action": ...}
                    for k, v in zip(node.keys, node.values, strict=True):
                        if isinstance(k, ast.Constant) and k.value == "action":
                            out |= _values(v, names)
    from core.deadlines.engine import AUTO_UPGRADE

    return out | {AUTO_UPGRADE}


def test_every_history_kind_has_a_chinese_label() -> None:
    kinds = _ticket_actions()
    assert {"attach", "penalty_adjust", "download_attachment", "appeal_decided"} <= kinds
    missing = sorted(kinds - set(labels.ACTIONS))
    assert missing == [], f"ticket history kinds without a console label: {missing}"
    zh = translations("zh_CN").gettext
    for code in kinds:
        assert CJK.search(zh(labels.ACTIONS[code])), f"{code} has no Chinese label"


# ---------------------------------------------------------------- industry words


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings({"DATABASE_URL": api.url}))
    with TestClient(app) as client:
        yield client


def options(html: str, name: str) -> list[str]:
    m = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert m, f"no select {name}"
    return [v for v in re.findall(r'<option value="([^"]*)"', m.group(1)) if v]


WORDS = {
    # tenant: (plugin, words that are another industry's and must not show)
    "greenwood": ("property", ["95598", "乘客", "语音信箱"]),
    "citybus": ("transit", ["95598", "维修服务单", "业主", "语音信箱"]),
    "riverside-power": ("utility", ["维修服务单", "业主", "乘客"]),
}


@pytest.mark.parametrize("tenant", sorted(WORDS))
def test_each_console_offers_its_own_industry_words(
    api: Any, web: TestClient[Any], tenant: str
) -> None:
    plugin, foreign = WORDS[tenant]
    tax = hooks_for(plugin).taxonomy()
    assert login(web, "clerk", tenant=tenant).status_code == 303
    intake = web.get("/tickets/new").text
    assert options(intake, "channel") == [c.code for c in tax.channels]
    t = api.create(tenant)
    page = web.get(f"/tickets/{t['id']}").text
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style).*?</\1>", " ", intake + page))
    for word in foreign:
        assert word not in visible, (tenant, word)
    # the API says the same: the tenant's taxonomy names its own words
    body = api.get(tenant, "clerk", "/api/taxonomy").json()
    assert [c["code"] for c in body["channels"]] == [c.code for c in tax.channels]
    assert [c["code"] for c in body["closing_conditions"]] == [
        c.code for c in tax.closing_conditions
    ]
    text = str(body)
    for word in foreign:
        assert word not in text, (tenant, word)


def test_only_the_property_industry_closes_on_a_signed_service_slip() -> None:
    for plugin in ("property", "transit", "utility"):
        tax = hooks_for(plugin).taxonomy()
        codes = [c.code for c in tax.closing_conditions]
        assert ("service_slip_signed" in codes) == (plugin == "property"), plugin
        assert ("hotline_95598" in [c.code for c in tax.channels]) == (plugin == "utility")
        for term in (*tax.closing_conditions, *tax.register_reasons, *tax.channels):
            assert CJK.search(term.label_zh), term


@pytest.mark.parametrize("group", ["state", "channel", "resolution", "step", "action"])
def test_the_console_shows_the_words_of_core_tickets_labels(group: str) -> None:
    """One home for a ticket's words (core.tickets.labels, read by notifications and report
    files too): the console takes its English from there, and its catalogue gives the same
    Chinese, so a screen, a notification and a report file never name a code two ways."""
    from core.tickets import labels as words

    zh, en = translations("zh_CN").gettext, translations("en").gettext
    for code, (chinese, english) in words.GROUPS[group].items():
        assert labels.GROUPS[group][code] == english, (group, code)
        assert zh(labels.label(group, code)) == chinese, (group, code)
        assert en(labels.label(group, code)) == english, (group, code)
