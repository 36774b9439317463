"""The request contract: what the API accepts, the database can store, on both backends.

- every text field of every request body is bounded, and a field stored in a ``String(n)``
  column is at most ``n`` long — generated from the app's routes and the SQLAlchemy models,
  so a new field or a shrunk column fails here (issue 9 items 6, 13);
- free-form JSON (``facts``) has depth and size limits (item 7);
- bodies and query values are decoded strictly, never coerced (item 11);
- a NUL character is refused in every text field, transition payloads included (item 13).

Each refusal is a 422 in the one error format naming the field.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec.inspect as mi
import pytest

from core.app import create_app
from core.db import Base
from core.error_text import field_label
from core.settings import load_settings
from core.strict import FREE_JSON_DEPTH, _plan

TENANT = "greenwood"
BODY = {
    "channel": "phone",
    "complainant": {"name": "张三丰", "contact": "13812345678"},
    "description": "contract test",
}

# Request fields whose name matches a String(n) column elsewhere but which are not stored
# in it, with where they do go. Anything else named like a column must declare its column
# (core.strict.fits) or be no longer than every same-named column.
NOT_STORED_IN_SAME_NAMED_COLUMN = {
    "note": "transition notes and pause notes live in the event payload (JSON)",
    "name": "tenant-file names go to name columns of 200, checked by the tenant file schema",
    "reason": "reasons are Text columns or event payloads",
}
_UNBOUNDED = re.compile(r"[*+]|\{\d+,\}")


def _text_fields(t: Any, path: str, out: list[tuple[str, Any, dict[str, Any]]]) -> None:
    """Every string a request body type can hold: (path, StrType, merged Meta extra)."""
    extra: dict[str, Any] = {}
    while isinstance(t, mi.Metadata):
        extra |= t.extra or {}
        t = t.type
    if isinstance(t, mi.StructType):
        for f in t.fields:
            _text_fields(f.type, f"{t.cls.__name__}.{f.name}", out)
    elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        _text_fields(t.item_type, f"{path}[]", out)
    elif isinstance(t, mi.DictType):
        _text_fields(t.key_type, f"{path}{{key}}", out)
        _text_fields(t.value_type, f"{path}{{}}", out)
    elif isinstance(t, mi.UnionType):
        for a in t.types:
            _text_fields(a, path, out)
    elif isinstance(t, mi.StrType):
        out.append((path, t, extra))


def _request_text_fields() -> list[tuple[str, str, Any, dict[str, Any]]]:
    app = create_app(load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}))
    rows = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            body, _ = _plan(handler)
            if body is None:
                continue
            out: list[tuple[str, Any, dict[str, Any]]] = []
            _text_fields(mi.type_info(body), "", out)
            rows += [(handler.operation_id, *o) for o in out]
    return rows


FIELDS = _request_text_fields()


def _string_columns() -> dict[str, dict[str, int]]:
    """column name -> {table.column: length} for every String(n) column of the models."""
    out: dict[str, dict[str, int]] = {}
    for table in Base.metadata.tables.values():
        for col in table.columns:
            length = getattr(col.type, "length", None)
            if length:
                out.setdefault(col.name, {})[f"{table.name}.{col.name}"] = length
    return out


def test_the_walk_sees_the_request_bodies() -> None:
    paths = {p for _, p, _, _ in FIELDS}
    assert {"Complainant.name", "TicketCreate.temper_note", "PenaltyDecision.reason"} <= paths
    assert len({op for op, *_ in FIELDS}) >= 25


@pytest.mark.parametrize(("operation", "path", "info", "extra"), FIELDS, ids=lambda v: str(v))
def test_every_request_text_field_is_bounded(
    operation: str, path: str, info: Any, extra: dict[str, Any]
) -> None:
    """Free text has a sane maximum (item 13); a code is bounded by its anchored pattern."""
    if info.max_length is not None:
        assert info.max_length <= 4000, f"{operation} {path}: max_length {info.max_length}"
        return
    pattern = info.pattern or ""
    assert pattern.startswith("^") and pattern.endswith("$") and not _UNBOUNDED.search(pattern), (
        f"{operation} {path} has neither a max_length nor a bounded pattern"
    )


@pytest.mark.parametrize(("operation", "path", "info", "extra"), FIELDS, ids=lambda v: str(v))
def test_request_text_fits_its_column(
    operation: str, path: str, info: Any, extra: dict[str, Any]
) -> None:
    """Item 6: no length limit in the API exceeds its column's."""
    if info.max_length is None:
        return
    columns = _string_columns()
    if "column" in extra:
        table, name = extra["column"].split(".")
        length = Base.metadata.tables[table].c[name].type.length
        assert info.max_length <= length, f"{operation} {path} > {extra['column']}({length})"
        return
    field = path.rsplit(".", 1)[-1].split("[")[0].split("{")[0]
    if field in NOT_STORED_IN_SAME_NAMED_COLUMN:
        return
    for column, length in columns.get(field, {}).items():
        assert info.max_length <= length, (
            f"{operation} {path} allows {info.max_length} characters but a column of the same "
            f"name, {column}, holds {length}: declare its column with core.strict.fits"
        )


# ---------------------------------------------------------------- over HTTP, both backends


def err(r: Any, field: str) -> dict[str, Any]:
    assert r.status_code == 422, f"{r.status_code} {r.text}"
    e = r.json()["error"]
    assert e["field"] == field, e
    # a Chinese message names the field by its label (core.tickets.labels), else its code
    assert (field_label(field) or field.rsplit(".", 1)[-1]) in e["message"], e
    return e  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"temper_note": "怒" * 501}, "temper_note"),
        ({"event_place": "x" * 501}, "event_place"),
        ({"complainant": {"name": "张", "contact": "1", "address": "栋" * 501}}, "complainant.address"),
        ({"complainant": {"name": "张" * 300, "contact": "1"}}, "complainant.name"),
        ({"complainant": {"name": "张" * 201, "contact": "1"}}, "complainant.name"),
        ({"complainant": {"name": "张", "contact": "1" * 201}}, "complainant.contact"),
    ],
)
def test_text_longer_than_its_column_is_422_not_500(api: Any, patch: dict[str, Any], field: str) -> None:
    r = api.post(TENANT, "clerk", "/api/tickets", json=BODY | patch)
    err(r, field)


def test_text_exactly_as_long_as_its_column_is_stored(api: Any) -> None:
    """The limit is the column's, in characters, on PostgreSQL too (varchar counts chars)."""
    t = api.create(
        TENANT,
        complainant={
            "name": "张" * 200,
            "contact": "a" * 188 + "@example.com",  # a valid e-mail as long as the column
            "address": "栋" * 500,
        },
        temper_note="怒" * 500,
        event_place="地" * 500,
    )
    assert t["complainant"]["address"] == "栋" * 500
    assert t["temper_note"] == "怒" * 500


def test_grade_capacity_is_bounded_by_its_column(api: Any) -> None:
    t = api.create(TENANT)
    body = {
        "version": t["version"],
        "findings": "f",
        "grades": [{"staff": "GW-S001", "grade": "none", "findings": "f", "capacity": "c" * 33}],
    }
    r = api.post(TENANT, "manager", f"/api/tickets/{t['id']}/grade", json=body)
    err(r, "grades[0].capacity")


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def _raw_body(depth: int, where: str = "facts") -> bytes:
    """The JSON text itself: the client's own encoder cannot nest 1,000 levels either."""
    deep = '{"k":' * depth + "1" + "}" * depth
    body = dict(BODY)
    return (json.dumps(body)[:-1] + f', "{where}": {{"x": {deep}}}}}').encode()


def post_raw(api: Any, path: str, content: bytes, user: str = "clerk") -> Any:
    headers = api.headers(TENANT, user) | {"Content-Type": "application/json"}
    return api.client.post(path, content=content, headers=headers)


@pytest.mark.parametrize("depth", [FREE_JSON_DEPTH, 50, 900, 1000, 5000, 100_000])
def test_deeply_nested_facts_are_422_naming_facts(api: Any, depth: int) -> None:
    """Item 7: 1,000 levels used to be a RecursionError (500)."""
    r = post_raw(api, "/api/tickets", _raw_body(depth))
    assert r.status_code == 422, r.text
    e = r.json()["error"]
    assert "nested" in e["rule"], e  # the rule is machine-readable English in every language
    if depth < 900:  # decodable: the field's own limit names it
        assert e["field"] == "facts", e


def test_facts_within_the_depth_limit_reach_the_taxonomy_check(api: Any) -> None:
    """At the limit the depth gate lets the value through; the taxonomy then judges it."""
    r = api.post(TENANT, "clerk", "/api/tickets", json=BODY | {"facts": {"x": _nested(FREE_JSON_DEPTH - 1)}})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "facts.x"
    assert api.create(TENANT, facts={"personal_injury": True})["facts"] == {"personal_injury": True}


def test_large_facts_are_422(api: Any) -> None:
    r = api.post(TENANT, "clerk", "/api/tickets", json=BODY | {"facts": {"x": "a" * 20_000}})
    e = err(r, "facts")
    assert "bytes" in e["rule"] and "字节" in e["message"]


def test_deep_facts_in_a_reclassification_are_422(api: Any) -> None:
    t = api.create(TENANT)
    deep = '{"k":' * 2000 + "1" + "}" * 2000
    body = f'{{"version": {t["version"]}, "reason": "r", "facts": {{"x": {deep}}}}}'.encode()
    r = post_raw(api, f"/api/tickets/{t['id']}/reclassify", body, user="manager")
    assert r.status_code == 422, r.text
    assert "nested" in r.json()["error"]["rule"]


# ---------------------------------------------------------------- strict types (item 11)


def test_a_version_sent_as_text_is_422(api: Any) -> None:
    t = api.create(TENANT)
    r = api.post(
        TENANT, "clerk", f"/api/tickets/{t['id']}/triage-invalid",
        json={"version": str(t["version"]), "reason": "不属于投诉"},
    )  # fmt: skip
    e = err(r, "version")
    assert "int" in e["rule"]


def test_a_boolean_sent_as_a_number_is_422(api: Any) -> None:
    t = api.create(TENANT)
    r = api.post(
        TENANT, "clerk", f"/api/tickets/{t['id']}/triage-invalid",
        json={"version": t["version"], "reason": "不属于投诉", "complainant_informed": 0},
    )  # fmt: skip
    e = err(r, "complainant_informed")
    assert "bool" in e["rule"]
    # and nothing changed
    assert api.get(TENANT, "clerk", f"/api/tickets/{t['id']}").json()["version"] == t["version"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"created_to": "0.5"}, "created_to"),
        ({"created_from": "1700000000"}, "created_from"),
        ({"limit": "1.0"}, "limit"),
        ({"limit": " 5"}, "limit"),
    ],
)
def test_query_values_are_decoded_strictly(api: Any, params: dict[str, str], field: str) -> None:
    r = api.get(TENANT, "clerk", "/api/tickets", params=params)
    err(r, f"query.{field}")


def test_boolean_query_values_are_true_or_false(api: Any) -> None:
    assert api.get(TENANT, "clerk", "/api/notifications", params={"unread": "true"}).status_code == 200
    err(api.get(TENANT, "clerk", "/api/notifications", params={"unread": "1"}), "query.unread")


def test_well_typed_queries_still_work(api: Any) -> None:
    r = api.get(
        TENANT, "clerk", "/api/tickets",
        params={"created_from": "2020-01-01T00:00:00+08:00", "limit": "5"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) <= 5


# ---------------------------------------------------------------- NUL and free text (13)


def test_nul_in_a_transition_reason_is_refused_and_not_stored(api: Any) -> None:
    t = api.create(TENANT)
    r = api.post(
        TENANT, "clerk", f"/api/tickets/{t['id']}/triage-invalid",
        json={"version": t["version"], "reason": "a\x00b"},
    )  # fmt: skip
    e = err(r, "reason")
    assert "NUL" in e["rule"]
    history = api.get(TENANT, "clerk", f"/api/tickets/{t['id']}/history").json()
    assert all("\x00" not in str(h["payload"]) for h in history)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"description": "a\x00b"}, "description"),
        ({"facts": {"k": ["ok", "a\x00"]}}, "facts.k[1]"),
        ({"facts": {"k\x00": 1}}, "facts.k\x00"),
    ],
)
def test_nul_anywhere_in_a_body_is_refused(api: Any, patch: dict[str, Any], field: str) -> None:
    r = api.post(TENANT, "clerk", "/api/tickets", json=BODY | patch)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_an_escaped_backslash_before_u0000_is_not_a_nul(api: Any) -> None:
    t = api.create(TENANT, description="path C:\\u0000 literally")
    assert t["description"] == "path C:\\u0000 literally"


def test_nul_in_a_query_value_is_refused(api: Any) -> None:
    err(api.get(TENANT, "clerk", "/api/tickets", params={"category": "a\x00"}), "query.category")


def test_a_fine_change_reason_of_100_kb_is_refused(api: Any) -> None:
    rule = api.get(TENANT, "admin", "/api/config/fines").json()[0]["rule"]
    r = api.client.put(
        f"/api/config/fines/{rule}",
        json={"amount_yuan": "100.00", "reason": "理" * 100_000},
        headers=api.headers(TENANT, "admin"),
    )
    err(r, "reason")


def test_a_penalty_decision_reason_is_bounded(api: Any) -> None:
    r = api.post(TENANT, "manager", "/api/penalties/1/waive", json={"reason": "x" * 2001})
    err(r, "reason")


@pytest.mark.parametrize("period", ["2199-12", "1999-12", "NOW", "2026-13", "26-01"])
def test_a_ledger_run_is_for_an_ended_month_in_a_sane_range(api: Any, period: str) -> None:
    """Item 13: 2199-12 was accepted (and without carry-over would write fines off)."""

    from core import clock

    if period == "NOW":  # the month still running in the tenant's zone (no zone set: Shanghai)
        from zoneinfo import ZoneInfo

        period = f"{clock.now().astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m}"
    r = api.post("riverside-power", "manager", "/api/ledger/runs", json={"period": period})
    err(r, "period")


def test_nul_in_a_path_value_is_refused(api: Any) -> None:
    r = api.client.put(
        "/api/config/fines/a%00b", json={"amount_yuan": "1.00"}, headers=api.headers(TENANT, "admin")
    )
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["error"]["rule"]
