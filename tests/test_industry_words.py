"""Issue #19 item 5: an industry's words come from its plugin; none of one industry shows,
or is taken, in another's tenant (channels, the close form's checklist)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import login
from test_lifecycle_tenants import new_ticket, to_replied

from core.app import create_app
from core.plugins import hooks_for
from core.settings import load_settings

TENANT_PLUGIN = {"citybus": "transit", "riverside-power": "utility", "greenwood": "property"}

BODY = {
    "complainant": {"name": "张三丰", "contact": "13812345678"},
    "description": "渠道检查",
}

# tenant -> (plugin, a channel another industry's plugin lists and this one does not)
FOREIGN_CHANNEL = {
    "greenwood": ("property", "hotline_95598"),
    "citybus": ("transit", "voice_mailbox"),
}


@pytest.mark.parametrize("tenant", sorted(FOREIGN_CHANNEL))
def test_intake_refuses_another_industrys_channel(api: Any, tenant: str) -> None:
    plugin, channel = FOREIGN_CHANNEL[tenant]
    r = api.post(tenant, "clerk", "/api/tickets", json=BODY | {"channel": channel})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "channel", err
    assert "channel" in err["rule"], err
    allowed = [c.code for c in hooks_for(plugin).taxonomy().channels]
    assert err["allowed"] == allowed and channel not in allowed
    assert "渠道" in err["message"], err
    # nothing was written: the tenant's list has no ticket with that channel
    listed = api.get(tenant, "clerk", "/api/tickets", params={"channel": channel}).json()
    assert not listed["items"], listed


def test_the_utility_tenant_takes_its_own_hotline(api: Any) -> None:
    t = api.create("riverside-power", channel="hotline_95598")
    assert t["channel"] == "hotline_95598"


# ---------------------------------------------------------------- the close checklist


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings({"DATABASE_URL": api.url}))
    with TestClient(app) as client:
        yield client


def _followed_up(api: Any, tenant: str) -> dict[str, Any]:
    t = to_replied(api, tenant, new_ticket(api, tenant))
    t = api.act(tenant, "clerk", t, "follow_up", note="satisfied")
    if tenant == "riverside-power":  # 经市场营销部审核后归档 [002 第十六条]
        t = api.act(tenant, "manager", t, "review_reply", note="reply checked")
    t = api.get(tenant, "manager", f"/api/tickets/{t['id']}").json()
    assert "close" in t["allowed_actions"], t
    return t  # type: ignore[no-any-return]


@pytest.mark.parametrize("tenant", ["citybus", "riverside-power"])
def test_the_close_form_asks_the_checklist_only_where_the_industry_has_one(
    api: Any, web: TestClient[Any], tenant: str
) -> None:
    checks = hooks_for(TENANT_PLUGIN[tenant]).taxonomy().close_checklist
    t = _followed_up(api, tenant)
    assert login(web, "manager", tenant=tenant).status_code == 303
    page = web.get(f"/tickets/{t['id']}").text
    assert 'data-action="close"' in page or "data-action=close" in page
    ticks = re.findall(r'name="four_donts\[\]"[^>]*value="([^"]*)"', page) or re.findall(
        r'value="([^"]*)"[^>]*name="four_donts\[\]"', page
    )
    assert ticks == [c.code for c in checks]
    assert ("不放过" in page) == (tenant == "riverside-power")
    # the API: a code outside the industry's checklist is refused, naming the field
    r = api.post(
        tenant,
        "manager",
        f"/api/tickets/{t['id']}/close",
        json={"version": t["version"], "verification": "result_confirmed",
              "four_donts": ["cause_found", "no_such_check"]},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    bad = 1 if checks else 0
    assert (err["field"], err["allowed"]) == (f"four_donts[{bad}]", [c.code for c in checks])
    assert "销项核查" in err["message"], err


def test_a_bus_complaint_takes_neither_the_property_close_nor_its_registration_reason(
    api: Any,
) -> None:
    """The close conditions and registration reasons the console offers are the API's too."""
    tax = hooks_for("transit").taxonomy()
    t = new_ticket(api, "citybus")
    t = api.act("citybus", "clerk", t, "triage_valid", category="skip_stop", severity="general",
                facets={"direction": "government", "mode": "phone"})  # fmt: skip
    err = api.act("citybus", "clerk", t, "register", 422, reason="outside_scope_help")["error"]
    assert (err["field"], err["allowed"]) == ("reason", [r.code for r in tax.register_reasons])
    assert "立项原因" in err["message"], err
    t = _followed_up(api, "citybus")
    err = api.act("citybus", "manager", t, "close", 422, verification="service_slip_signed")
    err = err["error"]
    assert (err["field"], err["allowed"]) == (
        "verification",
        [c.code for c in tax.closing_conditions],
    )
    assert "销项条件" in err["message"], err
    assert api.get("citybus", "manager", f"/api/tickets/{t['id']}").json()["state"] == "followed_up"
