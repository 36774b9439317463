"""Conflict of interest on every route that changes a ticket (issue 9 item 12) and clear 403
messages (issue 9 item 13, first part).

A person named in a complaint (accused, or graded on it), whatever other role they hold,
takes no action on that ticket — lifecycle, clocks, pauses, extensions, penalties, appeals,
files. Domain §7: the complainant is protected against retaliation
[002 《供电局客户投诉举报管理办法》第二条]; the appeal on one's own grade is the accused's right
[000 §篇8 4(3)1]. One guard (:func:`core.conflict_of_interest.conflict_of_interest`) is wired for
the whole app; the tests below are generated from the app's route table.

The tenant here is the demo property company with its managers also holding staff records
(so a manager, a desk supervisor and a department head can be named in a complaint).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import TENANTS, prepare

from core import conflict_of_interest as guard
from core.app import create_app
from core.people.guards import EXEMPT, IN_SERVICE
from core.settings import load_settings

SLUG = "coi-property"
EXTRA_STAFF = {
    # user → (staff code, name, department)
    "manager": ("GW-S012", "高建华", "management-office"),
    "supervisor": ("GW-S013", "何敏", "customer-service"),
    "head-engineering": ("GW-S011", "马志刚", "engineering"),
}


def _tenant_file(tmp: Path) -> dict[str, str]:
    """Write the tenant file; returns username → bearer token."""
    text = (TENANTS / "greenwood-property.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^slug = "greenwood"$', f'slug = "{SLUG}"', text)
    text = re.sub(r'(?m)^ticket_prefix = "GW"$', 'ticket_prefix = "COI"', text)
    text = text.replace('demo_key = "gw-', 'demo_key = "coi-')
    for user, (code, _, _) in EXTRA_STAFF.items():
        text = text.replace(f'username = "{user}"\n', f'username = "{user}"\nstaff = "{code}"\n')
    text += "".join(
        f'\n[[staff]]\ncode = "{code}"\nname = "{name}"\ndepartment = "{dept}"\nposition = "x"\n'
        for code, name, dept in EXTRA_STAFF.values()
    )
    (tmp / f"{SLUG}.toml").write_text(text, encoding="utf-8")
    doc = tomllib.loads(text)
    return {u["username"]: u["demo_key"] for u in doc["users"] if u.get("demo_key")}


class Coi:
    def __init__(self, api: Any, keys: dict[str, str]) -> None:
        self.api, self.keys = api, keys

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[user]}"}

    def get(self, user: str, path: str) -> Any:
        return self.api.client.get(path, headers=self.h(user))

    def post(self, user: str, path: str, json: Any = None) -> Any:
        return self.api.client.post(path, headers=self.h(user), json=json)

    def act(self, user: str, t: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        r = self.post(user, f"/api/tickets/{t['id']}/{action.replace('_', '-')}",
                      {"version": t["version"]} | body)  # fmt: skip
        assert r.status_code == 200, (action, user, r.text)
        return r.json()  # type: ignore[no-any-return]

    def ticket(self, accused: list[str], severity: str = "important") -> dict[str, Any]:
        """A ticket about ``accused`` walked to graded by people not named on it: the
        engineering head grades staff-wang (GW-S001) main / tier_1 (a penalty is proposed)."""
        r = self.post("clerk", "/api/tickets", {
            "channel": "phone", "description": "电梯维修后仍然停运",
            "complainant": {"name": "张三", "contact": "13812345678"},
            "accused_staff": accused, "accused_department": "engineering",
        })  # fmt: skip
        assert r.status_code == 201, r.text
        t = r.json()
        t = self.act("clerk", t, "triage_valid", category="repair_quality",
                     severity=severity, facets={"nature": "valid"})  # fmt: skip
        t = self.act("clerk", t, "register", reason="on_site")
        return t


@pytest.fixture(scope="module")
def coi(api, tmp_path_factory) -> Coi:
    tmp = tmp_path_factory.mktemp("coi")
    keys = _tenant_file(tmp)
    prepare(api.owner_url, tmp)
    return Coi(api, keys)


def walk_to_graded(c: Coi, accused: list[str], reviewer: str = "supervisor") -> dict[str, Any]:
    t = c.ticket(accused)
    t = c.act(reviewer, t, "review")
    t = c.act("clerk", t, "dispatch", department="engineering")
    t = c.act("head-engineering", t, "first_contact", note="called")
    return c.act(
        "head-engineering", t, "grade", findings="investigated",
        grades=[{"staff": "GW-S001", "grade": "main", "offence": "tier_1", "findings": "late"}],
    )  # fmt: skip


# ---------------------------------------------------------------- the route table


def _app() -> Any:
    return create_app(load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}))


def ticket_routes(app: Any) -> list[tuple[str, str, Any]]:
    """(method, path template, handler) of every mutating API route that reaches a ticket.
    (The console's form routes sit behind the same app-wide guard, checked below; they
    answer people with pages, so this walk of JSON answers covers the API.)"""
    out = []
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        params = set(getattr(route, "path_parameters", {}) or {})
        names = {p if isinstance(p, str) else p.name for p in params}
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(set(handler.http_methods) & guard.MUTATING):
                if names & set(guard.TICKET_REFS):
                    out.append((method, route.path, handler))
    return out


def test_every_mutating_route_is_guarded_and_every_path_parameter_is_known():
    app = _app()
    seen = 0
    for route in app.routes:
        params = getattr(route, "path_parameters", {}) or {}
        names = {p if isinstance(p, str) else p.name for p in params}
        for handler in getattr(route, "route_handlers", []):
            if not set(handler.http_methods) & guard.MUTATING:
                continue
            seen += 1
            unknown = names - set(guard.TICKET_REFS) - guard.NOT_TICKET_PARAMS
            assert not unknown, (
                f"{route.path}: path parameter(s) {unknown} — add them to "
                "core.conflict_of_interest.TICKET_REFS (a ticket's row) or NOT_TICKET_PARAMS"
            )
            assert guard.conflict_of_interest in handler.resolve_guards(), route.path
    assert seen > 30
    routes = ticket_routes(app)
    assert len(routes) >= 25  # 17 lifecycle actions, penalties, appeals, clocks, extensions
    exempt = [path for _, path, h in routes if (h.opt or {}).get(EXEMPT)]
    assert exempt == ["/api/tickets/{ticket_id:int}/appeals"]
    # the guard leaves the rule to the service only on the lifecycle actions, whose service
    # (core.flow.service.transition) refuses a named or graded principal first
    in_service = {path for _, path, h in routes if (h.opt or {}).get(IN_SERVICE)}
    from core.tickets.lifecycle import TRANSITIONS

    assert in_service == {
        f"/api/tickets/{{ticket_id:int}}/{a.replace('_', '-')}" for a in TRANSITIONS
    }


def _sample(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value of a JSON schema with only its required fields (the first enum member, a
    one-character string…): a body that decodes, so the service behind it is reached."""
    if "$ref" in schema:
        return _sample(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        options = schema["anyOf"]
        return _sample(next((o for o in options if o.get("type") != "null"), options[0]), defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {k: _sample(v, defs) for k, v in schema.get("properties", {}).items()
                if k in required}  # fmt: skip
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-12-01T10:00:00+08:00"
        return "x" * max(1, schema.get("minLength", 1))
    if kind == "array":
        return [_sample(schema.get("items", {}), defs)] * schema.get("minItems", 0)
    return {"integer": 1, "number": 1, "boolean": True}.get(kind)


def _body_for(path: str, handler: Any) -> dict[str, Any]:
    """``{"version": 1}``, or for a lifecycle action (whose service applies the rule itself,
    after the body is decoded) a body of the action's type."""
    if not (handler.opt or {}).get(IN_SERVICE):
        return {"version": 1}
    import msgspec

    from core.tickets.lifecycle import TRANSITIONS

    action = path.rsplit("/", 1)[1].replace("-", "_")
    (schema,), defs = msgspec.json.schema_components([TRANSITIONS[action].body])
    return _sample(schema, defs)


def _fill(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(ids[m.group(1)]), path)


def test_a_person_named_in_a_complaint_takes_no_action_on_it(coi):
    """Generated from the route table: every mutating route reaching the ticket — through
    its id, a penalty, an appeal or an extension — refuses the manager, the desk supervisor
    and the department head named in the complaint, whatever their role would allow, and
    changes nothing. The graded staff member still files their own appeal."""
    c = coi
    named = ["GW-S001", "GW-S012"]  # staff-wang and the manager
    t = walk_to_graded(c, named)
    (pen,) = c.get("gm", f"/api/tickets/{t['id']}/penalties").json()
    r = c.post("staff-wang", f"/api/tickets/{t['id']}/appeals", {"reason": "我不同意"})
    assert r.status_code == 201, r.text  # the accused's own right, through the exempt route
    appeal = r.json()
    clocks = c.get("gm", f"/api/tickets/{t['id']}/deadlines").json()
    step = next(x["step"] for x in clocks if x["state"] == "running" and x["step"] == "reply")
    r = c.post("head-engineering", f"/api/tickets/{t['id']}/deadlines/{step}/extensions",
               {"amount": 1, "unit": "hours", "reason": "需要更多时间"})  # fmt: skip
    assert r.status_code == 201, r.text
    ext = r.json()
    ids = {"ticket_id": t["id"], "penalty_id": pen["id"], "appeal_id": appeal["id"],
           "extension_id": ext["id"], "step": step}  # fmt: skip
    before = c.get("gm", f"/api/tickets/{t['id']}/history").json()

    routes = ticket_routes(_app())
    checked = 0
    for method, path, handler in routes:
        url = _fill(path, ids)
        for user in ("manager", "staff-wang"):
            if (handler.opt or {}).get(EXEMPT):
                continue
            body = _body_for(path, handler)
            r = c.api.client.request(method, url, headers=c.h(user), json=body)
            assert r.status_code == 403, (method, url, user, r.text)
            err = r.json()["error"]
            assert err["rule"] == "conflict of interest", (method, url, user, err)
            assert "<" not in err["message"] and "不能处理此工单" in err["message"]
            checked += 1
    assert checked >= 2 * 24
    # nothing changed: no event, the penalty, appeal and extension still open
    assert c.get("gm", f"/api/tickets/{t['id']}/history").json() == before
    assert c.get("gm", f"/api/tickets/{t['id']}/penalties").json()[0]["status"] == "proposed"
    assert c.get("gm", f"/api/tickets/{t['id']}/appeals").json()[0]["status"] == "pending"
    # reading stays open to them
    assert c.get("manager", f"/api/tickets/{t['id']}").status_code == 200
    # and those not named act as usual: the general manager decides
    r = c.post("gm", f"/api/appeals/{appeal['id']}/decide",
               {"decision": "upheld", "reason": "维持"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = c.post("gm", f"/api/penalties/{pen['id']}/confirm", {})
    assert r.status_code == 200, r.text


def test_a_department_head_named_in_a_complaint_cannot_handle_it(coi):
    """The engineering head (GW-S011) named in a complaint dispatched to their own
    department: first contact, pausing its clock, asking for more time are all refused; on a
    ticket that does not name them they act as usual. The same for the desk supervisor's
    review."""
    c = coi
    s = c.ticket(["GW-S013"])
    r = c.post("supervisor", f"/api/tickets/{s['id']}/review", {"version": s["version"]})
    assert r.status_code == 403 and r.json()["error"]["rule"] == "conflict of interest"
    t = c.ticket(["GW-S011"])
    t = c.act("supervisor", t, "review")
    t = c.act("clerk", t, "dispatch", department="engineering")
    for path, body in [
        (f"/api/tickets/{t['id']}/first-contact", {"version": t["version"], "note": "called"}),
        (f"/api/tickets/{t['id']}/deadlines/first_contact/pause", {"reason": "x"}),
        (f"/api/tickets/{t['id']}/deadlines/first_contact/extensions",
         {"amount": 1, "unit": "hours", "reason": "busy"}),
        (f"/api/tickets/{t['id']}/return", {"version": t["version"], "reason": "not ours"}),
    ]:  # fmt: skip
        r = c.post("head-engineering", path, body)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["rule"] == "conflict of interest"
    assert c.get("head-engineering", f"/api/tickets/{t['id']}").json()["allowed_actions"] == []
    other = c.ticket(["GW-S002"])
    other = c.act("supervisor", other, "review")
    other = c.act("clerk", other, "dispatch", department="engineering")
    c.act("head-engineering", other, "first_contact", note="called")


def test_nobody_decides_their_own_penalty_or_appeal(coi):
    """The older rule stays: the graded person never decides their own case (here the
    manager graded on a ticket that does not name them)."""
    c = coi
    t = c.ticket(["GW-S001"])
    t = c.act("supervisor", t, "review")
    t = c.act("clerk", t, "dispatch", department="engineering")
    t = c.act("head-engineering", t, "first_contact", note="called")
    t = c.act(
        "head-engineering",
        t,
        "grade",
        findings="x",
        grades=[
            {"staff": "GW-S012", "grade": "main", "offence": "tier_1", "findings": "approved it"}
        ],
    )
    pens = c.get("gm", f"/api/tickets/{t['id']}/penalties").json()
    assert pens
    r = c.post("manager", f"/api/penalties/{pens[0]['id']}/confirm", {})
    assert r.status_code == 403 and r.json()["error"]["rule"] == "conflict of interest"


def test_a_named_approver_is_not_asked_to_decide(coi):
    """The manager named in a minor complaint holds a role among its extension approvers
    [000 §篇1 4(4)9] but may not decide on the ticket (conflict of interest): he is not
    asked to (issue 19: those told are those who may decide, by the API's rule); the
    general manager is, with the reason as written. (Notification text still passes the
    confidentiality boundary for any reader: tests/test_confidential.py.)"""
    c = coi
    t = c.ticket(["GW-S012"], severity="minor")
    t = c.act("supervisor", t, "review")
    t = c.act("clerk", t, "dispatch", department="engineering")
    r = c.post(
        "head-engineering",
        f"/api/tickets/{t['id']}/deadlines/first_contact/extensions",
        {"amount": 1, "unit": "hours", "reason": "张三(138 1234 5678)出差，约定下周联系"},
    )
    assert r.status_code == 201, r.text

    def messages(user: str) -> list[str]:
        return [n["message"] for n in c.get(user, "/api/notifications").json()
                if n["ticket_id"] == t["id"] and n["kind"] == "extension_requested"]  # fmt: skip

    (told,) = messages("gm")
    assert "张三(138 1234 5678)" in told
    assert messages("manager") == []
    r = c.post("manager", f"/api/extensions/{r.json()['id']}/approve", {"reason": "ok"})
    assert r.status_code in (403, 404), r.text  # the API's own answer to him


# ---------------------------------------------------------------- 403 messages


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "roles"),
    [
        ("clerk", "put", "/api/config/fines/tier_1", {"amount_yuan": "1"}, ["tenant_admin"]),
        ("clerk", "get", "/api/webhooks", None, ["tenant_admin"]),
        ("staff-wang", "get", "/api/audit", None,
         ["general_manager", "manager", "tenant_admin"]),
        ("clerk", "get", "/api/tenants", None, ["platform_operator"]),
        ("staff-wang", "post", "/api/ledger/runs", {"period": "2026-01"},
         ["general_manager", "manager", "tenant_admin"]),
    ],
)  # fmt: skip
def test_role_refusals_name_the_roles_in_chinese(api, user, method, path, body, roles):
    """No Python enum repr (``<Role.TENANT_ADMIN: 'tenant_admin'>``): a Chinese message with
    each role's label and code, and the codes in ``allowed_roles``."""
    r = api.client.request(method.upper(), path, headers=api.headers("greenwood", user),
                           json=body)  # fmt: skip
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert "<" not in err["message"] and "Role." not in err["message"], err
    assert "需要以下角色之一" in err["message"]
    assert err["allowed_roles"] == roles
    from core.people.roles import ROLE_LABELS

    for code in roles:
        assert f"{ROLE_LABELS[code]}({code})" in err["message"]


def test_service_role_refusals_are_clear_too(api):
    """Refusals decided inside services (a transition, a penalty decision) read the same."""
    t = api.create("greenwood")
    r = api.post("greenwood", "staff-wang", f"/api/tickets/{t['id']}/triage-valid",
                 json={"version": t["version"]})  # fmt: skip
    assert r.status_code in (403, 404), r.text
    r = api.post("greenwood", "admin", f"/api/tickets/{t['id']}/triage-valid",
                 json={"version": t["version"], "category": "repair_quality"})  # fmt: skip
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert "<" not in err["message"] and "需要以下角色之一" in err["message"], err
    assert "接待员(clerk)" in err["message"]
