"""The accused sees nothing of the complainant (issue 21 item 1, second part).

The staff member a complaint names was shown ``李** · 137****1111`` — the surname and 7 of
11 digits — in the ticket, the list and the CSV export, which in one housing estate names
the person. Now they see ``***`` for the name, the contact and the address on every surface
(API ticket and list, CSV and XLSX export, the console page); roles that merely do not need
the identity (the tenant admin) keep the partial mask; one rule decides
(:mod:`core.tickets.complainant`). Both backends, through HTTP.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from litestar.testing import TestClient
from test_console_auth import login

from core.app import create_app
from core.settings import load_settings

T = "greenwood"
NAME, CONTACT, ADDRESS = "李秀英", "13712341111", "枫林苑3栋2单元1101"
HIDDEN = {"name": "***", "contact": "***", "address": "***", "masked": True}
PARTIAL = {"name": "李**", "contact": "137****1111", "address": "***", "masked": True}


@pytest.fixture
def case(api: Any) -> dict[str, Any]:
    mark = uuid.uuid4().hex[:8]
    return api.create(
        T,
        complainant={"name": NAME, "contact": CONTACT, "address": ADDRESS},
        description=f"{mark} 维修工上门态度恶劣",
        accused_staff=["GW-S001"],  # staff-wang
        accused_department="engineering",
    )


def leaks(text: str) -> list[str]:
    """Any piece of the complainant that a text shows (the surname, four digits, …)."""
    pieces = [
        NAME,
        NAME[0] + "*",
        CONTACT,
        CONTACT[:3] + "*",
        "*" + CONTACT[-4:],
        ADDRESS,
        "枫林苑",
    ]
    return [p for p in pieces if p in text]


def test_ticket_and_list_show_the_accused_nothing(api: Any, case: dict[str, Any]) -> None:
    one = api.get(T, "staff-wang", f"/api/tickets/{case['id']}").json()
    assert one["complainant"] == HIDDEN
    rows = api.get(T, "staff-wang", "/api/tickets", params={"limit": 100}).json()["items"]
    mine = [r for r in rows if r["id"] == case["id"]]
    assert mine and mine[0]["complainant"] == HIDDEN
    # the tenant admin merely does not need it: the partial mask stays
    admin = api.get(T, "admin", f"/api/tickets/{case['id']}").json()
    assert admin["complainant"] == PARTIAL
    # the desk sees it all
    clerk = api.get(T, "clerk", f"/api/tickets/{case['id']}").json()
    assert clerk["complainant"] == {"name": NAME, "contact": CONTACT, "address": ADDRESS,
                                    "masked": False}  # fmt: skip


def _export(api: Any, user: str, fmt: str) -> list[dict[str, Any]]:
    r = api.client.get(f"/api/reports/export/tickets.{fmt}",
                       headers=api.headers(T, user) | {"Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 200, r.text
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_show_the_accused_nothing(api: Any, case: dict[str, Any], fmt: str) -> None:
    rows = {r["number"]: r for r in _export(api, "staff-wang", fmt)}
    row = rows[case["number"]]
    assert (row["complainant_name"], row["complainant_contact"]) == ("***", "***")
    assert not leaks(" ".join(str(v) for r in rows.values() for v in r.values()))
    admin = {r["number"]: r for r in _export(api, "admin", fmt)}[case["number"]]
    assert (admin["complainant_name"], admin["complainant_contact"]) == ("李**", "137****1111")


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings({"DATABASE_URL": api.url}))
    with TestClient(app) as client:
        yield client


def test_the_console_page_shows_the_accused_nothing(
    api: Any, case: dict[str, Any], web: TestClient[Any]
) -> None:
    assert login(web, "staff-wang").status_code in (302, 303)
    page = web.get(f"/tickets/{case['id']}")
    assert page.status_code == 200, page.text[:300]
    assert 'id="complainant"' in page.text
    assert leaks(page.text) == []
    queue = web.get("/")
    assert queue.status_code == 200 and leaks(queue.text) == []
