"""The OpenAPI document tells the truth about errors and files (issue 9 item 16)."""

from __future__ import annotations

from typing import Any

import pytest

from core.openapi import ERRORS

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def spec(api: Any) -> dict[str, Any]:
    r = api.client.get("/docs/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_operation_documents_the_error_shape(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert len(ops) >= 60
    for path, method, op in ops:
        codes = set(op["responses"])
        wanted = {"500", "503"} if path in ("/health", "/ready", "/metrics") else set(ERRORS)
        assert wanted <= codes, (method, path, sorted(codes))
        for code in wanted:
            content = op["responses"][code]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, code)


def test_the_error_schema_is_the_one_error_format(api: Any, spec: dict[str, Any]) -> None:
    schema = spec["components"]["schemas"]["Error"]
    assert schema["required"] == ["error"]
    inner = schema["properties"]["error"]
    assert set(inner["required"]) == {"status", "code", "message"}
    r = api.get("greenwood", "clerk", "/api/tickets", params={"limit": "0"})
    body = r.json()
    assert set(body) == {"error"} and set(inner["required"]) <= set(body["error"])
    assert "ValidationException" not in str(spec)


def test_files_are_declared_with_their_media_types(spec: dict[str, Any]) -> None:
    export = spec["paths"]["/api/reports/export/{filename}"]["get"]["responses"]["200"]
    assert set(export["content"]) == {
        "text/csv; charset=utf-8",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    chart = spec["paths"]["/api/reports/charts/{filename}"]["get"]["responses"]["200"]
    assert set(chart["content"]) == {"image/png", "image/svg+xml"}
    for media in (*export["content"].values(), *chart["content"].values()):
        assert media["schema"] == {"type": "string", "format": "binary"}
    bulletin = spec["paths"]["/api/reports/bulletin"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/markdown; charset=utf-8"} <= set(bulletin)


def test_second_success_statuses_are_documented(spec: dict[str, Any]) -> None:
    assert {"200", "201"} <= set(spec["paths"]["/api/tickets"]["post"]["responses"])
    assert {"200", "201"} <= set(spec["paths"]["/api/ledger/runs"]["post"]["responses"])
