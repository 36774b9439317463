"""The complainant is confidential: the staff member complained about never sees who complained
(domain §7, [002 《供电局客户投诉举报管理办法》第二条]); the desk, management and the handling
department do, because they must contact the complainant."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

# tenant → the accused staff code and its user, a staff user not accused, the department the
# ticket is dispatched to and its head, another department's head, and the clerk's own staff code
CASES: dict[str, dict[str, Any]] = {
    "greenwood": {
        "staff": "GW-S001",
        "staff_user": "staff-wang",
        "other_staff_user": "staff-zhang",
        "dept": "engineering",
        "head": "head-engineering",
        "other_head": "head-security",
        "clerk_staff": "GW-S009",
        "grade_extra": {"offence": "tier_1"},  # property fines by tier [000 §篇7 六]
    },
    "citybus": {
        "staff": "CB-S001",
        "staff_user": "staff-wang",
        "other_staff_user": "staff-yang",
        "dept": "fleet-1",
        "head": "head-fleet1",
        "other_head": "head-fleet2",
        "clerk_staff": "CB-S010",
        # 主责/次责 presume the passenger's part is on record [000 §篇8 3(2)二、三]
        "grade_extra": {"complainant_violation": "boarded by the rear door without paying"},
    },
    "riverside-power": {
        "staff": "RP-S001",
        "staff_user": "staff-chen",
        "other_staff_user": "staff-zhou",
        "dept": "station-chengguan",
        "head": "head-chengguan",
        "other_head": "head-hexi",
        "clerk_staff": "RP-S009",
        "grade_extra": {"offence": "general_poor_attitude"},  # [002 第二十四条(一)–(三)]
    },
}
TENANTS = sorted(CASES)


def complainant() -> dict[str, str]:
    """A complainant no other test uses, so finding these strings anywhere is a leak."""
    tag = uuid.uuid4().hex[:6]
    return {
        "name": f"欧阳{tag}",
        "contact": "139" + "".join(random.choice("0123456789") for _ in range(8)),
        "address": f"幸福里{tag}号",
    }


def classification(api: Any, tenant: str) -> dict[str, Any]:
    tax = api.get(tenant, "clerk", "/api/taxonomy").json()
    sevs = [x["code"] for x in tax["severities"]]
    grades = [g["code"] for g in tax.get("grades", [])] or ["main"]
    return {
        "category": tax["categories"][0]["code"],
        "severity": next((x for x in sevs if x not in {"major", "severe", "serious"}), sevs[0]),
        "facets": {
            f["code"]: f["values"][0]["code"] for f in tax.get("facets", []) if f.get("required")
        },
        "grade": "main" if "main" in grades else grades[0],
    }


def accused_ticket(api: Any, tenant: str, person: dict[str, str], upto: str = "graded") -> Any:
    """A ticket about the case's staff member, walked to ``upto`` (history and grades to read)."""
    case = CASES[tenant]
    c = classification(api, tenant)
    t = api.create(tenant, complainant=person, accused_staff=[case["staff"]])
    steps = [
        ("valid", "clerk", "triage_valid", {k: c[k] for k in ("category", "severity", "facets")}),
        ("registered", "clerk", "register", {"reason": "on_site"}),
        ("ready", "supervisor", "review", {}),
        ("dispatched", "clerk", "dispatch", {"department": case["dept"]}),
        ("in_progress", case["head"], "first_contact", {"note": "phoned the complainant"}),
        (
            "graded",
            case["head"],
            "grade",
            {
                "findings": "rude on the phone",
                "grades": [
                    {"staff": case["staff"], "grade": c["grade"], "findings": "rude"}
                    | case["grade_extra"]
                ],
            },
        ),
    ]
    if upto == "received":
        return t
    for state, actor, action, payload in steps:
        t = api.act(tenant, actor, t, action, **payload)
        if state == upto:
            return t
    raise AssertionError(upto)


def list_all(api: Any, tenant: str, user: str) -> Any:
    items, cursor, texts = [], None, []
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        r = api.get(tenant, user, "/api/tickets", params=params)
        assert r.status_code == 200, r.text
        texts.append(r.text)
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items, "".join(texts)


def assert_masked(out: dict[str, Any], person: dict[str, str]) -> None:
    shown = out["complainant"]
    assert shown["masked"] is True
    assert person["name"] not in shown["name"] and shown["name"] != person["name"]
    assert person["contact"] not in shown["contact"]
    assert person["address"] not in shown["address"]


def assert_shown(out: dict[str, Any], person: dict[str, str]) -> None:
    assert out["complainant"] == {**person, "masked": False}


def assert_absent(body: str, person: dict[str, str]) -> None:
    for value in person.values():
        assert value not in body


@pytest.mark.parametrize("tenant", TENANTS)
def test_accused_staff_sees_the_complainant_masked(api, tenant):
    case, person = CASES[tenant], complainant()
    t = accused_ticket(api, tenant, person)
    user = case["staff_user"]

    r = api.get(tenant, user, f"/api/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    assert_masked(r.json(), person)
    assert_absent(r.text, person)
    assert r.json()["accused_staff"][0]["code"] == case["staff"]

    items, body = list_all(api, tenant, user)
    mine = [x for x in items if x["id"] == t["id"]]
    assert len(mine) == 1
    assert_masked(mine[0], person)
    assert_absent(body, person)
    for item in items:  # every ticket a staff member reads is about them, so all are masked
        assert case["staff"] in {a["code"] for a in item["accused_staff"]}
        assert item["complainant"]["masked"] is True


@pytest.mark.parametrize("tenant", TENANTS)
def test_history_and_grades_do_not_leak_the_complainant_to_the_accused(api, tenant):
    case, person = CASES[tenant], complainant()
    t = accused_ticket(api, tenant, person)
    user = case["staff_user"]

    # control: the history is rich enough (intake … grade) and the desk reads it
    full = api.get(tenant, "manager", f"/api/tickets/{t['id']}/history")
    assert [e["action"] for e in full.json()][:2] == ["intake", "triage_valid"]
    assert len(full.json()) == 7

    r = api.get(tenant, user, f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text  # the accused may read what happened ...
    assert [e["action"] for e in r.json()] == [e["action"] for e in full.json()]
    assert_absent(r.text, person)  # ... but not who complained

    r = api.get(tenant, user, f"/api/tickets/{t['id']}/grades")
    assert r.status_code == 200, r.text
    assert r.json()[0]["staff"]["code"] == case["staff"]
    assert_absent(r.text, person)


@pytest.mark.parametrize("tenant", TENANTS)
def test_desk_management_and_handling_head_see_the_complainant(api, tenant):
    case, person = CASES[tenant], complainant()
    t = accused_ticket(api, tenant, person, upto="dispatched")
    for user in ["clerk", "supervisor", "manager", "gm", case["head"]]:
        r = api.get(tenant, user, f"/api/tickets/{t['id']}")
        assert r.status_code == 200, (user, r.text)
        assert_shown(r.json(), person)
        items, _ = list_all(api, tenant, user)
        (item,) = [x for x in items if x["id"] == t["id"]]
        assert_shown(item, person)
    # another department's head does not read it at all
    r = api.get(tenant, case["other_head"], f"/api/tickets/{t['id']}")
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("tenant", TENANTS)
def test_staff_not_accused_cannot_see_the_ticket(api, tenant):
    case, person = CASES[tenant], complainant()
    t = accused_ticket(api, tenant, person)
    user = case["other_staff_user"]
    for suffix in ("", "/history", "/grades"):
        r = api.get(tenant, user, f"/api/tickets/{t['id']}{suffix}")
        assert r.status_code == 404, (suffix, r.text)
        assert r.json()["error"]["code"] == "not_found"
        assert_absent(r.text, person)
    items, body = list_all(api, tenant, user)
    assert t["id"] not in {x["id"] for x in items}
    assert_absent(body, person)


@pytest.mark.parametrize("tenant", TENANTS)
def test_tenant_admin_sees_the_ticket_masked(api, tenant):
    person = complainant()
    t = accused_ticket(api, tenant, person, upto="received")
    r = api.get(tenant, "admin", f"/api/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    assert_masked(r.json(), person)
    assert_absent(r.text, person)
    items, body = list_all(api, tenant, "admin")
    (item,) = [x for x in items if x["id"] == t["id"]]
    assert_masked(item, person)
    assert_absent(body, person)


@pytest.mark.parametrize("tenant", TENANTS)
def test_inspector_sees_the_complainant_once_referred(api, tenant):
    case, person = CASES[tenant], complainant()
    t = accused_ticket(api, tenant, person, upto="in_progress")
    assert api.get(tenant, "inspector", f"/api/tickets/{t['id']}").status_code == 404
    api.act(tenant, case["head"], t, "refer_to_inspection", reason="misconduct suspected")
    r = api.get(tenant, "inspector", f"/api/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    assert_shown(r.json(), person)


@pytest.mark.parametrize("tenant", TENANTS)
def test_an_accused_clerk_sees_the_complaint_about_them_masked(api, tenant):
    """The desk role does not override §7: a clerk complained about does not see who did."""
    case, person = CASES[tenant], complainant()
    t = api.create(tenant, "supervisor", complainant=person, accused_staff=[case["clerk_staff"]])
    r = api.get(tenant, "clerk", f"/api/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    assert_masked(r.json(), person)
    assert_absent(r.text, person)
    items, _ = list_all(api, tenant, "clerk")
    (item,) = [x for x in items if x["id"] == t["id"]]
    assert_masked(item, person)
    # and the clerk may not act on a complaint about themselves (conflict of interest)
    r = api.post(
        tenant,
        "clerk",
        f"/api/tickets/{t['id']}/reclassify",
        json={
            "version": t["version"],
            "reason": "typo",
            "category": classification(api, tenant)["category"],
        },
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["rule"] == "conflict of interest"
    assert_absent(r.text, person)
    assert api.get(tenant, "clerk", f"/api/tickets/{t['id']}").json()["allowed_actions"] == []
    # the supervisor, not accused, still sees the complainant
    assert_shown(api.get(tenant, "supervisor", f"/api/tickets/{t['id']}").json(), person)


def test_identity_in_free_text_is_scrubbed_for_the_accused(api):
    """Domain §7: a description, a handler's note or a finding that repeats the
    complainant's name or number must not reveal it to the staff member complained about."""
    tenant, case, person = "greenwood", CASES["greenwood"], complainant()
    t = api.create(
        tenant,
        complainant=person,
        accused_staff=[case["staff"]],
        accused_department=case["dept"],
        description=f"业主{person['name']}({person['contact']})反映维修未完成",
        demands=f"请回电 {person['contact']}",
    )
    t = api.act(tenant, "clerk", t, "triage_valid", category="repair_quality",
                severity="minor", facets={"nature": "valid"})
    t = api.act(tenant, "clerk", t, "register", reason="on_site")
    t = api.act(tenant, "supervisor", t, "review")
    t = api.act(tenant, "clerk", t, "dispatch", department=case["dept"])
    t = api.act(tenant, case["head"], t, "first_contact",
                note=f"已致电{person['name']}先生 {person['contact']}")
    t = api.act(tenant, case["head"], t, "grade", findings=f"{person['name']}所述属实",
                grades=[{"staff": case["staff"], "grade": "main", "offence": "tier_1",
                         "findings": f"未按约定回复{person['name']}"}])
    for path in ("", "/history", "/grades"):
        r = api.get(tenant, case["staff_user"], f"/api/tickets/{t['id']}{path}")
        assert r.status_code == 200, r.text
        assert_absent(r.text, person)
    # the handling department still reads it whole
    full = api.get(tenant, case["head"], f"/api/tickets/{t['id']}").json()
    assert person["contact"] in full["description"]


def test_graded_but_not_named_staff_cannot_see_the_complainant(api):
    """Someone graded on a ticket is as interested as the accused, whatever their role: the
    clerk graded here (GW-S009 in the demo tenant) sees the complainant masked and can no
    longer act on the ticket."""
    tenant, case, person = "greenwood", CASES["greenwood"], complainant()
    t = api.create(tenant, "supervisor", complainant=person, accused_staff=[case["staff"]],
                   accused_department=case["dept"])
    t = api.act(tenant, "supervisor", t, "triage_valid", category="repair_quality",
                severity="minor", facets={"nature": "valid"})
    t = api.act(tenant, "supervisor", t, "register", reason="on_site")
    t = api.act(tenant, "supervisor", t, "review")
    t = api.act(tenant, "supervisor", t, "dispatch", department=case["dept"])
    t = api.act(tenant, case["head"], t, "first_contact", note="called")
    t = api.act(tenant, case["head"], t, "grade", findings="desk gave a wrong promise",
                grades=[{"staff": "GW-S009", "grade": "secondary", "offence": "tier_1",
                         "findings": "promised a visit that was never booked"}])
    r = api.get(tenant, "clerk", f"/api/tickets/{t['id']}")
    assert r.status_code == 200
    assert_masked(r.json(), person)
    assert r.json()["allowed_actions"] == []
