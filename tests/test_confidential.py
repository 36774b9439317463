"""Complainant confidentiality at the output boundary (issue 9 item 1).

Domain §7: the complainant's identity is confidential [002 《供电局客户投诉举报管理办法》第二条];
the staff member complained about must not see who complained. One mechanism rewrites every
response body (:mod:`core.confidential`); these tests prove it

- for every response schema's text fields, enumerated from the app's OpenAPI document and
  route table (a new field or route is covered or the test fails);
- end to end with the issue's examples: an appeal decided and a penalty adjusted with the
  reason "经与张某某(13900001111)核实", and the name written with a space ("张 某某");
- under concurrency: readers of different roles at once each get their own view.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import types
import typing
from typing import Any

import msgspec
import pytest
from litestar import Response
from litestar.testing import AsyncTestClient

from core import confidential
from core.app import create_app
from core.principal import Principal
from core.settings import load_settings
from core.tickets.redact import MASK, scrubber

NAME, PHONE = "张某某", "13900001111"
LEAKS = [
    "经与张某某(13900001111)核实",
    "经与张 某某（139 0000 1111）核实",
    "张·某某 电话 139-0000-1111",
    "联系人ＺＨＡＮＧ；张某某，１３９００００１１１１",
    "已致电张先生，他住幸福里 8 号",
]
ADDRESS = "幸福里8号"


def leaks(text: str) -> list[str]:
    """What of the complainant is still readable in ``text`` (after removing spacing and
    folding width, as a determined reader would)."""
    import unicodedata

    flat = "".join(
        c for c in unicodedata.normalize("NFKC", text) if not c.isspace() and c not in "-·,，"
    )
    found = [x for x in (NAME, PHONE, "张先生", ADDRESS) if x in flat]
    digits = "".join(c for c in flat if c.isdigit())
    if PHONE in digits and PHONE not in found:
        found.append(PHONE)
    return found


def test_the_scrubber_covers_the_issue_examples():
    scrub = scrubber(NAME, PHONE, ADDRESS)
    for text in LEAKS:
        out = scrub(text)
        assert MASK in out, text
        assert leaks(out) == [], (text, out)
    # landlines with an area code, +86 forms and e-mail, whoever's they are
    for text in ["(010) 8765 4321", "0755-2345 6789 转 12", "+86 138 1234 5678", "a.b@x.cn"]:
        assert scrubber("", "", "")(text) == MASK, text
    # service numbers, ticket numbers, amounts and times are nobody's identity
    for text in [
        "请拨 12345 或 95598",
        "GW-2026-000123",
        "10000000.00",
        "2026-11-30T10:12:46+00:00",
    ]:
        assert scrubber(NAME, PHONE, "")(text) == text


# ---------------------------------------------------------------- every response schema


def _app() -> Any:
    return create_app(load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}))


def _response_fields(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """(component, field) of every string-valued field reachable from a 2xx response."""
    comps = schema["components"]["schemas"]
    found: set[tuple[str, str]] = set()
    seen: set[str] = set()

    def strings(p: dict[str, Any]) -> bool:
        if "$ref" in p:
            visit(p["$ref"].rsplit("/", 1)[1])
            return False
        alts = p.get("oneOf") or p.get("anyOf")
        if alts:
            return any([strings(a) for a in alts])
        if p.get("type") == "array":
            return strings(p.get("items", {}))
        if p.get("type") == "object" or "additionalProperties" in p:
            extra = p.get("additionalProperties")
            if isinstance(extra, dict):
                strings(extra)
            return True  # free-form: may hold text
        return p.get("type") == "string" and p.get("format") not in ("date-time", "date")

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for field, p in comps[name].get("properties", {}).items():
            if strings(p):
                found.add((name, field))

    for ops in schema["paths"].values():
        for op in ops.values():
            for status, resp in op.get("responses", {}).items():
                if status.startswith("2"):
                    for media in (resp.get("content") or {}).values():
                        strings(media.get("schema", {}))
    return found


def test_every_response_text_field_is_declared():
    """Each string field of each response schema is either structural or free text; a new
    field must be placed (and a free-text field is redacted by default)."""
    fields = _response_fields(_app().openapi_schema.to_schema())
    assert len(fields) > 60  # the walk reached the schemas
    assert not (confidential.STRUCTURAL & confidential.FREE_TEXT)
    undeclared = sorted(
        (c, f)
        for c, f in fields
        if f not in confidential.STRUCTURAL and f not in confidential.FREE_TEXT
    )
    assert undeclared == [], "declare these in core.confidential STRUCTURAL or FREE_TEXT"
    for must in ("reason", "decision_reason", "findings", "message", "payload",
                 "description", "demands", "complainant_violation", "event_place"):  # fmt: skip
        assert must in {f for _, f in fields if f in confidential.FREE_TEXT}, must


def test_every_route_answers_through_the_boundary():
    app = _app()
    n = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            hooks = [x.after_request for x in handler.ownership_layers if x.after_request]
            assert hooks, handler
            last = hooks[-1]
            assert getattr(last, "__wrapped__", last) is confidential.after_request, handler
            n += 1
    assert n > 50


def _build(tp: Any, field: str = "") -> Any:
    """An instance of a response type with every text set to the issue's leaking reason."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _build(args[0], field)
    if origin in (typing.Union, types.UnionType):
        return _build(next(a for a in args if a is not type(None)), field)
    if origin is typing.Literal:
        return args[0]
    if origin in (list, tuple, set, frozenset):
        return [_build(args[0] if args else str, field)]
    if origin is dict:
        if field in confidential.STRUCTURAL:  # a settings map (channels, templates' keys)
            return {"key": f"{field}-value"}
        return {"note": LEAKS[1], "ticket_id": 7, "nested": [{"reason": LEAKS[0]}]}
    if tp is Any or tp is dict:
        return {"note": LEAKS[1], "nested": [{"reason": LEAKS[0]}]}
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        hints = typing.get_type_hints(tp, include_extras=True)
        return tp(**{f: _build(hints[f], f) for f in tp.__struct_fields__})
    if tp is str:
        return LEAKS[0] if field in confidential.FREE_TEXT else f"{field}-value"
    if tp is bool:
        return False
    if tp is int:
        return 7
    if tp is float:
        return 1.5
    if tp is dt.datetime:
        return dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    if tp is dt.date:
        return dt.date(2026, 11, 30)
    return None


def _response_types(app: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            tp = handler.parsed_fn_signature.return_type.annotation
            if typing.get_origin(tp) is Response or tp is Response:
                args = typing.get_args(tp)
                tp = args[0] if args else Any
            while typing.get_origin(tp) in (list, typing.Union, types.UnionType):
                tp = next(a for a in typing.get_args(tp) if a is not type(None))
            if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
                out[tp.__name__] = tp
    return out


ACCUSED = Principal(
    user_id=1, username="staff-wang", roles=frozenset({"staff"}), tenant_id=1,
    tenant_slug="t", plugin="property", department_id=None, staff_id=5,
)  # fmt: skip
MANAGER = Principal(
    user_id=2, username="manager", roles=frozenset({"manager"}), tenant_id=1,
    tenant_slug="t", plugin="property", department_id=None, staff_id=None,
)  # fmt: skip


def test_every_response_schema_is_redacted_for_the_accused():
    """Built from the route table: an instance of every response struct, every text set to
    the leaking reason, rewritten for the accused (ticket 7 hidden): no free-text field keeps
    the name or the number; structural fields are untouched; the manager's view is unchanged."""
    types_ = _response_types(_app())
    assert {"TicketOut", "PenaltyOut", "AppealOut", "EventOut", "GradeOut", "ExtensionOut",
            "NotificationOut", "ClockOut"} <= set(types_)  # fmt: skip
    hidden = confidential.View(ACCUSED, {7: (NAME, PHONE, ADDRESS)})
    for name, tp in sorted(types_.items()):
        value = _build(tp)
        out = confidential.rewrite(value, hidden.scrub_for, current=7)
        raw = msgspec.json.encode(out).decode()
        assert leaks(raw) == [], (name, raw)
        before = msgspec.to_builtins(value)
        after = msgspec.to_builtins(out)
        for f in tp.__struct_fields__:
            if f in confidential.STRUCTURAL:
                assert after[f] == before[f], (name, f)
        # the manager's view of the same body is the body itself
        seeing = confidential.View(MANAGER, {}, {7})
        assert confidential.rewrite(value, seeing.scrub_for, current=7) is value
        # and the original was not mutated
        assert msgspec.to_builtins(value) == before


def test_the_boundary_fails_closed():
    """Text of a ticket the lookup did not return is still scrubbed of phone numbers, for any
    reader; text of no ticket is scrubbed for readers whose roles never see a complainant."""
    for who in (ACCUSED, MANAGER):
        assert confidential.View(who, {}, {8}).scrub_for(99)("电话13900001111") == "电话***"
    assert confidential.View(MANAGER, {}, {8}).scrub_for(8) is None
    assert confidential.View(ACCUSED, {}).scrub_for(None)("电话13900001111") == "电话***"
    assert confidential.View(MANAGER, {}).scrub_for(None) is None


# ---------------------------------------------------------------- end to end (both backends)

SETUP = ("phone", "repair_quality", "important", {"nature": "valid"}, "engineering")


def graded_ticket(api: Any, person: dict[str, str]) -> dict[str, Any]:
    """A greenwood ticket about staff-wang (GW-S001), graded main / tier_1 (a penalty is
    proposed [000 §篇7 六])."""
    channel, category, severity, facets, dept = SETUP
    t = api.create("greenwood", complainant=person, channel=channel,
                   accused_staff=["GW-S001"], accused_department=dept)  # fmt: skip
    t = api.act("greenwood", "clerk", t, "triage_valid", category=category, severity=severity,
                facets=facets)  # fmt: skip
    t = api.act("greenwood", "clerk", t, "register", reason="on_site")
    t = api.act("greenwood", "supervisor", t, "review")
    t = api.act("greenwood", "clerk", t, "dispatch", department=dept)
    t = api.act("greenwood", "head-engineering", t, "first_contact", note="called")
    return api.act(
        "greenwood", "head-engineering", t, "grade", findings="investigated",
        grades=[{"staff": "GW-S001", "grade": "main", "offence": "tier_1",
                 "findings": "未按约定回复"}],
    )  # fmt: skip


def person() -> dict[str, str]:
    return {"name": NAME, "contact": PHONE, "address": ADDRESS}


def test_decision_reasons_do_not_reach_the_accused(api):
    """The issue's examples: a penalty adjusted and an appeal upheld with reasons naming the
    complainant (once with a space inside the name). The accused reads penalties, appeals,
    history and notifications without them; the manager reads them in clear."""
    t = graded_ticket(api, person())
    (pen,) = api.get("greenwood", "manager", f"/api/tickets/{t['id']}/penalties").json()
    r = api.post(
        "greenwood",
        "manager",
        f"/api/penalties/{pen['id']}/adjust",
        json={"amount_yuan": "100.00", "reason": "经与张 某某(13900001111)核实，从轻"},
    )
    assert r.status_code == 200, r.text
    assert "张 某某(13900001111)" in r.json()["decision_reason"]  # the decider sees it

    r = api.post("greenwood", "staff-wang", f"/api/tickets/{t['id']}/appeals",
                 json={"reason": "我不同意"})  # fmt: skip
    assert r.status_code == 201, r.text
    appeal = r.json()
    r = api.post(
        "greenwood",
        "manager",
        f"/api/appeals/{appeal['id']}/decide",
        json={"decision": "upheld", "reason": "经与张某某(13900001111)核实"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["decision_reason"] == "经与张某某(13900001111)核实"

    for path in ("penalties", "appeals", "history", "grades", ""):
        url = f"/api/tickets/{t['id']}" + (f"/{path}" if path else "")
        mine = api.get("greenwood", "staff-wang", url)
        assert mine.status_code == 200, (path, mine.text)
        assert leaks(mine.text) == [], (path, mine.text)
        assert "核实" in mine.text or path in ("grades", ""), path  # the reason is there, masked
        full = api.get("greenwood", "manager", url)
        assert full.status_code == 200
        if path in ("penalties", "appeals", "history"):
            assert PHONE in full.text, path
    (mine,) = api.get("greenwood", "staff-wang", f"/api/tickets/{t['id']}/appeals").json()
    assert mine["decision_reason"] == "经与***(***)核实"
    (pen,) = api.get("greenwood", "staff-wang", f"/api/tickets/{t['id']}/penalties").json()
    assert pen["decision_reason"] == "经与***(***)核实，从轻"
    assert pen["final_yuan"] == "100.00"  # structural fields untouched
    # reports the accused may read: exports and the bulletin carry no identity either
    for path in ("/api/reports/export/tickets.csv", "/api/reports/export/kpis.csv",
                 "/api/reports/bulletin", "/api/reports/bulletin?format=markdown"):  # fmt: skip
        r = api.get("greenwood", "staff-wang", path)
        assert r.status_code == 200, (path, r.text)
        assert leaks(r.content.decode("utf-8-sig")) == [], path
        if path.endswith("tickets.csv"):  # the ticket is in it, its complainant masked
            assert t["number"] in r.text


def test_the_accused_department_head_reads_redacted_text(api):
    """A department head sees complainants (they must call them back), but not on a ticket
    that names them: the same reader gets a different view per ticket."""
    # head-engineering has no staff record in the demo files; the accused clerk does (GW-S009)
    t = api.create("greenwood", "supervisor", complainant=person(), accused_staff=["GW-S009"],
                   description="业主张某某(13900001111)投诉接待员态度差")  # fmt: skip
    other = api.create("greenwood", "supervisor", complainant=person(),
                       description="业主张某某(13900001111)投诉电梯")  # fmt: skip
    r = api.get("greenwood", "clerk", f"/api/tickets/{t['id']}")
    assert leaks(r.text) == [] and "***" in r.json()["description"]
    r = api.get("greenwood", "clerk", f"/api/tickets/{other['id']}")
    assert PHONE in r.json()["description"]  # not involved: the desk reads it whole
    items = api.get("greenwood", "clerk", "/api/tickets", params={"limit": 200}).json()["items"]
    by_id = {x["id"]: x for x in items}
    assert leaks(by_id[t["id"]]["description"]) == []
    assert PHONE in by_id[other["id"]]["description"]


def test_concurrent_readers_each_get_their_own_view(api):
    """Twelve requests at once, four readers (the accused, the manager, the tenant admin, the
    clerk), three rounds: every answer is the view of the one who asked."""
    t = graded_ticket(api, person())
    (pen,) = api.get("greenwood", "manager", f"/api/tickets/{t['id']}/penalties").json()
    r = api.post("greenwood", "manager", f"/api/penalties/{pen['id']}/waive",
                 json={"reason": "经与张某某(13900001111)核实，免予处罚"})  # fmt: skip
    assert r.status_code == 200, r.text
    readers = {"staff-wang": False, "manager": True, "admin": False, "clerk": True}
    paths = [f"/api/tickets/{t['id']}/penalties", f"/api/tickets/{t['id']}/history"]

    async def go() -> list[tuple[str, str, str]]:
        app = create_app(load_settings({"DATABASE_URL": api.url}))
        async with AsyncTestClient(app) as client:
            jobs = []
            for _ in range(3):
                batch = [(u, p) for u in readers for p in paths]
                random.shuffle(batch)
                jobs += batch

            async def one(user: str, path: str) -> tuple[str, str, str]:
                r = await client.get(path, headers=api.headers("greenwood", user))
                assert r.status_code == 200, (user, path, r.text)
                return user, path, r.text

            return list(await asyncio.gather(*(one(u, p) for u, p in jobs)))

    results = asyncio.run(go())
    assert len(results) == 24
    for user, path, body in results:
        if readers[user]:
            assert PHONE in body, (user, path)
        else:
            assert leaks(body) == [], (user, path, body)
            assert "核实" in body, (user, path)


@pytest.mark.parametrize("reason", LEAKS)
def test_the_spelling_does_not_matter(api, reason):
    """Each spelling (spaces, full-width forms, middle dot, surname + 先生, the address with
    spaces), written as a triage note on a ticket about staff-wang: redacted in the accused's
    history and ticket, in clear for the manager."""
    t = api.create("greenwood", complainant=person(), accused_staff=["GW-S001"])
    t = api.act("greenwood", "clerk", t, "triage_valid", category="repair_quality",
                severity="minor", facets={"nature": "valid"}, note=reason)  # fmt: skip
    for path in ("/history", ""):
        body = api.get("greenwood", "staff-wang", f"/api/tickets/{t['id']}{path}").text
        assert leaks(body) == [], body
    assert reason in api.get("greenwood", "manager", f"/api/tickets/{t['id']}/history").text
