"""An industry plugin from outside the repository serves a tenant end to end (issue 4,
done-when 5).

The example package ``tests/plugins/tousu-aviation`` (civil aviation, seed 003 §篇1) registers
through the ``tousu.plugins`` entry point ``aviation`` (installed with
``pip install -e tests/plugins/tousu-aviation``). With no change to the core, a platform
operator creates a tenant for it through ``POST /api/tenants``, and a ticket walks the whole
lifecycle with the aviation taxonomy, is graded, gets the plugin's penalties (a fine amount the
tenant admin sets, retraining, a per-unit shortfall rectification [003 §篇1 三, 四]) and is
closed with the plugin's approvers. Fines of a plugin without carry-over are written off when
they do not fit the month's pay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core import clock
from core.cli import main

SLUG = "skyport"
USERS = ("clerk", "supervisor", "head-terminal", "manager", "admin", "staff-li")


def keys_for(slug: str) -> dict[str, str]:
    """Demo bearer tokens of a test tenant (unique per tenant: a key names one user)."""
    return {u: f"{slug}-{u}-demo-test-key" for u in USERS}


KEYS = keys_for(SLUG)


def tenant_doc(slug: str, prefix: str, **config: Any) -> dict[str, Any]:
    """The same document as a ``tenants/<slug>.toml`` file, for ``POST /api/tenants``."""
    keys = keys_for(slug)
    return {
        "slug": slug,
        "name": "天港机场旅客服务有限公司",
        "plugin": "aviation",
        "ticket_prefix": prefix,
        "config": {"customers": 40000} | config,
        "departments": [
            {"code": "passenger-service", "name": "旅客服务部(12326对接)"},
            {"code": "terminal", "name": "航站楼管理部"},
            {"code": "quality-safety", "name": "质量安全部"},
        ],
        "staff": [
            {"code": "SK-S001", "name": "李明", "department": "terminal", "position": "值机员"},
            {"code": "SK-S002", "name": "陈芳", "department": "terminal", "position": "问询员"},
            {"code": "SK-S003", "name": "赵磊", "department": "passenger-service",
             "position": "热线接线员"},
        ],
        "users": [
            {"username": "clerk", "roles": ["clerk"], "department": "passenger-service",
             "staff": "SK-S003", "demo_key": keys["clerk"]},
            {"username": "supervisor", "roles": ["supervisor"],
             "department": "passenger-service", "demo_key": keys["supervisor"]},
            {"username": "head-terminal", "roles": ["department_head"],
             "department": "terminal", "demo_key": keys["head-terminal"]},
            {"username": "manager", "roles": ["manager"], "department": "quality-safety",
             "demo_key": keys["manager"]},
            {"username": "admin", "roles": ["tenant_admin"], "demo_key": keys["admin"]},
            {"username": "staff-li", "roles": ["staff"], "department": "terminal",
             "staff": "SK-S001", "demo_key": keys["staff-li"]},
        ],
    }  # fmt: skip


TENANT = tenant_doc(SLUG, "SKY")


def h(user: str, keys: dict[str, str] = KEYS) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[user]}"}


def act(
    api: Any, user: str, t: dict[str, Any], action: str, keys: dict[str, str] = KEYS, **payload: Any
) -> dict[str, Any]:
    r = api.client.post(
        f"/api/tickets/{t['id']}/{action.replace('_', '-')}",
        json={"version": t["version"]} | payload,
        headers=h(user, keys),
    )
    assert r.status_code == 200, f"{action} as {user}: {r.status_code} {r.text}"
    return r.json()  # type: ignore[no-any-return]


def make_operator(api: Any, monkeypatch: Any, capsys: Any, name: str) -> dict[str, str]:
    """A platform operator made with the CLI (``tousu users create/key``) on this database."""
    monkeypatch.setenv("DATABASE_URL", api.url)
    assert main(["users", "create", name]) in (0, None)
    assert f"user {name} created" in capsys.readouterr().out
    assert main(["users", "key", name]) in (0, None)
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(token) >= 16
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operator(api, monkeypatch, capsys) -> dict[str, str]:
    return make_operator(api, monkeypatch, capsys, "op-ext")


def test_aviation_plugin_serves_a_tenant_end_to_end(api, operator):
    """003 §篇1: a tenant on the external ``aviation`` plugin, created over the API, walks a
    12326 complaint from intake to closed and gets the plugin's penalties."""
    # The plugin is installed and listed with its own distribution.
    r = api.client.get("/api/plugins", headers=operator)
    assert r.status_code == 200, r.text
    aviation = next((p for p in r.json() if p["name"] == "aviation"), None)
    assert aviation is not None, r.json()
    assert aviation["distribution"] == "tousu-aviation"
    assert aviation["version"] == "0.1.0"
    assert {"tousu_taxonomy", "tousu_propose_penalties", "tousu_penalty_schedule"} <= set(
        aviation["hooks"]
    )

    # Only a platform operator creates tenants.
    r = api.client.post("/api/tenants", json=TENANT, headers=api.headers("greenwood", "admin"))
    assert r.status_code == 403, r.text
    r = api.client.post("/api/tenants", json=TENANT, headers=operator)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "slug": SLUG,
        "name": TENANT["name"],
        "plugin": "aviation",
        "ticket_prefix": "SKY",
    }
    listed = api.client.get("/api/tenants", headers=operator).json()
    assert {"slug": SLUG, "name": TENANT["name"], "plugin": "aviation",
            "ticket_prefix": "SKY"} in listed  # fmt: skip
    # Creating it again never overwrites (409); updating is PUT /api/tenants/{slug}.
    assert api.client.post("/api/tenants", json=TENANT, headers=operator).status_code == 409
    r = api.client.put(f"/api/tenants/{SLUG}", json=TENANT, headers=operator)
    assert r.status_code == 200, r.text

    me = api.client.get("/api/me", headers=h("clerk")).json()
    assert (me["tenant"], me["plugin"]) == (SLUG, "aviation")
    tax = api.client.get("/api/taxonomy", headers=h("clerk")).json()
    assert tax["industry"] == "aviation"
    assert "service_attitude" in {c["code"] for c in tax["categories"]}
    assert [g["code"] for g in tax["grades"]] == ["main", "secondary", "none"]

    # The tenant admin sets the fine the plugin leaves to the tenant (no seed amount).
    r = api.client.get("/api/config/fines", headers=h("manager"))
    assert r.status_code == 200, r.text
    schedule = {x["rule"]: x for x in r.json()}
    assert set(schedule) == {"fine_main", "retraining", "shortfall_rectification"}
    assert schedule["fine_main"]["current_yuan"] is None
    r = api.client.put(
        "/api/config/fines/fine_main", json={"amount_yuan": "300"}, headers=h("admin")
    )
    assert r.status_code == 200, r.text
    assert (r.json()["amount_yuan"], r.json()["out_of_range"]) == ("300.00", False)

    # Intake: a 12326 complaint about a check-in agent's attitude to a special passenger.
    r = api.client.post(
        "/api/tickets",
        json={
            "channel": "hotline_transfer",
            "complainant": {"name": "王女士", "contact": "13900001111"},
            "description": "值机员态度生硬,未帮助轮椅旅客办理值机",
            "accused_staff": ["SK-S001", "SK-S002"],
            "accused_department": "terminal",
            "facets": {"source": "caac_12326"},
            "facts": {"special_passenger": True, "delay_minutes": 0},
        },
        headers=h("clerk"),
    )
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["number"].startswith("SKY-") and t["state"] == "received"
    flags = {f["code"] for f in t["classification"].get("flags", [])}
    assert {"regulator_supervised", "special_passenger"} <= flags
    assert t["classification"].get("severity") == "serious"

    # Another plugin's code is refused with the aviation codes allowed.
    r = api.client.post(
        f"/api/tickets/{t['id']}/triage-valid",
        json={"version": t["version"], "category": "skip_stop", "severity": "serious",
              "facets": {"source": "caac_12326"}},
        headers=h("clerk"),
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "category"

    t = act(api, "clerk", t, "triage_valid", category="service_attitude", severity="serious",
            facets={"source": "caac_12326"})  # fmt: skip
    assert (t["category"], t["severity"]) == ("service_attitude", "serious")
    t = act(api, "clerk", t, "register", reason="needs_follow_up")
    t = act(api, "supervisor", t, "review", note="12326: answer within the limits")
    t = act(api, "clerk", t, "dispatch", department="terminal")
    t = act(api, "head-terminal", t, "first_contact", note="apologised by phone")

    # The plugin's grade check: grade none needs findings; no offence is picked.
    r = api.client.post(
        f"/api/tickets/{t['id']}/grade",
        json={"version": t["version"], "findings": "x",
              "grades": [{"staff": "SK-S001", "grade": "main", "findings": "x",
                          "offence": "fine_main"}]},
        headers=h("head-terminal"),
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"].endswith("offence")
    # a rule of the plugin's own, in the grader's language from the plugin's catalogue
    # (docs/plugins.md); English on request
    body = {"version": t["version"], "findings": "x",
            "grades": [{"staff": "SK-S001", "grade": "none", "findings": "  "}]}  # fmt: skip
    r = api.client.post(f"/api/tickets/{t['id']}/grade", json=body, headers=h("head-terminal"))
    assert r.status_code == 422, r.text
    assert "定为无责须在调查结论中说明理由" in r.json()["error"]["message"], r.text
    en = {**h("head-terminal"), "Accept-Language": "en"}
    r = api.client.post(f"/api/tickets/{t['id']}/grade", json=body, headers=en)
    assert "grade none needs the findings saying why" in r.json()["error"]["message"], r.text
    r = api.client.post(
        f"/api/tickets/{t['id']}/grade",
        json={"version": t["version"], "findings": "x",
              "grades": [{"staff": "SK-S001", "grade": "full", "findings": "x"}]},
        headers=h("head-terminal"),
    )  # fmt: skip
    assert r.status_code == 422, r.text  # aviation has no "full" grade
    assert r.json()["error"]["field"] == "grades[0].grade"

    t = act(
        api,
        "head-terminal",
        t,
        "grade",
        findings="check-in agent refused help; the enquiry agent did not step in",
        grades=[
            {"staff": "SK-S001", "grade": "main", "findings": "服务不规范、未有效沟通"},
            {"staff": "SK-S002", "grade": "secondary", "findings": "did not step in"},
        ],
    )
    assert t["state"] == "graded"
    r = api.client.get(f"/api/tickets/{t['id']}/penalties", headers=h("manager"))
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [(x["staff"], x["unit"], x["rule"], x["proposed_yuan"], x["status"]) for x in rows] == [
        ("SK-S001", None, "fine_main", "300.00", "proposed"),
        ("SK-S001", None, "retraining", "0.00", "proposed"),
        ("SK-S002", None, "retraining", "0.00", "proposed"),
        (None, "terminal", "shortfall_rectification", "0.00", "proposed"),
    ]
    assert rows[1]["sanctions"] == ["服务技能培训", "服务案例分析"]
    assert "003 §篇1" in rows[3]["reason"]
    # The staff member sees their own only.
    own = api.client.get(f"/api/tickets/{t['id']}/penalties", headers=h("staff-li")).json()
    assert {x["staff"] for x in own} == {"SK-S001"}

    # A clerk cannot decide; the manager confirms each.
    r = api.client.post(f"/api/penalties/{rows[0]['id']}/confirm", json={}, headers=h("clerk"))
    assert r.status_code == 403, r.text
    for p in rows:
        r = api.client.post(f"/api/penalties/{p['id']}/confirm", json={}, headers=h("manager"))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "confirmed"

    t = api.client.get(f"/api/tickets/{t['id']}", headers=h("manager")).json()
    t = act(api, "head-terminal", t, "reply", reply="apologised; agent retrained", apology=True)
    t = act(api, "clerk", t, "follow_up", note="satisfied")
    # The plugin's approvers: a serious ticket closes only with a manager [tousu_approvers].
    r = api.client.post(
        f"/api/tickets/{t['id']}/close",
        json={"version": t["version"], "verification": "result_confirmed"},
        headers=h("supervisor"),
    )
    assert r.status_code == 403, r.text
    t = act(api, "manager", t, "close", verification="result_confirmed")
    assert (t["state"], t["resolution"]) == ("closed", "resolved")

    hist = api.client.get(f"/api/tickets/{t['id']}/history", headers=h("manager")).json()
    assert [e["action"] for e in hist] == [
        "intake",
        "triage_valid",
        "register",
        "review",
        "dispatch",
        "first_contact",
        "grade",
        "penalty_confirm",
        "penalty_confirm",
        "penalty_confirm",
        "penalty_confirm",
        "reply",
        "follow_up",
        "close",
    ]
    grades = api.client.get(f"/api/tickets/{t['id']}/grades", headers=h("manager")).json()
    assert {g["staff"]["code"]: (g["grade"], g["current"]) for g in grades} == {
        "SK-S001": ("main", True),
        "SK-S002": ("secondary", True),
    }

    # The other tenants do not see the aviation tenant's ticket.
    for other in ("greenwood", "riverside-power", "citybus"):
        assert api.get(other, "manager", f"/api/tickets/{t['id']}").status_code == 404


def test_aviation_tenant_without_carry_over_writes_off(api, monkeypatch, capsys):
    """The aviation schedule writes no carry-over and the tenant sets none (domain §5: a
    tenant option outside utility): a confirmed 300-yuan fine against 100 yuan of the month's
    pay is deducted 100 and the rest written off; the next month owes nothing."""
    op = make_operator(api, monkeypatch, capsys, "op-ext-ledger")
    slug = "skyport-ledger"
    keys = keys_for(slug)
    r = api.client.post("/api/tenants", json=tenant_doc(slug, "SKYL", fines={"fine_main": 300}),
                        headers=op)  # fmt: skip
    assert r.status_code == 201, r.text

    r = api.client.post(
        "/api/tickets",
        json={
            "channel": "phone",
            "complainant": {"name": "王女士", "contact": "13900001111"},
            "description": "值机员态度生硬",
            "accused_staff": ["SK-S001"],
            "accused_department": "terminal",
        },
        headers=h("clerk", keys),
    )
    assert r.status_code == 201, r.text
    t = r.json()
    t = act(api, "clerk", t, "triage_valid", keys, category="service_attitude",
            severity="general", facets={"source": "direct"})  # fmt: skip
    t = act(api, "clerk", t, "register", keys, reason="on_site")
    t = act(api, "supervisor", t, "review", keys)
    t = act(api, "clerk", t, "dispatch", keys, department="terminal")
    t = act(api, "head-terminal", t, "first_contact", keys, note="called")
    t = act(api, "head-terminal", t, "grade", keys, findings="rude",
            grades=[{"staff": "SK-S001", "grade": "main", "findings": "rude"}])  # fmt: skip
    rows = api.client.get(f"/api/tickets/{t['id']}/penalties", headers=h("manager", keys)).json()
    fine = next(x for x in rows if x["rule"] == "fine_main")
    assert fine["proposed_yuan"] == "300.00"  # from the tenant document's config.fines
    r = api.client.post(f"/api/penalties/{fine['id']}/confirm", json={}, headers=h("manager", keys))
    assert r.status_code == 200, r.text

    for month in ("2034-01", "2034-02"):
        r = api.client.put(
            f"/api/staff/SK-S001/pay/{month}", json={"amount_yuan": "100"},
            headers=h("admin", keys),
        )  # fmt: skip
        assert r.status_code == 200, r.text
    clock.travel_to(dt.datetime(2034, 3, 2, tzinfo=dt.UTC))  # only an ended month is run
    # Without carry-over, February first would write off what January's pay covers.
    r = api.client.post("/api/ledger/runs", json={"period": "2034-02"}, headers=h("manager", keys))
    assert r.status_code == 409, r.text
    assert (r.json()["error"]["field"], r.json()["error"]["unrun"]) == ("period", ["2034-01"])
    r = api.client.post("/api/ledger/runs", json={"period": "2034-01"}, headers=h("manager", keys))
    assert r.status_code == 201, r.text
    assert r.json()["carry_over"] is False
    assert r.json()["statements"] == [
        {
            "period": "2034-01",
            "staff": "SK-S001",
            "owed_yuan": "300.00",
            "pay_yuan": "100.00",
            "deducted_yuan": "100.00",
            "carried_yuan": "0.00",
            "written_off_yuan": "200.00",
            "forfeited_yuan": "0.00",
            "credited_yuan": "0.00",
            "appraisal_points": 0,  # the aviation plugin's penalties carry no points
            "appraisal_points_credited": 0,
        }
    ]
    r = api.client.post("/api/ledger/runs", json={"period": "2034-02"}, headers=h("manager", keys))
    assert r.status_code == 201, r.text
    assert r.json()["statements"] == []
