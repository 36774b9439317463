"""Smaller holes found by attack (issue 21 item 7), through HTTP on both backends: every
declared bound on a query parameter is enforced (walked from the OpenAPI document), an empty
``Authorization`` header does not skip CSRF for a session, and every 405 says ``Allow``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import DEMO_KEYS
from litestar.testing import TestClient

from core.app import create_app
from core.settings import load_settings

BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
          "maxLength", "pattern")  # fmt: skip


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    found = {k: schema[k] for k in BOUNDS if k in schema}
    for member in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= {k: member[k] for k in BOUNDS if k in member}
    return found


def _bad_values(bounds: dict[str, Any]) -> list[str]:
    out = []
    if "minimum" in bounds:
        out.append(str(int(bounds["minimum"]) - 1))
    if "exclusiveMinimum" in bounds:
        out.append(str(int(bounds["exclusiveMinimum"])))
    if "maximum" in bounds:
        out.append(str(int(bounds["maximum"]) + 1))
    if "exclusiveMaximum" in bounds:
        out.append(str(int(bounds["exclusiveMaximum"])))
    if "minimum" in bounds and bounds["minimum"] > 0:
        out.append("-1")
    if "maxLength" in bounds:
        out.append("a" * (int(bounds["maxLength"]) + 1))
    if bounds.get("minLength", 0) > 0:
        out.append("")
    if "pattern" in bounds:
        out.append("!!not-it!!")
    return out


def _path(template: str, op: dict[str, Any]) -> str:
    def fill(m: re.Match[str]) -> str:
        for p in op.get("parameters", []):
            if p["in"] == "path" and p["name"] == m.group(1):
                schema = p.get("schema", {})
                if schema.get("enum"):
                    return str(schema["enum"][0])
                return "1" if schema.get("type") == "integer" else "x"
        return "1"

    return re.sub(r"\{([^}:]+)(?::[^}]+)?\}", fill, template)


def test_every_declared_query_bound_is_enforced(api: Any) -> None:
    """``GET /api/notifications/outbound?limit=-1`` was a 500 (``LIMIT -1`` on PostgreSQL);
    every bounded query parameter of the API now answers 422 naming it."""
    spec = api.client.get("/docs/openapi.json").json()
    headers = api.headers("greenwood", "admin")
    checked: list[tuple[str, str, str, int]] = []
    for template, ops in spec["paths"].items():
        if not template.startswith("/api/"):
            continue
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param["in"] != "query":
                    continue
                for value in _bad_values(_bounds(param.get("schema", {}))):
                    r = api.client.request(
                        method.upper(),
                        _path(template, op),
                        params={param["name"]: value},
                        headers=headers,
                    )
                    checked.append((method, template, param["name"], r.status_code))
                    assert 400 <= r.status_code < 500, (method, template, param, value, r.text)
                    if r.status_code == 422:
                        assert r.json()["error"]["field"] in (
                            param["name"],
                            f"query.{param['name']}",
                        )
    params = {(m, t, n) for m, t, n, _ in checked}
    print(f"query bounds (OpenAPI): {len(params)} parameters, {len(checked)} requests")
    assert len(params) >= 10, checked


def _meta_bad_values(kind: Any) -> list[str]:
    import msgspec

    meta = next(m for m in kind.__metadata__ if isinstance(m, msgspec.Meta))
    out = []
    for name, shift in (("ge", -1), ("le", 1), ("gt", 0), ("lt", 0)):
        bound = getattr(meta, name)
        if bound is not None:
            out.append(str(bound + shift))
    if meta.max_length is not None:
        out.append("a" * (meta.max_length + 1))
    if meta.min_length:
        out.append("")
    if meta.pattern is not None:
        out.append("!!not-it!!")
    return out


def test_bounds_the_openapi_document_does_not_show_are_enforced_too(api: Any) -> None:
    """Some bounds live in the handler's annotation only (``FromQuery[Annotated[int,
    Meta(ge=1, le=500)]]`` shows no minimum in the document): walk the handlers as well."""
    from litestar.handlers import HTTPRouteHandler

    from core.query_params import bounded_query

    headers = api.headers("greenwood", "admin")
    checked = set()
    for route in api.client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not route.path.startswith("/api/"):
                continue
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            for name, kind, _ in bounded_query(handler):
                for value in _meta_bad_values(kind):
                    method = sorted(handler.http_methods)[0]
                    r = api.client.request(method, path, params={name: value}, headers=headers)
                    assert r.status_code == 422, (method, route.path, name, value, r.text)
                    assert r.json()["error"]["field"] == f"query.{name}"
                    checked.add((method, route.path, name))
    print(f"query bounds (handlers): {len(checked)} parameters")
    assert ("GET", "/api/notifications/outbound", "limit") in checked, sorted(checked)


@pytest.fixture
def web(api: Any) -> Any:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def _login(client: Any) -> None:
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    r = client.post(
        "/login",
        data={
            "_csrf_token": token.group(1),
            "tenant": "greenwood",
            "username": "clerk",
            "password": "clerk-77cf06",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.mark.parametrize("value", ["", " ", "Bearer", "Bearer ", "Basic xyz"])
def test_an_empty_or_odd_authorization_header_does_not_skip_csrf(
    web: Any, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session cookie plus ``Authorization:`` with nothing usable in it wrote through
    the API with no CSRF token; now such a request is judged as the browser's it is."""
    _login(web)
    body = {"channel": "phone", "complainant": {"name": "甲", "contact": "13800000000"},
            "description": "csrf"}  # fmt: skip
    r = web.post("/api/tickets", json=body, headers={"Authorization": value})
    assert r.status_code in (401, 403), r.text
    assert r.status_code != 201
    # a real bearer key still needs no CSRF token
    good = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
    assert web.post("/api/tickets", json=body, headers=good).status_code == 201


def test_every_405_says_allow(api: Any) -> None:
    """TRACE (or any method a route does not take) answered 405 without ``Allow`` on 84
    operations."""
    spec = api.client.get("/docs/openapi.json").json()
    headers = api.headers("greenwood", "admin")
    seen = 0
    for template, ops in spec["paths"].items():
        op = next(iter(ops.values()))
        path = _path(template, op)
        for method in ("TRACE", "PATCH", "PUT", "DELETE"):
            if method.lower() in ops:
                continue
            r = api.client.request(method, path, headers=headers)
            if r.status_code == 405:
                seen += 1
                allow = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
                assert allow, (method, template, r.headers)
                assert {m.upper() for m in ops} <= allow, (method, template, allow)
    print(f"405 answers checked for Allow: {seen}")
    assert seen >= 80
    for path in ("/", "/login", "/health"):  # the console's pages and the probes too
        r = api.client.request("TRACE", path)
        assert r.status_code == 405 and r.headers.get("allow"), (path, r.headers)
