"""Nobody approves their own request: extension, penalty, appeal, closure (issue 12 §3).

"超时需经物业部经理批准" [000 §篇1 4(4)9]: 物业部经理 is one role, mapped once in
plugins/property/roles.py (``manager``), never the head of the department that overran
(domain §10). Whoever asked for a step never decides it (core/people/duties.py): 403
``rule="separation of duties"`` naming the step, and nothing changes. Through the HTTP API on
both backends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from conftest import make_operator, small_tenant
from dutykit import TENANTS, error, history, walk

from core.plugins import hooks_for
from core.rules import TicketFacts


def ask_extension(api: Any, tenant: str, user: str, t: dict[str, Any], step: str = "reply",
                  **extra: Any) -> Any:  # fmt: skip
    return api.post(tenant, user, f"/api/tickets/{t['id']}/deadlines/{step}/extensions",
                    json={"amount": 1, "unit": "calendar_days",
                          "reason": "parts on order", **extra})  # fmt: skip


def decide_extension(api: Any, tenant: str, user: str, ext_id: int, verb: str = "approve",
                     headers: dict[str, str] | None = None) -> Any:  # fmt: skip
    path = f"/api/extensions/{ext_id}/{verb}"
    if headers is not None:
        return api.client.post(path, json={"reason": "ok"}, headers=headers)
    return api.post(tenant, user, path, json={"reason": "ok"})


def _facts(severity: str) -> TicketFacts:
    return TicketFacts(number="X-1", state="dispatched", channel="phone", category=None,
                       severity=severity, facets={}, facts={},
                       created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip


# ---------------------------------------------------------------- one mapping of 物业部经理


def test_property_manager_is_one_role_everywhere():
    """物业部经理 approves a minor overrun [000 §篇1 4(4)9] and receives important complaints
    [000 §篇1 4(4)3②, 4(4)4]: the same role, ``manager``, in both places; never
    ``department_head``."""
    from plugins.property.roles import PROPERTY_MANAGER

    hooks = hooks_for("property")
    minor = hooks.approvers("extension", _facts("minor"))
    assert minor is not None and PROPERTY_MANAGER in minor
    assert "department_head" not in minor
    important = next(e for e in hooks.deadlines().escalations if e.severity == "important")
    assert important.notify_roles == (PROPERTY_MANAGER,)
    assert PROPERTY_MANAGER == "manager"


def test_head_whose_department_overran_does_not_approve_its_extension(api):
    """The named example: today the head whose department overran approves his own extension.
    He asks; neither he nor another department head approves; the property manager does."""
    tenant, c = "greenwood", TENANTS["greenwood"]
    t = walk(api, tenant, "in_progress")
    r = ask_extension(api, tenant, c["head"], t)
    assert r.status_code == 201, r.text
    ext = r.json()
    r = decide_extension(api, tenant, c["head"], ext["id"])
    assert r.status_code == 403, r.text
    assert error(r)["rule"] == "role"
    assert error(r)["allowed_roles"] == ["general_manager", "manager"]
    # another department's head does not even see the ticket
    assert decide_extension(api, tenant, c["other_head"], ext["id"]).status_code == 404
    r = decide_extension(api, tenant, "manager", ext["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    last = history(api, tenant, t)[-1]
    assert (last["action"], last["actor"]) == ("extension_approved", "manager")


def test_requester_of_an_extension_does_not_approve_it(api):
    tenant = "greenwood"
    t = walk(api, tenant, "in_progress")
    r = ask_extension(api, tenant, "manager", t)
    assert r.status_code == 201, r.text
    ext_id = r.json()["id"]
    r = decide_extension(api, tenant, "manager", ext_id)
    assert r.status_code == 403, r.text
    err = error(r)
    assert (err["rule"], err["step"]) == ("separation of duties", "extension")
    assert history(api, tenant, t)[-1]["action"] == "extension_requested"  # nothing written
    r = decide_extension(api, tenant, "gm", ext_id, "reject")
    assert r.status_code == 200 and r.json()["status"] == "rejected"


def test_requester_may_not_reject_his_own_extension_either(api):
    tenant = "riverside-power"
    t = walk(api, tenant, "in_progress")
    told = {"by": "manager", "at": dt.datetime.now(dt.UTC).isoformat(), "how": "phone"}
    r = ask_extension(api, tenant, "manager", t, complainant_told=told)
    assert r.status_code == 201, r.text
    r = decide_extension(api, tenant, "manager", r.json()["id"], "reject")
    assert r.status_code == 403 and error(r)["rule"] == "separation of duties"


def test_head_of_the_overrun_department_is_refused_even_holding_a_managers_role(api):
    """A department head who is also a manager still does not approve his own department's
    overrun: the rule is the department, not the role."""
    slug = "duties-dual"
    doc = small_tenant(slug, "DDU", plugin="property")
    key = f"{slug}-headmgr-test-key-0001"
    doc["users"].append({"username": "headmgr", "roles": ["department_head", "manager"],
                         "department": "desk", "demo_key": key})  # fmt: skip
    op = make_operator(api)
    r = api.client.post("/api/tenants", json=doc, headers=op)
    assert r.status_code == 201, r.text
    h = {u: {"Authorization": f"Bearer {slug}-{u}-test-key-0001"}
         for u in ("clerk", "supervisor", "head", "manager", "headmgr")}  # fmt: skip

    def act(user: str, t: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        r = api.client.post(f"/api/tickets/{t['id']}/{action.replace('_', '-')}",
                            json={"version": t["version"]} | body, headers=h[user])  # fmt: skip
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    r = api.client.post("/api/tickets", headers=h["clerk"], json={
        "channel": "phone", "description": "lift stuck",
        "complainant": {"name": "赵六", "contact": "13900001111"}})  # fmt: skip
    assert r.status_code == 201, r.text
    t = act("clerk", r.json(), "triage_valid", category="repair_quality", severity="minor",
            facets={"nature": "valid"})  # fmt: skip
    t = act("clerk", t, "register", reason="on_site")
    t = act("clerk", t, "dispatch", department="desk")
    r = api.client.post(
        f"/api/tickets/{t['id']}/deadlines/reply/extensions",
        headers=h["head"],
        json={"amount": 1, "unit": "calendar_days", "reason": "parts"},
    )
    assert r.status_code == 201, r.text
    ext_id = r.json()["id"]
    r = decide_extension(api, slug, "headmgr", ext_id, headers=h["headmgr"])
    assert r.status_code == 403, r.text
    assert error(r)["rule"] == "separation of duties"
    assert "超时部门" in error(r)["message"]
    r = decide_extension(api, slug, "manager", ext_id, headers=h["manager"])
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- penalties and appeals


def _penalty(api: Any, tenant: str, t: dict[str, Any], staff: str) -> dict[str, Any]:
    rows = api.get(tenant, "manager", f"/api/tickets/{t['id']}/penalties").json()
    return next(x for x in rows if x["status"] == "proposed" and x["staff"] == staff)


def test_grader_who_proposed_a_penalty_does_not_decide_it(api):
    """A manager who graded (and so proposed the penalty) may not confirm, adjust or waive
    it; the general manager may."""
    tenant, c = "citybus", TENANTS["citybus"]
    t = walk(api, tenant, "graded", grader="manager")
    p = _penalty(api, tenant, t, c["staff"])
    for verb, body in (("confirm", {}), ("adjust", {"amount_yuan": "50", "reason": "x"}),
                       ("waive", {"reason": "x"})):  # fmt: skip
        r = api.post(tenant, "manager", f"/api/penalties/{p['id']}/{verb}", json=body)
        assert r.status_code == 403, r.text
        assert (error(r)["rule"], error(r)["step"]) == ("separation of duties", "penalty")
    assert _penalty(api, tenant, t, c["staff"])["status"] == "proposed"
    r = api.post(tenant, "gm", f"/api/penalties/{p['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"


def test_penalty_graded_by_a_department_head_is_decided_by_management(api):
    tenant, c = "citybus", TENANTS["citybus"]
    t = walk(api, tenant, "graded")
    p = _penalty(api, tenant, t, c["staff"])
    r = api.post(tenant, "manager", f"/api/penalties/{p['id']}/confirm", json={})
    assert r.status_code == 200, r.text


def test_staff_member_who_appealed_does_not_decide_the_appeal(api):
    tenant = "citybus"
    t = walk(api, tenant, "graded")
    r = api.post(tenant, "staff-wang", f"/api/tickets/{t['id']}/appeals",
                 json={"reason": "the passenger had not paid"})  # fmt: skip
    assert r.status_code == 201, r.text
    appeal = r.json()
    r = api.post(tenant, "staff-wang", f"/api/appeals/{appeal['id']}/decide",
                 json={"decision": "upheld", "reason": "mine"})  # fmt: skip
    assert r.status_code == 403, r.text
    r = api.post(tenant, "manager", f"/api/appeals/{appeal['id']}/decide",
                 json={"decision": "upheld", "reason": "the recording shows the skip"})  # fmt: skip
    assert r.status_code == 200, r.text
