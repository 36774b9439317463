"""Grade appeals (issue 4, done-when 4).

Staff often disagree with a grade and the company talks it through [000 §篇8 4(3)1]: the graded
staff member appeals their own grade once; a manager upholds it (nothing changes) or overturns
it (a new grade is recorded, the old one is no longer current, the ticket's earlier penalties
are superseded and new proposals derived from the new grade). Both steps are ticket history.

Demo users with a staff link (tenants/*.toml): greenwood staff-wang = GW-S001; riverside-power
staff-chen = RP-S001, staff-zhou = RP-S005; citybus staff-wang = CB-S001, staff-yang = CB-S006.
"""

from __future__ import annotations

from typing import Any

# tenant: (channel, category, severity, facets, department, head)
SETUP: dict[str, tuple[str, str, str, dict[str, str], str, str]] = {
    "greenwood": ("phone", "repair_quality", "important", {"nature": "valid"}, "engineering",
                  "head-engineering"),
    "riverside-power": ("hotline_95598", "meter_reading", "general",
                        {"commitment_breach": "other", "verified_responsibility": "verified"},
                        "station-chengguan", "head-chengguan"),
    "citybus": ("government_transfer", "skip_stop", "general",
                {"direction": "government", "mode": "phone"}, "fleet-1", "head-fleet1"),
}  # fmt: skip
VIOLATION = "argued about the fare before boarding"


def graded(
    api: Any, tenant: str, accused: list[str], lines: list[dict[str, Any]]
) -> dict[str, Any]:
    channel, category, severity, facets, dept, head = SETUP[tenant]
    t = api.create(tenant, channel=channel, accused_staff=accused, accused_department=dept)
    t = api.act(
        tenant, "clerk", t, "triage_valid", category=category, severity=severity, facets=facets
    )
    t = api.act(tenant, "clerk", t, "register", reason="on_site")
    t = api.act(tenant, "supervisor", t, "review")
    t = api.act(tenant, "clerk", t, "dispatch", department=dept)
    t = api.act(tenant, head, t, "first_contact", note="called")
    t = api.act(
        tenant, head, t, "grade", findings="investigated",
        grades=[{"findings": "established on site"} | line for line in lines],
    )  # fmt: skip
    assert t["state"] == "graded"
    return t


def file(api: Any, tenant: str, user: str, t: dict[str, Any], reason: str = "I disagree") -> Any:
    return api.post(tenant, user, f"/api/tickets/{t['id']}/appeals", json={"reason": reason})


def decide(api: Any, tenant: str, user: str, appeal: dict[str, Any], **body: Any) -> Any:
    return api.post(tenant, user, f"/api/appeals/{appeal['id']}/decide", json=body)


def get(api: Any, tenant: str, t: dict[str, Any], what: str, user: str = "manager") -> Any:
    r = api.get(tenant, user, f"/api/tickets/{t['id']}/{what}")
    assert r.status_code == 200, r.text
    return r.json()


def grades_of(api: Any, tenant: str, t: dict[str, Any]) -> list[tuple[str, str, Any, bool]]:
    return [
        (g["staff"]["code"], g["grade"], g["offence"], g["current"])
        for g in get(api, tenant, t, "grades")
    ]


def live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] != "superseded"]


# ---------------------------------------------------------------- filing


def test_appeal_once_by_the_graded_staff_member_then_upheld(api):
    """[000 §篇8 4(3)1] citybus: the graded driver (staff-wang = CB-S001) appeals once (a second
    appeal is 409); nobody else files it for them; a manager upholds: grades and penalties are
    unchanged; history shows appeal_filed and appeal_decided."""
    tenant = "citybus"
    t = graded(
        api,
        tenant,
        ["CB-S001", "CB-S006"],
        [
            {"staff": "CB-S001", "grade": "main", "complainant_violation": VIOLATION},
            {"staff": "CB-S006", "grade": "secondary", "complainant_violation": VIOLATION},
        ],
    )
    penalties_before = get(api, tenant, t, "penalties")
    grades_before = grades_of(api, tenant, t)
    assert ("CB-S001", "main", None, True) in grades_before

    # Not the staff member: the desk, management and the handling head cannot file it.
    for user in ("clerk", "supervisor", "manager", "head-fleet1", "admin"):
        r = file(api, tenant, user, t)
        assert r.status_code == 403, f"{user}: {r.status_code} {r.text}"

    r = file(api, tenant, "staff-wang", t, reason="the passenger started the quarrel")
    assert r.status_code == 201, r.text
    appeal = r.json()
    assert (appeal["staff"], appeal["status"], appeal["reason"], appeal["ticket_id"]) == (
        "CB-S001",
        "pending",
        "the passenger started the quarrel",
        t["id"],
    )
    assert appeal["decided_at"] is None

    r = file(api, tenant, "staff-wang", t, reason="again")
    assert r.status_code == 409, r.text
    r = api.post(tenant, "staff-wang", f"/api/tickets/{t['id']}/appeals", json={"reason": ""})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason", r.text

    # The co-graded conductor appeals their own grade (one appeal each).
    r = file(api, tenant, "staff-yang", t, reason="I was at the back of the bus")
    assert r.status_code == 201, r.text
    assert r.json()["staff"] == "CB-S006"
    listed = get(api, tenant, t, "appeals")
    assert [(a["staff"], a["status"]) for a in listed] == [
        ("CB-S001", "pending"),
        ("CB-S006", "pending"),
    ]

    # Deciding is management's: not the staff member, the desk or the head.
    for user in ("staff-wang", "staff-yang", "clerk", "supervisor", "head-fleet1"):
        r = decide(api, tenant, user, appeal, decision="upheld", reason="x")
        assert r.status_code == 403, f"{user}: {r.status_code} {r.text}"

    r = decide(api, tenant, "manager", appeal, decision="upheld",
               reason="the recording shows the driver scolding the passenger")  # fmt: skip
    assert r.status_code == 200, r.text
    upheld = r.json()
    assert (upheld["status"], upheld["decision_reason"]) == (
        "upheld",
        "the recording shows the driver scolding the passenger",
    )
    assert upheld["decided_at"] is not None
    r = decide(api, tenant, "manager", appeal, decision="overturned", reason="x", grade="none",
               complainant_violation=VIOLATION)  # fmt: skip
    assert r.status_code == 409, r.text
    # Still one appeal per grade, even after the decision.
    assert file(api, tenant, "staff-wang", t).status_code == 409

    assert get(api, tenant, t, "penalties") == penalties_before
    assert grades_of(api, tenant, t) == grades_before

    hist = get(api, tenant, t, "history")
    appeals = [e for e in hist if e["action"].startswith("appeal_")]
    assert [(e["action"], e["actor"], e["actor_role"]) for e in appeals] == [
        ("appeal_filed", "staff-wang", "staff"),
        ("appeal_filed", "staff-yang", "staff"),
        ("appeal_decided", "manager", "manager"),
    ]
    assert appeals[0]["payload"]["appeal_id"] == appeal["id"]
    assert appeals[0]["payload"]["grade"] == "main"
    assert appeals[0]["payload"]["reason"] == "the passenger started the quarrel"
    assert appeals[2]["payload"]["decision"] == "upheld"
    assert appeals[2]["payload"]["grade_was"] == "main"
    assert {(e["from_state"], e["to_state"]) for e in appeals} == {("graded", "graded")}


def test_someone_else_cannot_appeal_a_grade(api):
    """A staff member accused on the ticket but not graded has nothing to appeal (404); one
    not on the ticket does not see it (404); a staff member of another tenant neither."""
    t = graded(
        api,
        "riverside-power",
        ["RP-S001", "RP-S005"],
        [{"staff": "RP-S001", "grade": "main", "offence": "general_poor_attitude"}],
    )
    r = file(api, "riverside-power", "staff-zhou", t)  # RP-S005: accused, not graded
    assert r.status_code == 404, r.text
    other = graded(
        api,
        "riverside-power",
        ["RP-S001"],
        [{"staff": "RP-S001", "grade": "main", "offence": "general_poor_attitude"}],
    )
    r = file(api, "riverside-power", "staff-zhou", other)  # not on the ticket at all
    assert r.status_code == 404, r.text
    r = file(api, "greenwood", "staff-wang", other)  # another tenant
    assert r.status_code == 404, r.text
    assert get(api, "riverside-power", t, "appeals") == []
    assert get(api, "riverside-power", other, "appeals") == []
    # The graded one can.
    assert file(api, "riverside-power", "staff-chen", t).status_code == 201


def test_grade_none_is_not_appealable(api):
    """A grade of none carries no responsibility: nothing to appeal (422 naming grade)."""
    t = graded(api, "greenwood", ["GW-S001"], [{"staff": "GW-S001", "grade": "none"}])
    r = file(api, "greenwood", "staff-wang", t)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "grade"


# ---------------------------------------------------------------- overturning


def test_overturn_main_to_none_supersedes_the_penalty(api):
    """greenwood: GW-S001 graded main at tier_2 [000 §篇7 六2] appeals; the manager overturns to
    none: a new grade is recorded and current, the old one not; the tier-2 penalty is
    superseded and nothing new is proposed for GW-S001."""
    tenant = "greenwood"
    t = graded(api, tenant, ["GW-S001"], [{"staff": "GW-S001", "grade": "main",
                                            "offence": "tier_2"}])  # fmt: skip
    [before] = get(api, tenant, t, "penalties")
    assert (before["rule"], before["status"], before["proposed_yuan"]) == (
        "tier_2",
        "proposed",
        "200.00",
    )
    r = file(api, tenant, "staff-wang", t, reason="the owner refused me entry")
    assert r.status_code == 201, r.text
    appeal = r.json()

    r = decide(api, tenant, "manager", appeal, decision="overturned", reason="x")
    assert r.status_code == 422 and r.json()["error"]["field"] == "grade", r.text
    r = decide(api, tenant, "manager", appeal, decision="overturned", reason="x", grade="main",
               offence="tier_2")  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["field"] == "grade", r.text
    r = decide(api, tenant, "manager", appeal, decision="overturned", reason="x", grade="main")
    assert r.status_code == 422, r.text  # property needs the tier picked
    assert r.json()["error"]["field"] == "decision.offence"
    r = decide(api, tenant, "staff-wang", appeal, decision="overturned", reason="x", grade="none")
    assert r.status_code == 403, r.text
    assert get(api, tenant, t, "appeals")[0]["status"] == "pending"

    r = decide(api, tenant, "manager", appeal, decision="overturned", grade="none",
               reason="the door-entry log confirms the owner refused entry")  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "overturned"

    assert grades_of(api, tenant, t) == [
        ("GW-S001", "main", "tier_2", False),
        ("GW-S001", "none", None, True),
    ]
    rows = get(api, tenant, t, "penalties")
    assert [(x["id"], x["rule"], x["status"]) for x in rows] == [
        (before["id"], "tier_2", "superseded")
    ]
    assert live(rows) == []
    # A superseded proposal can no longer be decided.
    r = api.post(tenant, "manager", f"/api/penalties/{before['id']}/confirm", json={})
    assert r.status_code == 409, r.text

    hist = get(api, tenant, t, "history")
    assert [e["action"] for e in hist][-3:] == [
        "appeal_filed", "appeal_decided", "penalties_superseded",
    ]  # fmt: skip
    # Why the penalty was superseded (the decided row itself is append-only, issue 12 §5).
    assert hist[-1]["payload"]["penalty_ids"] == [before["id"]]
    assert hist[-1]["payload"]["reason"].startswith(f"申诉 {appeal['id']} 改判")
    decided = hist[-2]["payload"]
    assert (decided["decision"], decided["grade_was"], decided["grade"], decided["offence"]) == (
        "overturned",
        "main",
        "none",
        None,
    )
    assert decided["reason"] == "the door-entry log confirms the owner refused entry"
    # The staff member sees the outcome.
    assert get(api, tenant, t, "appeals", user="staff-wang")[0]["status"] == "overturned"


def test_overturn_main_to_secondary_derives_new_proposals(api):
    """riverside-power: RP-S001 graded main for poor attitude (200–500) appeals; overturned to
    secondary with a work-quality fault without loss (100–200) [002 《客户投诉管理考核办法》
    第二十四条(三)]: the old proposal is superseded, a new one at the tenant's amount for the
    new offence is proposed; the co-graded RP-S005 keeps one live proposal for their grade."""
    tenant = "riverside-power"
    t = graded(
        api,
        tenant,
        ["RP-S001", "RP-S005"],
        [
            {"staff": "RP-S001", "grade": "main", "offence": "general_poor_attitude"},
            {"staff": "RP-S005", "grade": "secondary", "offence": "general_work_quality_no_loss"},
        ],
    )
    before = get(api, tenant, t, "penalties")
    old_main = next(x for x in before if x["staff"] == "RP-S001")
    zhou = next(x for x in before if x["staff"] == "RP-S005")
    r = file(api, tenant, "staff-chen", t, reason="I only misread the meter")
    assert r.status_code == 201, r.text
    appeal = r.json()
    r = decide(api, tenant, "manager", appeal, decision="overturned", grade="secondary",
               offence="general_work_quality_no_loss",
               reason="a reading error, no rudeness on the recording")  # fmt: skip
    assert r.status_code == 200, r.text

    assert grades_of(api, tenant, t) == [
        ("RP-S001", "main", "general_poor_attitude", False),
        ("RP-S005", "secondary", "general_work_quality_no_loss", True),
        ("RP-S001", "secondary", "general_work_quality_no_loss", True),
    ]
    rows = get(api, tenant, t, "penalties")
    assert next(x for x in rows if x["id"] == old_main["id"])["status"] == "superseded"
    chen = [x for x in live(rows) if x["staff"] == "RP-S001"]
    assert [(x["rule"], x["status"], x["proposed_yuan"]) for x in chen] == [
        ("general_work_quality_no_loss", "proposed", zhou["proposed_yuan"])
    ]
    assert chen[0]["id"] != old_main["id"]
    others = [x for x in live(rows) if x["staff"] == "RP-S005"]
    assert [(x["rule"], x["status"], x["proposed_yuan"]) for x in others] == [
        ("general_work_quality_no_loss", "proposed", zhou["proposed_yuan"])
    ]

    # The co-graded staff member still has their own appeal.
    r = file(api, tenant, "staff-zhou", t)
    assert r.status_code == 201, r.text
    assert file(api, tenant, "staff-zhou", t).status_code == 409
    assert file(api, tenant, "staff-chen", t).status_code == 409


def test_overturn_keeps_a_co_graded_staff_members_decided_penalty(api):
    """Overturning GW-S001's grade re-derives the ticket's penalties; a penalty a manager
    already confirmed for another staff member on the same ticket (GW-S002, tier_1) is not
    about the appealed grade and must stay confirmed — otherwise the manager's decision is lost
    and the fine leaves the ledger (or is owed twice once the re-proposal is confirmed)."""
    tenant = "greenwood"
    t = graded(
        api,
        tenant,
        ["GW-S001", "GW-S002"],
        [
            {"staff": "GW-S001", "grade": "main", "offence": "tier_2"},
            {"staff": "GW-S002", "grade": "secondary", "offence": "tier_1"},
        ],
    )
    other = next(x for x in get(api, tenant, t, "penalties") if x["staff"] == "GW-S002")
    r = api.post(tenant, "manager", f"/api/penalties/{other['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    appeal = file(api, tenant, "staff-wang", t).json()
    r = decide(api, tenant, "manager", appeal, decision="overturned", grade="main",
               offence="tier_1", reason="a slip, not an argument")  # fmt: skip
    assert r.status_code == 200, r.text

    rows = get(api, tenant, t, "penalties")
    wang = [(x["rule"], x["status"]) for x in live(rows) if x["staff"] == "GW-S001"]
    assert wang == [("tier_1", "proposed")]
    s002 = [x for x in live(rows) if x["staff"] == "GW-S002"]
    assert [(x["id"], x["status"]) for x in s002] == [(other["id"], "confirmed")], rows
