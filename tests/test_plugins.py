"""Plugin plumbing: entry-point discovery, per-tenant taxonomy, documented hooks."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

from core import hookspecs
from core.plugins import describe_plugins, hooks_for
from core.rules import TicketFacts

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def _hook_names() -> list[str]:
    return [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
            if n.startswith("tousu_")]


def _facts(**kw):
    base = dict(number="X-1", state="followed_up", channel="phone", category=None,
                severity=None, facets={}, facts={}, created_at=dt.datetime.now(dt.UTC))
    return TicketFacts(**(base | kw))


def test_builtin_plugins_come_through_the_entry_point_group():
    plugins = {p["name"]: p for p in describe_plugins()}
    assert {"property", "utility", "transit"} <= set(plugins)
    for name in ("property", "utility", "transit"):
        assert plugins[name]["distribution"] == "tousu"  # loaded via its entry point
        assert "tousu_taxonomy" in plugins[name]["hooks"]


def test_plugins_endpoint_lists_them(api):
    r = api.get("citybus", "clerk", "/api/plugins")
    assert r.status_code == 200
    names = {p["name"] for p in r.json()}
    assert {"property", "utility", "transit"} <= names


def test_each_tenant_sees_its_own_taxonomy(api):
    tax = {t: api.get(t, "clerk", "/api/taxonomy").json()
           for t in ("greenwood", "riverside-power", "citybus")}
    assert tax["greenwood"]["industry"] == "property"
    assert {s["code"] for s in tax["greenwood"]["severities"]} == {"major", "important", "minor"}
    # 002 《客户投诉管理考核办法》第十条: four classes, seventeen items.
    assert tax["riverside-power"]["industry"] == "utility"
    assert len(tax["riverside-power"]["category_groups"]) == 4
    assert len(tax["riverside-power"]["categories"]) == 17
    assert tax["citybus"]["industry"] == "transit"
    facets = {f["code"] for f in tax["citybus"]["facets"]}
    assert {"direction", "mode"} <= facets  # 000 §篇8 2


def test_industry_hooks_reach_only_the_tenants_plugin():
    assert hooks_for("utility").taxonomy().industry == "utility"
    assert hooks_for("property").taxonomy().industry == "property"
    # property's closers for major do not leak into another industry's answer
    major = _facts(severity="major")
    assert hooks_for("property").approvers("close", major) == ["manager", "general_manager"]
    assert hooks_for("utility").approvers("close", _facts(severity="general")) is None


def test_every_hook_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for name in _hook_names():
        assert f"### `{name}(" in text, f"{name} missing from docs/plugins.md"


def test_every_hook_has_a_docstring_contract():
    for name in _hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert "Called" in doc.splitlines()[0], name
