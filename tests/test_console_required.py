"""A console form's required mark (``*``) and its refusals agree: every field marked required
and left empty is refused beside it in Chinese, even where the API has a default for it
(nothing the clerk was told to fill is filled in for them), and a field the operation refuses
as required carries the mark (triage's 投诉类别 and 投诉等级). Over HTTP on both backends."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import csrf, login

from core.app import create_app
from core.settings import load_settings


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def marked(html: str) -> set[str]:
    """Names of the inputs whose label carries the required mark."""
    out = set()
    for m in re.finditer(r'<label for="([^"]+)">[^<]*<span class="req"', html):
        tag = re.search(rf'<(?:select|input|textarea)[^>]*id="{re.escape(m.group(1))}"[^>]*>', html)
        assert tag, m.group(1)
        name = re.search(r'name="([^"]+)"', tag.group(0))
        assert name
        out.add(name.group(1))
    return out


def beside(html: str, name: str) -> str:
    m = re.search(rf'<p class="err" role="alert" data-field="{re.escape(name)}">([^<]*)</p>', html)
    return m.group(1) if m else ""


def count(api: Any, text: str) -> int:
    r = api.get("greenwood", "clerk", "/api/tickets", params={"q": text})
    return len(r.json()["items"])


INTAKE = {
    "channel": "visit",
    "complainant.name": "钱七",
    "complainant.contact": "13700000000",
    "description": "",  # filled per test with a text to find the ticket by
}


def test_intake_refuses_every_marked_field_left_empty_beside_it(
    api: Any, web: TestClient[Any]
) -> None:
    assert login(web, "clerk").status_code == 303
    page = web.get("/tickets/new").text
    required = marked(page)
    assert required == {"channel", "complainant.name", "complainant.contact", "description"}
    for name in sorted(required):
        text = f"必填检查 {uuid.uuid4().hex[:8]}"
        form = {**INTAKE, "description": text, name: ""}
        form |= {"_csrf_token": csrf(web, "/tickets/new"), "_idem": uuid.uuid4().hex}
        r = web.post("/tickets/new", data=form, follow_redirects=False)
        assert r.status_code == 422, (name, r.status_code, r.text[:300])
        said = beside(r.text, name)
        assert said.endswith("为必填项"), (name, said)
        if name != "description":
            assert count(api, text) == 0, name  # nothing saved (the channel is not "phone")
    # left on "— 请选择 —", the channel stays unchosen on the page drawn again
    form = {**INTAKE, "description": "渠道未选", "channel": ""}
    form |= {"_csrf_token": csrf(web, "/tickets/new"), "_idem": uuid.uuid4().hex}
    r = web.post("/tickets/new", data=form)
    select = r.text.split('id="channel"', 1)[1].split("</select>", 1)[0]
    assert "selected" not in select, select


def test_triage_marks_category_and_severity_and_refuses_them_empty_beside_them(
    api: Any, web: TestClient[Any]
) -> None:
    ticket = api.create("greenwood")
    assert login(web, "clerk").status_code == 303
    page = web.get(f"/tickets/{ticket['id']}").text
    form_html = page.split('id="form-triage_valid"', 1)[1].split("</form>", 1)[0]
    assert {"category", "severity"} <= marked(form_html), form_html[:1500]
    r = web.post(
        f"/tickets/{ticket['id']}/act/triage_valid",
        data={
            "_csrf_token": csrf(web, f"/tickets/{ticket['id']}"),
            "version": str(ticket["version"]),
            "category": "",
            "severity": "",
            "facets.nature": "valid",
        },
    )
    assert r.status_code == 422, r.text[:300]
    assert beside(r.text, "category") == "投诉类别为必填项", r.text[:3000]
    assert beside(r.text, "severity").endswith("为必填项")
    after = api.get("greenwood", "clerk", f"/api/tickets/{ticket['id']}").json()
    assert after["state"] == ticket["state"] and after["version"] == ticket["version"]


def test_triage_refuses_a_required_facet_left_empty_beside_it_by_its_label(
    api: Any, web: TestClient[Any]
) -> None:
    """The property industry's 投诉性质 is marked on triage and, left on "— 请选择 —", refused
    beside its select by its label — not at the top of the form as ``facets.nature``."""
    ticket = api.create("greenwood")
    assert login(web, "clerk").status_code == 303
    page = web.get(f"/tickets/{ticket['id']}").text
    form_html = page.split('id="form-triage_valid"', 1)[1].split("</form>", 1)[0]
    assert "facets.nature" in marked(form_html)
    r = web.post(
        f"/tickets/{ticket['id']}/act/triage_valid",
        data={
            "_csrf_token": csrf(web, f"/tickets/{ticket['id']}"),
            "version": str(ticket["version"]),
            "category": "repair_quality",
            "severity": "major",
            "facets.nature": "",
        },
    )
    assert r.status_code == 422, r.text[:300]
    assert beside(r.text, "facets.nature") == "投诉性质为必填项", r.text[:3000]
    assert "facets" not in r.text.split('id="form-triage_valid"', 1)[1].split("<select", 1)[0]
    after = api.get("greenwood", "clerk", f"/api/tickets/{ticket['id']}").json()
    assert after["state"] == ticket["state"] and after["version"] == ticket["version"]


def test_reclassify_does_not_mark_a_facet_it_keeps_when_left_empty(
    api: Any, web: TestClient[Any]
) -> None:
    """Reclassifying keeps a facet left on "— 请选择 —" (the API takes the facets it is
    given), so the reclassify form does not mark it required."""
    ticket = api.create("greenwood")
    tid = ticket["id"]
    api.post("greenwood", "clerk", f"/api/tickets/{tid}/triage-valid", json={
        "version": ticket["version"], "category": "repair_quality", "severity": "important",
        "facets": {"nature": "valid"},
    })  # fmt: skip
    assert login(web, "clerk").status_code == 303
    page = web.get(f"/tickets/{tid}").text
    form_html = page.split('id="form-reclassify"', 1)[1].split("</form>", 1)[0]
    assert "facets.nature" not in marked(form_html), form_html[:1500]
    version = api.get("greenwood", "clerk", f"/api/tickets/{tid}").json()["version"]
    r = web.post(
        f"/tickets/{tid}/act/reclassify",
        data={
            "_csrf_token": csrf(web, f"/tickets/{tid}"),
            "version": str(version),
            "facets.nature": "",
            "category": "repair_quality",
            "severity": "major",
            "reason": "重新核对等级",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:3000]
    after = api.get("greenwood", "clerk", f"/api/tickets/{tid}").json()
    assert after["severity"] == "major" and after["facets"] == {"nature": "valid"}
