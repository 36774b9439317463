"""Walks of a ticket on the three demo tenants, for the separation-of-duties, reply-review
and closing-rule tests (tenants/*.toml; plugin codes from plugins/*/taxonomy.py)."""

from __future__ import annotations

from typing import Any

TENANTS: dict[str, dict[str, Any]] = {
    "greenwood": {
        "channel": "phone",
        "category": "repair_quality",
        "severity": "minor",
        "facets": {"nature": "valid"},
        "dept": "engineering",
        "head": "head-engineering",
        "other_head": "head-security",
        "staff": "GW-S001",
        "grade_extra": {"offence": "tier_2"},
    },
    "riverside-power": {
        "channel": "hotline_95598",
        "category": "meter_reading",
        "severity": "general",
        "facets": {"commitment_breach": "other", "verified_responsibility": "verified"},
        "dept": "station-chengguan",
        "head": "head-chengguan",
        "other_head": "head-hexi",
        "staff": "RP-S001",
        "grade_extra": {"offence": "general_poor_attitude"},
    },
    "citybus": {
        "channel": "government_transfer",
        "category": "skip_stop",
        "severity": "general",
        "facets": {"direction": "government", "mode": "phone"},
        "dept": "fleet-1",
        "head": "head-fleet1",
        "other_head": "head-fleet2",
        "staff": "CB-S001",
        "grade_extra": {"complainant_violation": "boarded by the rear door without paying"},
    },
}

STEPS = ["valid", "registered", "dispatched", "in_progress", "graded", "replied", "followed_up"]


def walk(
    api: Any,
    tenant: str,
    until: str,
    *,
    grade: str = "main",
    apology: bool = True,
    replier: str | None = None,
    grader: str | None = None,
    severity: str | None = None,
    register: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A fresh ticket of ``tenant`` walked along the happy path up to state ``until``."""
    c = TENANTS[tenant]
    head = c["head"]
    t = api.create(tenant, channel=c["channel"], accused_staff=[c["staff"]],
                   accused_department=c["dept"])  # fmt: skip
    stop = STEPS.index(until)
    t = api.act(tenant, "clerk", t, "triage_valid", category=c["category"],
                severity=severity or c["severity"], facets=c["facets"])  # fmt: skip
    if stop >= 1:
        t = api.act(tenant, "clerk", t, "register", reason="on_site", **(register or {}))
    if stop >= 2:
        t = api.act(tenant, "supervisor", t, "review", note="reviewed")
        t = api.act(tenant, "clerk", t, "dispatch", department=c["dept"])
    if stop >= 3:
        t = api.act(tenant, head, t, "first_contact", note="called the complainant")
    if stop >= 4:
        line = {"staff": c["staff"], "grade": grade, "findings": "established"}
        # transit: full presumes the passenger kept the rules, the others record their part
        # [000 §篇8 3(2)]
        if grade != "full" or tenant != "citybus":
            line |= c["grade_extra"] if grade != "none" or tenant == "citybus" else {}
        t = api.act(tenant, grader or head, t, "grade", findings="investigated", grades=[line])
    if stop >= 5:
        t = api.act(tenant, replier or head, t, "reply", reply="the result, explained",
                    apology=apology)  # fmt: skip
    if stop >= 6:
        t = api.act(tenant, "clerk", t, "follow_up", note="satisfied")
    assert t["state"] == until, t["state"]
    return t


def history(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def error(r: Any) -> dict[str, Any]:
    return r.json()["error"]  # type: ignore[no-any-return]


def post_action(api: Any, tenant: str, user: str, t: dict[str, Any], action: str,
                **body: Any) -> Any:  # fmt: skip
    return api.post(tenant, user, f"/api/tickets/{t['id']}/{action.replace('_', '-')}",
                    json={"version": t["version"]} | body)  # fmt: skip
