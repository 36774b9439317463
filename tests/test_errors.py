"""Client mistakes are 4xx in the one error format, naming the field and the rule; never a 500.
Listing: keyset pagination, filters, a bounded number of queries; the API docs are public."""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from typing import Any

import pytest
from sqlalchemy import event

TENANT = "greenwood"
BODY = {
    "channel": "phone",
    "complainant": {"name": "张三丰", "contact": "13812345678"},
    "description": "error test",
}
FORMAT_KEYS = {"status", "code", "message", "field", "rule"}


def error(r: Any, status: int | None = None) -> dict[str, Any]:
    """The ``{"error": {...}}`` body, checked for shape; ``status`` None means any 4xx."""
    assert 400 <= r.status_code < 500, f"{r.status_code} {r.text}"
    if status is not None:
        assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["status"] == r.status_code
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    for key in ("field", "rule"):
        if key in err:
            assert isinstance(err[key], str) and err[key], err
    return err  # type: ignore[no-any-return]


def post_raw(api: Any, path: str, content: bytes) -> Any:
    headers = api.headers(TENANT, "clerk") | {"Content-Type": "application/json"}
    return api.client.post(path, content=content, headers=headers)


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def soon(moment: str, seconds: float = 1.0) -> str:
    """``moment`` (ISO, UTC) plus ``seconds``: an upper bound that leaves out the tickets
    other tests of the session dated in the future (they travel in time)."""
    at = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return (at + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def page_ids(api: Any, user: str = "clerk", **params: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        q = dict(params, limit=200) | ({"cursor": cursor} if cursor else {})
        r = api.get(TENANT, user, "/api/tickets", params=q)
        assert r.status_code == 200, r.text
        ids += [t["id"] for t in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return ids


# ---------------------------------------------------------------- request bodies


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"channel": }', b"[1,", b'{"channel": "phone"', b"\xff\xfe"]
)
def test_malformed_json_is_400(api, content):
    t = api.create(TENANT)
    for path in ("/api/tickets", f"/api/tickets/{t['id']}/triage-invalid"):
        error(post_raw(api, path, content), 400)
    assert api.get(TENANT, "clerk", f"/api/tickets/{t['id']}").json()["version"] == 1


def test_unknown_field_is_refused_by_name(api):
    err = error(api.post(TENANT, "clerk", "/api/tickets", json=BODY | {"colour": "red"}), 422)
    assert "colour" in err["message"] + err.get("field", "")
    assert "unknown field" in err.get("rule", "").lower()

    nested = BODY | {"complainant": {"name": "a", "contact": "b", "age": 40}}
    err = error(api.post(TENANT, "clerk", "/api/tickets", json=nested), 422)
    assert "age" in err["message"] + err.get("field", "")
    assert "complainant" in err["message"] + err.get("field", "")

    t = api.create(TENANT)
    r = api.post(
        TENANT,
        "clerk",
        f"/api/tickets/{t['id']}/triage-invalid",
        json={"version": 1, "reason": "spam", "sevrity": "minor"},
    )
    err = error(r, 422)
    assert "sevrity" in err["message"] + err.get("field", "")
    assert api.get(TENANT, "clerk", f"/api/tickets/{t['id']}").json()["state"] == "received"


@pytest.mark.parametrize(
    ("patch", "field", "rule_word"),
    [
        ({"complainant": {"name": 123, "contact": "b"}}, "complainant.name", "str"),
        ({"complainant": {"name": "a", "contact": ["b"]}}, "complainant.contact", "str"),
        ({"complainant": "张三"}, "complainant", "object"),
        ({"channel": "pigeon"}, "channel", "pigeon"),
        ({"description": ""}, "description", "length"),
        ({"accused_staff": "GW-S001"}, "accused_staff", "array"),
        ({"accused_staff": [1]}, "accused_staff[0]", "str"),
        ({"event_time": "2026-01-01T08:00:00"}, "event_time", "timezone"),
        ({"facets": {"nature": 1}}, "facets[...]", "str"),
    ],
)
def test_wrong_type_names_the_field_and_rule(api, patch, field, rule_word):
    err = error(api.post(TENANT, "clerk", "/api/tickets", json=BODY | patch), 422)
    assert err["code"] == "invalid"
    assert err.get("field") == field, err
    assert rule_word in err.get("rule", "").lower(), err


def test_transition_body_errors_name_the_field(api):
    t = api.create(TENANT)
    url = f"/api/tickets/{t['id']}"
    err = error(api.post(TENANT, "clerk", f"{url}/triage-invalid", json={"reason": "x"}), 422)
    assert err["field"] == "version" and "工单版本" in err["message"]  # its label, not its code
    err = error(
        api.post(TENANT, "clerk", f"{url}/triage-invalid", json={"version": 0, "reason": "x"}), 422
    )
    assert err.get("field") == "version" and ">= 1" in err.get("rule", "")
    err = error(
        api.post(TENANT, "clerk", f"{url}/register", json={"version": 1, "reason": "whim"}), 422
    )
    assert err.get("field") == "reason"
    # a domain rule: a stale version is 409 naming the field and the rule
    err = error(
        api.post(TENANT, "clerk", f"{url}/triage-invalid", json={"version": 7, "reason": "x"}), 409
    )
    assert err.get("field") == "version" and err.get("rule")
    # unknown codes are named too
    err = error(api.post(TENANT, "clerk", "/api/tickets", json=BODY | {"accused_staff": ["NOPE"]}))
    assert err.get("field") == "accused_staff[0]" and err.get("rule")
    assert api.get(TENANT, "clerk", url).json()["version"] == 1


def test_missing_body_or_wrong_shape_is_4xx(api):
    err = error(post_raw(api, "/api/tickets", b""))
    assert err["code"] in {"invalid", "bad_request", "http_error"}
    err = error(api.post(TENANT, "clerk", "/api/tickets", json=[BODY]), 422)
    err = error(api.post(TENANT, "clerk", "/api/tickets", json={"channel": "phone"}), 422)
    assert err["field"] == "complainant" and "投诉人" in err["message"]


# ---------------------------------------------------------------- list parameters


@pytest.mark.parametrize("limit", ["0", "-1", "201", "1000", "ten"])
def test_list_limit_out_of_range_is_422(api, limit):
    err = error(api.get(TENANT, "clerk", "/api/tickets", params={"limit": limit}), 422)
    assert err["code"] == "invalid"
    assert "limit" in err.get("field", ""), err
    assert err.get("rule"), err


@pytest.mark.parametrize(
    ("params", "headers", "names"),
    [
        ({"limit": "0"}, {}, {"limit", "query.limit"}),
        ({"limit": "1000"}, {}, {"limit", "query.limit"}),
        ({"created_from": "yesterday"}, {}, {"created_from", "query.created_from"}),
        (
            {},
            {"Idempotency-Key": "k" * 129},
            {
                "Idempotency-Key",
                "header.Idempotency-Key",
                "idempotency_key",
                "header.idempotency_key",
            },
        ),
    ],
)
def test_parameter_errors_name_the_parameter_as_the_client_sent_it(api, params, headers, names):
    """The field is the client's name for it, not an internal enum's repr."""
    if headers:
        r = api.post(TENANT, "clerk", "/api/tickets", json=BODY, headers=headers)
    else:
        r = api.get(TENANT, "clerk", "/api/tickets", params=params)
    err = error(r, 422)
    assert err.get("field") in names, err


@pytest.mark.parametrize("name", ["created_from", "created_to"])
def test_created_range_needs_a_timezone(api, name):
    err = error(api.get(TENANT, "clerk", "/api/tickets", params={name: "2026-01-01T00:00:00"}), 422)
    assert err["field"] == name
    assert "timezone" in err["rule"]
    err = error(api.get(TENANT, "clerk", "/api/tickets", params={name: "yesterday"}), 422)
    assert name in err.get("field", "")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "%%%",
        cursor_of(b"x:1"),
        cursor_of(b"t:abc"),
        cursor_of(b"t:"),
        cursor_of(b"\xff\xfe\xfd"),
    ],
)
def test_bad_cursor_is_422_naming_cursor(api, cursor):
    err = error(api.get(TENANT, "clerk", "/api/tickets", params={"cursor": cursor}), 422)
    assert err["field"] == "cursor"
    assert err["rule"]


@pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
def test_out_of_range_cursor_is_not_a_500(api, value):
    """A cursor the server never issued, with an id past what the key column holds: either
    an (empty or full) page or a 422 naming the cursor, never an internal error."""
    cursor = cursor_of(f"t:{value}".encode())
    r = api.get(TENANT, "clerk", "/api/tickets", params={"cursor": cursor})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert error(r, 422)["field"] == "cursor"


def test_unknown_department_filter_is_422(api):
    err = error(api.get(TENANT, "clerk", "/api/tickets", params={"department": "fleet-1"}), 422)
    assert err["field"] == "department"


@pytest.mark.parametrize(
    "ticket_id", ["2147483648", "9223372036854775808", "99999999999999999999999"]
)
def test_out_of_range_ticket_id_is_not_a_500(api, ticket_id):
    for suffix in ("", "/history", "/grades"):
        error(api.get(TENANT, "clerk", f"/api/tickets/{ticket_id}{suffix}"), 404)
    r = api.post(
        TENANT,
        "clerk",
        f"/api/tickets/{ticket_id}/triage-invalid",
        json={"version": 1, "reason": "x"},
    )
    error(r, 404)


# ---------------------------------------------------------------- pagination and filters


def test_keyset_pagination_walks_every_ticket_once_newest_first(api):
    since = now()
    created = [api.create(TENANT)["id"] for _ in range(5)]
    seen: list[int] = []
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "created_from": since, "created_to": soon(since, 300)}
        if cursor:
            params["cursor"] = cursor
        r = api.get(TENANT, "clerk", "/api/tickets", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(len(page["items"]))
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
        if len(pages) == 1:  # a ticket created mid-walk is newer: it never shows up later
            late = api.create(TENANT)["id"]
    assert pages == [2, 2, 1]
    assert seen == sorted(created, reverse=True)  # newest first, no duplicates, no gaps
    assert late not in seen

    # an exact multiple of the limit ends without a dangling cursor
    r = api.get(
        TENANT, "clerk", "/api/tickets",
        params={"limit": 6, "created_from": since, "created_to": soon(since, 300)},
    )  # fmt: skip
    assert [t["id"] for t in r.json()["items"]] == [late, *sorted(created, reverse=True)]
    assert r.json()["next_cursor"] is None


def _tax(api: Any) -> dict[str, Any]:
    tax = api.get(TENANT, "clerk", "/api/taxonomy").json()
    return {
        "categories": [c["code"] for c in tax["categories"]],
        "severities": [s["code"] for s in tax["severities"]],
        "facets": {
            f["code"]: f["values"][0]["code"] for f in tax.get("facets", []) if f.get("required")
        },
    }


def test_filters_return_exactly_the_matching_tickets(api):
    tax = _tax(api)
    cat_x, cat_y = tax["categories"][:2]
    sev_1, sev_2 = tax["severities"][:2]
    since = now()
    t1 = api.create(TENANT, category=cat_x, severity=sev_1)
    t2 = api.create(TENANT, category=cat_y, severity=sev_2, accused_department="environment")
    time.sleep(0.01)
    mid = now()
    time.sleep(0.01)
    t3 = api.create(TENANT, accused_department="security")
    t3 = api.act(
        TENANT, "clerk", t3, "triage_valid", category=cat_x, severity=sev_1, facets=tax["facets"]
    )
    t3 = api.act(TENANT, "clerk", t3, "register", reason="on_site")
    t3 = api.act(TENANT, "supervisor", t3, "review")
    t3 = api.act(TENANT, "clerk", t3, "dispatch", department="engineering")
    t4 = api.create(TENANT)
    t4 = api.act(TENANT, "clerk", t4, "triage_invalid", reason="not a complaint")
    until = now()
    ids = {n: t["id"] for n, t in {"t1": t1, "t2": t2, "t3": t3, "t4": t4}.items()}

    # Bounded above too: other tests of the session travel in time and leave tickets dated
    # after today in the shared database.
    params_to = soon(until)

    def q(**params: Any) -> set[str]:
        params.setdefault("created_to", params_to)
        got = page_ids(api, created_from=params.pop("created_from", since), **params)
        assert len(got) == len(set(got))
        names = {n for n, i in ids.items() if i in got}
        assert len(names) == len(got), "tickets from outside this test matched"
        return names

    assert q() == {"t1", "t2", "t3", "t4"}
    assert q(state="received") == {"t1", "t2"}
    assert q(state="dispatched") == {"t3"}
    assert q(state="closed") == {"t4"}
    assert q(state="graded") == set()
    assert q(category=cat_x) == {"t1", "t3"}
    assert q(category=cat_y) == {"t2"}
    assert q(severity=sev_2) == {"t2"}
    assert q(state="received", category=cat_x) == {"t1"}
    assert q(department="engineering") == {"t3"}  # dispatched to it
    assert q(department="security") == {"t3"}  # complained about
    assert q(department="environment") == {"t2"}
    assert q(department="finance") == set()
    assert q(created_to=mid) == {"t1", "t2"}
    assert q(created_from=mid) == {"t3", "t4"}
    assert q(created_from=mid, created_to=until) == {"t3", "t4"}
    assert q(created_from=until) == set()
    # the same instant written in another offset selects the same tickets
    mid_cst = dt.datetime.fromisoformat(mid).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert q(created_to=mid_cst.isoformat()) == {"t1", "t2"}
    assert q(created_from=mid_cst.isoformat()) == {"t3", "t4"}


# ---------------------------------------------------------------- queries per page


def test_list_issues_a_bounded_number_of_queries(api):
    since = now()
    for i in range(22):
        staff = ["GW-S001", "GW-S002"] if i % 2 else ["GW-S003"]
        api.create(TENANT, accused_staff=staff, accused_department="engineering")
    engine = api.client.app.state.db.engine.sync_engine
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    def run(user: str, limit: int) -> int:
        statements.clear()
        r = api.get(TENANT, user, "/api/tickets", params={"limit": limit, "created_from": since})
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == limit
        return len(statements)

    event.listen(engine, "before_cursor_execute", count)
    try:
        # the clerk reads all 22; staff-wang (GW-S001, masked view) the 11 about him
        for user, many in (("clerk", 20), ("staff-wang", 11)):
            run(user, 2)  # warm the token cache
            small, large = run(user, 2), run(user, many)
            assert small == large, f"{user}: {small} statements for 2 items, {large} for {many}"
            assert small <= 6, statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# ---------------------------------------------------------------- docs


def test_openapi_docs_are_public_and_list_the_ticket_routes(api):
    r = api.client.get("/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    r = api.client.get("/docs/openapi.json")
    assert r.status_code == 200, r.text
    paths = r.json()["paths"]
    ticket_routes = [
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path), method.lower())
        for route in api.client.app.routes
        if route.path.startswith("/api/tickets")
        for method in route.methods - {"OPTIONS", "HEAD"}
    ]
    assert len(ticket_routes) >= 22
    for path, method in ticket_routes:
        assert path in paths and method in paths[path], (path, method)
    create = paths["/api/tickets"]["post"]
    assert create.get("requestBody"), "the create body is documented"
