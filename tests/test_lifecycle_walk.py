"""Each demo tenant walks a complaint through the whole loop to closed (issue 3, done-when 2)."""

import pytest

WALKS = {
    # tenant: (category, severity, facets, department, head, staff codes)
    "greenwood": (
        "repair_quality",
        "important",
        {"nature": "valid"},
        "engineering",
        "head-engineering",
        ["GW-S001"],
    ),
}


@pytest.mark.parametrize("tenant", sorted(WALKS))
def test_full_loop_to_closed(api, tenant):
    category, severity, facets, dept, head, staff = WALKS[tenant]
    t = api.create(tenant, accused_staff=staff, accused_department=dept)
    assert t["state"] == "received" and t["version"] == 1
    t = api.act(
        tenant, "clerk", t, "triage_valid", category=category, severity=severity, facets=facets
    )
    t = api.act(tenant, "clerk", t, "register", reason="on_site")
    t = api.act(tenant, "supervisor", t, "review")
    t = api.act(tenant, "clerk", t, "dispatch", department=dept)
    assert t["assigned_department"]["code"] == dept
    t = api.act(tenant, head, t, "first_contact", note="called the complainant")
    t = api.act(
        tenant,
        head,
        t,
        "grade",
        findings="repair not done properly",
        grades=[{"staff": staff[0], "grade": "main", "offence": "tier_2", "findings": "left the job unfinished"}],
    )
    t = api.act(tenant, head, t, "reply", reply="fixed, apologies", apology=True)
    t = api.act(tenant, "clerk", t, "follow_up", note="satisfied")
    t = api.act(tenant, "manager", t, "close", verification="result_confirmed")
    assert t["state"] == "closed" and t["resolution"] == "resolved"
    hist = api.get(tenant, "manager", f"/api/tickets/{t['id']}/history").json()
    assert [e["action"] for e in hist] == [
        "intake",
        "triage_valid",
        "register",
        "review",
        "dispatch",
        "first_contact",
        "grade",
        "reply",
        "follow_up",
        "close",
    ]
    assert [e["seq"] for e in hist] == list(range(1, 11))
    grades = api.get(tenant, "manager", f"/api/tickets/{t['id']}/grades").json()
    assert grades[0]["grade"] == "main" and grades[0]["current"]
