"""Report exports, charts, the bulletin and role scoping (issue 6, done-when 2 and 3).

The data: six citybus complaints of March 2030 made through the API (a month and a tenant
no other test reports on; the fine ledger of citybus is run by no other test), walked through
the lifecycle with the complainant's name, contact and address written into every free text
the handlers type. Each check runs through the service functions and through the HTTP routes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from conftest import run_db
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from core import clock
from core.db import Database
from core.people.models import Tenant, User
from core.principal import Principal
from core.reports import bulletin as bulletins
from core.reports import charts, exports, kpis, stats
from core.reports.access import Access
from core.reports.pack import write_pack
from core.reports.period import month

CST = ZoneInfo("Asia/Shanghai")
TENANT = "citybus"
PERIOD = "2030-03"
WINDOW = month(PERIOD, "Asia/Shanghai")
NAME, CONTACT, ADDRESS = "聂小倩", "13987654321", "兰若寺路8号"
IDENTITY = (NAME, CONTACT, ADDRESS, "139 8765 4321", "8765 4321", "87654321")
WHO = f"{NAME}（{CONTACT}，{ADDRESS}）"
VIOLATION = {"complainant_violation": "boarded by the rear door without paying"}
FACETS = {"direction": "government", "mode": "phone"}


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2030, 3, day, hour, minute, tzinfo=CST)


def create(api: Any, day: int, dept: str, staff: list[str]) -> dict[str, Any]:
    clock.travel_to(at(day))
    return api.create(  # type: ignore[no-any-return]
        TENANT,
        channel="government_transfer",
        complainant={"name": NAME, "contact": CONTACT, "address": ADDRESS},
        description=f"{WHO} 反映 12 路司机甩站；回电 139 8765 4321",
        demands=f"请联系 {NAME} 本人，电话 {CONTACT}",
        event_place=f"{ADDRESS} 附近站台",
        accused_department=dept,
        accused_staff=staff,
    )


def handle(
    api: Any, t: dict[str, Any], day: int, dept: str, head: str, line: dict[str, Any],
    refer: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Triage, register, review, dispatch, first contact, (refer,) grade, reply."""
    clock.travel_to(at(day, 10, 5))
    t = api.act(TENANT, "clerk", t, "triage_valid", category="skip_stop", severity="general",
                facets=FACETS)  # fmt: skip
    t = api.act(TENANT, "clerk", t, "register", reason="on_site")
    t = api.act(TENANT, "supervisor", t, "review")
    t = api.act(TENANT, "clerk", t, "dispatch", department=dept)
    clock.travel_to(at(day, 11))
    t = api.act(TENANT, head, t, "first_contact", note=f"已电话联系{WHO}")
    if refer:
        t = api.act(TENANT, head, t, "refer_to_inspection", reason=f"{NAME}反映司机索要好处")
    clock.travel_to(at(day, 14))
    t = api.act(TENANT, head, t, "grade", findings=f"监控证实{NAME}所述属实",
                grades=[line | {"findings": f"对{NAME}态度恶劣"}])  # fmt: skip
    return api.act(TENANT, head, t, "reply", reply=f"已向{NAME}（{CONTACT}）致歉", apology=True)


def finish(api: Any, t: dict[str, Any], day: int) -> dict[str, Any]:
    clock.travel_to(at(day, 16))
    t = api.act(TENANT, "clerk", t, "follow_up", note=f"{NAME}表示满意，电话{CONTACT}")
    return api.act(TENANT, "manager", t, "close", verification="result_confirmed",
                   note=f"回访 {CONTACT} 确认；{ADDRESS} 站台已整改")  # fmt: skip


@pytest.fixture(scope="module")
def data(api: Any) -> Iterator[dict[str, Any]]:
    """The month's complaints, their penalties confirmed, the month's ledger run."""
    try:
        full = create(api, 4, "fleet-1", ["CB-S001"])
        full = finish(api, handle(api, full, 4, "fleet-1", "head-fleet1",
                                  {"staff": "CB-S001", "grade": "full"}), 5)  # fmt: skip
        referred = create(api, 11, "fleet-2", ["CB-S005", "CB-S006"])
        line = {"staff": "CB-S005", "grade": "main"} | VIOLATION
        referred = finish(api, handle(api, referred, 11, "fleet-2", "head-fleet2", line, True), 12)
        invalid = create(api, 12, "fleet-1", ["CB-S002"])
        invalid = api.act(TENANT, "clerk", invalid, "triage_invalid", reason="非本公司线路")
        replied = create(api, 18, "fleet-2", ["CB-S006"])
        line = {"staff": "CB-S006", "grade": "main"} | VIOLATION
        replied = handle(api, replied, 18, "fleet-2", "head-fleet2", line)
        dispatched = create(api, 25, "operations", ["CB-S008"])
        clock.travel_to(at(25, 10, 5))
        dispatched = api.act(TENANT, "clerk", dispatched, "triage_valid", category="quarrel",
                             severity="general", facets=FACETS)  # fmt: skip
        settled = create(api, 31, "fleet-1", ["CB-S004"])
        settled = api.act(TENANT, "clerk", settled, "triage_valid", category="skip_stop",
                          severity="general", facets=FACETS)  # fmt: skip
        settled = api.act(TENANT, "clerk", settled, "settle", explanation="已解释")

        clock.travel_to(at(31, 12))
        for t in (full, referred, replied):
            for p in api.get(TENANT, "manager", f"/api/tickets/{t['id']}/penalties").json():
                if p["status"] == "proposed":
                    r = api.post(TENANT, "manager", f"/api/penalties/{p['id']}/confirm", json={})
                    assert r.status_code == 200, r.text
        r = api.client.put(
            f"/api/staff/CB-S001/pay/{PERIOD}",
            json={"amount_yuan": "200"},
            headers=api.headers(TENANT, "admin"),
        )
        assert r.status_code == 200, r.text
        clock.travel_to(at(31, 12) + dt.timedelta(days=2))  # only an ended month is run
        r = api.post(TENANT, "manager", "/api/ledger/runs", json={"period": PERIOD})
        assert r.status_code in (200, 201), r.text
    finally:
        clock.reset()
    yield {
        "full": full, "referred": referred, "invalid": invalid, "replied": replied,
        "dispatched": dispatched, "settled": settled,
    }  # fmt: skip


# ---------------------------------------------------------------- service-level helpers


run = run_db


def principal(api: Any, username: str) -> Principal:
    async def go(db: Database) -> Principal:
        async with db.cross_tenant() as session:
            u, t = (
                await session.execute(
                    select(User, Tenant)
                    .join(Tenant, Tenant.id == User.tenant_id)
                    .where(Tenant.slug == TENANT, User.username == username)
                )
            ).one()
        return Principal(user_id=u.id, username=u.username, roles=frozenset(u.roles),
                         tenant_id=t.id, tenant_slug=t.slug, plugin=t.plugin,
                         department_id=u.department_id, staff_id=u.staff_id)  # fmt: skip

    return run(api, go)  # type: ignore[no-any-return]


def as_reader(api: Any, username: str, fn: Any, *args: Any) -> Any:
    p = principal(api, username)

    async def go(db: Database) -> Any:
        async with db.tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
            return await fn(scope, Access(p), WINDOW, *args)

    return run(api, go)


def sheet_rows(content: bytes, title: str) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book[title].iter_rows(values_only=True)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, for spreadsheet programs
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def stats_json_rows(j: dict[str, Any]) -> list[list[Any]]:
    """What the stats sheet must hold, read from the JSON report alone."""
    t = j["totals"]
    rows = [
        ["totals", "received", None, "received", t["counted"], t["not_counted"]],
        *[["totals", "not_counted_reason", k, k, 0, t[k]]
          for k in ("invalid", "communicative", "excluded", "untriaged")],
    ]  # fmt: skip
    for dim, items in j["breakdowns"].items():
        rows += [["breakdown", dim, r["key"], r["label"], r["counted"], r["not_counted"]]
                 for r in items]  # fmt: skip
    for gran, items in j["trend"].items():
        rows += [["trend", gran, r["key"], r["label"], r["counted"], r["not_counted"]]
                 for r in items]  # fmt: skip
    return rows


def assert_png(content: bytes) -> None:
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    assert image.size == (800, 500)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20  # not blank: axes, text, lines


def assert_svg(content: bytes) -> None:
    root = ET.fromstring(content)
    assert root.tag.endswith("svg")
    assert root.attrib["width"] == "576pt" and root.attrib["height"] == "360pt"  # 8 × 5 in
    assert len(list(root.iter())) > 50


def assert_anonymous(text: str) -> None:
    for value in IDENTITY:
        assert value not in text, value


# ---------------------------------------------------------------- service level


def test_stats_xlsx_and_csv_hold_the_json_numbers(api, data):
    s = as_reader(api, "manager", stats.statistics)
    j = msgspec.to_builtins(s)
    assert j["totals"] == {"received": 6, "counted": 5, "not_counted": 1, "invalid": 1,
                           "communicative": 0, "excluded": 0, "untriaged": 0}  # fmt: skip
    tables = exports.stats_tables(s)
    want = stats_json_rows(j)
    rows = sheet_rows(exports.to_xlsx(tables), "stats")
    assert rows[0] == ["section", "dimension", "key", "label", "counted", "not_counted"]
    assert rows[1:] == want
    text = csv_rows(exports.to_csv(tables))
    assert text[1:] == [["" if v is None else str(v) for v in row] for row in want]
    about = dict(r for r in sheet_rows(exports.to_xlsx(tables), "about")[1:])
    assert about["tenant"] == TENANT and about["period"] == PERIOD


def test_kpi_xlsx_holds_the_json_numbers(api, data):
    k = as_reader(api, "manager", kpis.kpis)
    j = msgspec.to_builtins(k)
    rates = {r["code"]: r for r in j["rates"]}
    # By hand: 3 dispatches contacted at once; full, referred closed once; the replied one
    # waits for its follow-up; 2 satisfied calls.
    assert (rates["first_contact_on_time"]["numerator"],
            rates["first_contact_on_time"]["denominator"]) == (3, 3)  # fmt: skip
    assert (rates["one_time_resolution"]["numerator"],
            rates["one_time_resolution"]["denominator"]) == (3, 3)  # fmt: skip
    assert (rates["follow_up_rate"]["numerator"], rates["follow_up_rate"]["denominator"]) == (2, 3)
    assert (rates["satisfaction"]["numerator"], rates["satisfaction"]["denominator"]) == (2, 2)
    assert [m["number"] for m in j["follow_up_missing"]] == [data["replied"]["number"]]
    assert j["complaints_per_10k"] == {"complaints": 5, "customers": 260000, "value": 0.19}
    assert j["repeat_complaints"]["same_complainant"] == 4  # same contact, all within 30 days
    rows = sheet_rows(exports.to_xlsx(exports.kpi_tables(k)), "kpis")
    by_code = {r[0]: r for r in rows[1:]}
    for r in j["rates"]:
        assert by_code[r["code"]][2:] == [r["numerator"], r["denominator"], r["percent"]]
    per = j["complaints_per_10k"]
    assert by_code["complaints_per_10k"][2:] == [per["complaints"], per["customers"], per["value"]]
    assert by_code["repeat_complaints"][2] == j["repeat_complaints"]["count"]
    missing = sheet_rows(exports.to_xlsx(exports.kpi_tables(k)), "follow_up_missing")
    assert [r[0] for r in missing[1:]] == [m["number"] for m in j["follow_up_missing"]]
    pens = sheet_rows(exports.to_xlsx(exports.kpi_tables(k)), "penalties_by_department")
    assert {r[0]: (r[2], float(r[3])) for r in pens[1:]} == {
        p["key"]: (p["decided"], p["amount_fen"] / 100) for p in j["penalties_by_department"]
    }
    assert {p["key"] for p in j["penalties_by_department"]} == {"fleet-1", "fleet-2"}


def test_ticket_list_masks_the_complainant_by_role(api, data):
    mine = {t["number"] for t in data.values()}
    for user, masked in (("manager", False), ("clerk", False), ("admin", "partial"),
                         ("staff-wang", "none"), ("head-fleet1", False)):  # fmt: skip
        table = as_reader(api, user, exports.ticket_table)
        rows = [dict(zip(table.columns, r, strict=True)) for r in table.rows]
        assert rows and {r["number"] for r in rows} <= mine
        for r in rows:
            if masked:
                assert NAME not in r["complainant_name"] and r["complainant_contact"] != CONTACT
                # the tenant admin does not need it (partial); the accused sees nothing (#21.1)
                contact = "139****4321" if masked == "partial" else "***"
                assert r["complainant_contact"] == contact
            else:
                assert (r["complainant_name"], r["complainant_contact"]) == (NAME, CONTACT)
    wang = as_reader(api, "staff-wang", exports.ticket_table)
    assert [r[0] for r in wang.rows] == [data["full"]["number"]]  # the one about CB-S001


def test_png_and_svg_charts_render(api, data):
    s = as_reader(api, "manager", stats.statistics)
    for name in ("trend", "category", "severity", "department", "channel"):
        assert_png(charts.render(s, name, "png"))
        assert_svg(charts.render(s, name, "svg"))
    assert_png(charts.render(s, "trend", "png", "month"))


def test_bulletin_has_no_complainant_identity(api, data):
    b = as_reader(api, "manager", bulletins.bulletin)
    numbers = [c.number for c in b.cases]
    # Graded or closed after handling in March: full, referred, replied (not the invalid,
    # settled or only-triaged ones).
    assert numbers == [data[k]["number"] for k in ("full", "referred", "replied")]
    full = b.cases[0]
    assert full.cause and full.responsibility[0].staff == "CB-S001"
    assert full.responsibility[0].grade == "full"
    assert any(p.rule == "fine_full" and p.amount_fen == 30000 for p in full.penalties)
    assert any("站台已整改" in m for m in full.measures)
    assert not any("不放过" in m for m in full.measures)  # the utility's checklist only
    assert [s.action for s in full.handling][-3:] == ["reply", "follow_up", "close"]
    assert "***" in full.what_happened
    assert_anonymous(msgspec.json.encode(b).decode())
    text = bulletins.markdown(b)
    assert_anonymous(text)
    assert text.count("\n## ") == 3 and "Complainant identity removed" in text


def test_scrubber_catches_the_usual_spellings() -> None:
    scrub = bulletins.scrubber(NAME, CONTACT, ADDRESS)
    text = scrub(f"{NAME}说 139 8765 4321、139-8765-4321、+86{CONTACT}，住{ADDRESS}，a.b@c.cn")
    assert_anonymous(text)
    assert "a.b@c.cn" not in text
    assert scrub("2030-03-04 处理 12 路") == "2030-03-04 处理 12 路"


def test_ledger_export_by_role(api, data):
    lines = as_reader(api, "manager", exports.ledger_table)
    rows = [dict(zip(lines.columns, r, strict=True)) for r in lines.rows]
    wang = [r for r in rows if r["staff"] == "CB-S001"]
    assert len(wang) == 1 and wang[0]["pay_yuan"] == exports.yuan(20000)
    assert wang[0]["deducted_yuan"] == min(wang[0]["owed_yuan"], exports.yuan(20000))
    own = as_reader(api, "staff-wang", exports.ledger_table)
    assert [r[1] for r in own.rows] == ["CB-S001"]
    fleet2 = as_reader(api, "head-fleet2", exports.ledger_table)
    assert {r[3] for r in fleet2.rows} <= {"fleet-2"}
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        as_reader(api, "inspector", exports.ledger_table)


def test_roles_narrow_the_statistics(api, data):
    head = msgspec.to_builtins(as_reader(api, "head-fleet2", stats.statistics))
    assert head["totals"]["received"] == 2  # referred and replied, both fleet-2
    assert [r["key"] for r in head["breakdowns"]["department"]] == ["fleet-2"]
    wang = msgspec.to_builtins(as_reader(api, "staff-wang", stats.statistics))
    assert wang["totals"]["received"] == 1
    assert [r["key"] for r in wang["breakdowns"]["staff"]] == ["CB-S001"]
    assert [r["key"] for r in wang["breakdowns"]["staff_grade"]] == ["CB-S001:full"]
    yang = msgspec.to_builtins(as_reader(api, "staff-yang", kpis.kpis))  # CB-S006
    assert {p["key"] for p in yang["penalties_by_department"]} == {"fleet-2"}
    inspector = msgspec.to_builtins(as_reader(api, "inspector", stats.statistics))
    assert inspector["totals"]["received"] == 1
    assert [r["key"] for r in inspector["breakdowns"]["staff_grade"]] == ["CB-S005:main"]
    b = as_reader(api, "inspector", bulletins.bulletin)
    assert [c.number for c in b.cases] == [data["referred"]["number"]]


def test_pack_writes_the_month(api, data, tmp_path: Path):
    async def go(db: Database) -> list[Path]:
        return await write_pack(db, TENANT, PERIOD, tmp_path / "pack")

    paths = run(api, go)
    names = {p.name for p in paths}
    prefix = f"{TENANT}_{PERIOD}"
    for what in ("stats", "kpis", "tickets", "ledger"):
        assert {f"{prefix}_{what}.csv", f"{prefix}_{what}.xlsx"} <= names
    for chart in ("trend", "category", "severity", "department"):
        assert {f"{prefix}_{chart}.png", f"{prefix}_{chart}.svg"} <= names
    assert {f"{prefix}_bulletin.md", f"{prefix}_bulletin.json", f"{prefix}_stats.json"} <= names
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    folder = tmp_path / "pack"
    assert_png((folder / f"{prefix}_trend.png").read_bytes())
    j = json.loads((folder / f"{prefix}_stats.json").read_text())
    assert sheet_rows((folder / f"{prefix}_stats.xlsx").read_bytes(), "stats")[1:] == (
        stats_json_rows(j)
    )
    assert_anonymous((folder / f"{prefix}_bulletin.md").read_text())
    assert_anonymous((folder / f"{prefix}_bulletin.json").read_text())
    tickets = (folder / f"{prefix}_tickets.csv").read_bytes().decode("utf-8-sig")
    assert NAME not in tickets and CONTACT not in tickets  # the pack circulates: masked
    with pytest.raises(SystemExit):
        run(api, lambda db: write_pack(db, "no-such-tenant", PERIOD, tmp_path / "x"))
    with pytest.raises(SystemExit):
        run(api, lambda db: write_pack(db, TENANT, "2030-13", tmp_path / "x"))


# ---------------------------------------------------------------- over HTTP


def get(api: Any, user: str, path: str, **params: Any) -> Any:
    """A program's request: export headers, sheet names and cells are the codes with
    ``codes=1`` (people get Chinese ones: tests/test_console_exports.py,
    tests/test_export_labels.py)."""
    headers = api.headers(TENANT, user) | {"Accept-Language": "en"}
    if "/export/" in path:
        params = {"codes": "1"} | params
    return api.client.get(path, headers=headers, params={"period": PERIOD} | params)


def test_http_xlsx_holds_the_same_numbers_as_the_json(api, data):
    r = get(api, "manager", "/api/reports/stats")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["totals"]["received"] == 6 and j["window"]["label"] == PERIOD
    x = get(api, "manager", "/api/reports/export/stats.xlsx")
    assert x.status_code == 200, x.text
    assert x.headers["content-type"].startswith(exports.XLSX_TYPE)
    assert f'filename="{TENANT}_{PERIOD}_stats.xlsx"' in x.headers["content-disposition"]
    assert sheet_rows(x.content, "stats")[1:] == stats_json_rows(j)
    c = get(api, "manager", "/api/reports/export/stats.csv")
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    assert csv_rows(c.content)[1:] == [
        ["" if v is None else str(v) for v in row] for row in stats_json_rows(j)
    ]
    k = get(api, "manager", "/api/reports/kpis").json()
    kx = sheet_rows(get(api, "manager", "/api/reports/export/kpis.xlsx").content, "kpis")
    by_code = {r[0]: r for r in kx[1:]}
    for rate in k["rates"]:
        assert by_code[rate["code"]][2:] == [rate["numerator"], rate["denominator"],
                                             rate["percent"]]  # fmt: skip
    ledger = get(api, "manager", "/api/ledger/statements").json()
    lx = sheet_rows(get(api, "manager", "/api/reports/export/ledger.xlsx").content, "ledger")
    assert sorted((r[1], f"{r[6]:.2f}") for r in lx[1:]) == sorted(
        (s["staff"], s["deducted_yuan"]) for s in ledger
    )
    t = get(api, "manager", "/api/reports/export/tickets.xlsx")
    assert len(sheet_rows(t.content, "tickets")) == 1 + j["totals"]["received"]


def test_http_charts_render(api, data):
    for name in ("trend", "category", "severity", "department"):
        r = get(api, "manager", f"/api/reports/charts/{name}.png")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/png"
        assert_png(r.content)
        r = get(api, "manager", f"/api/reports/charts/{name}.svg")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert_svg(r.content)
    r = get(api, "manager", "/api/reports/charts/trend.png", granularity="month")
    assert_png(r.content)


def test_http_bulletin_is_anonymous(api, data):
    r = get(api, "manager", "/api/reports/bulletin")
    assert r.status_code == 200, r.text
    assert len(r.json()["cases"]) == 3
    assert_anonymous(r.text)
    md = get(api, "manager", "/api/reports/bulletin", format="markdown")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# 投诉事件通报")
    assert_anonymous(md.text)


def test_bulletin_pages_add_up_to_the_month(api, data):
    whole = as_reader(api, "manager", bulletins.bulletin)
    assert whole.next_cursor is None
    pages, cursor = [], None
    for _ in range(5):
        page = as_reader(api, "manager", bulletins.bulletin, None, 1, cursor)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [len(p.cases) for p in pages] == [1, 1, 1]
    assert [c for p in pages for c in p.cases] == whole.cases
    staff = as_reader(api, "staff-yang", bulletins.bulletin)  # CB-S006: graded on two
    one = as_reader(api, "staff-yang", bulletins.bulletin, None, 1)
    assert one.cases == staff.cases[:1] and one.next_cursor is not None


def test_http_bulletin_pages(api, data):
    first = get(api, "manager", "/api/reports/bulletin", limit=2)
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["cases"]) == 2 and body["next_cursor"]
    rest = get(api, "manager", "/api/reports/bulletin", limit=2, cursor=body["next_cursor"])
    assert [c["number"] for c in rest.json()["cases"]] == [data["replied"]["number"]]
    assert rest.json()["next_cursor"] is None
    assert get(api, "manager", "/api/reports/bulletin").json()["next_cursor"] is None
    md = get(api, "manager", "/api/reports/bulletin", format="markdown", limit=1)
    assert md.text.count("\n## ") == 1 and "cursor=" in md.text
    for bad in ("nonsense", "Ynx4fDE", bulletins.encode_cursor(dt.datetime.now(dt.UTC), 0)):
        r = get(api, "manager", "/api/reports/bulletin", cursor=bad)
        assert r.status_code == 422 and r.json()["error"]["field"] == "cursor", r.text


def test_http_roles(api, data):
    head = get(api, "head-fleet2", "/api/reports/stats").json()
    assert head["totals"]["received"] == 2
    assert {r["key"] for r in head["breakdowns"]["department"]} == {"fleet-2"}
    wang = get(api, "staff-wang", "/api/reports/stats").json()
    assert wang["totals"]["received"] == 1
    assert [r["key"] for r in wang["breakdowns"]["staff"]] == ["CB-S001"]
    tickets = get(api, "staff-wang", "/api/reports/export/tickets.csv")
    assert NAME not in tickets.content.decode("utf-8-sig")
    own = sheet_rows(get(api, "staff-wang", "/api/reports/export/ledger.xlsx").content, "ledger")
    assert [r[1] for r in own[1:]] == ["CB-S001"]
    inspector = get(api, "inspector", "/api/reports/kpis").json()
    assert inspector["complaints_per_10k"]["complaints"] == 1
    assert get(api, "inspector", "/api/reports/export/ledger.csv").status_code == 403
    cases = get(api, "inspector", "/api/reports/bulletin").json()["cases"]
    assert [c["number"] for c in cases] == [data["referred"]["number"]]
    # Another tenant's manager sees none of it.
    other = api.get("greenwood", "manager", "/api/reports/bulletin", params={"period": PERIOD})
    assert data["full"]["number"] not in other.text


def test_http_window_and_file_errors(api, data):
    assert get(api, "manager", "/api/reports/export/nothing.csv").status_code == 404
    assert get(api, "manager", "/api/reports/export/stats.pdf").status_code == 404
    assert get(api, "manager", "/api/reports/charts/trend.gif").status_code == 404
    r = api.get(TENANT, "manager", "/api/reports/stats", params={"period": "2030-13"})
    assert r.status_code in (400, 422), r.text
    r = api.get(TENANT, "manager", "/api/reports/stats",
                params={"from": "2030-03-01T00:00:00+08:00"})  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["field"] == "to"
    r = api.get(TENANT, "manager", "/api/reports/stats",
                params={"from": "2030-03-01T00:00:00+08:00", "to": "2030-03-16T00:00:00+08:00"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["received"] == 3 and r.json()["window"]["label"] is None
    assert api.client.get("/api/reports/stats").status_code == 401
