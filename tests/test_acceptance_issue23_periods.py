"""Acceptance scenarios for what issue 23 left open (the seeds, third pass): recurring duties
reminded for every period — the half-year appraisal [002 第二十七条], the monthly ledger run
[002 第二十八条], each unit's monthly 《投诉事件通报》 [002 第二十二条] —, the appraisal points of
a penalty superseded after its month was run [000 §篇7 六2–3], and the duties that hang on a
severity the deadline sweep raised [000 §篇1 4(4)2①c; 004 §篇3 二1]. Through the HTTP API,
the sweep and the ``tousu`` command the product uses, on both backends.

Each test names the seed it reads; docs/seed-duties.md lists what the code does for each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from conftest import cst, run_db
from dutykit import TENANTS

from core import clock
from core.jobs.sweep import sweep

P, U, B = "greenwood", "riverside-power", "citybus"


def history(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def notes(api: Any, tenant: str, user: str, kind: str) -> list[dict[str, Any]]:
    r = api.get(tenant, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["kind"] == kind]


def sweep_at(api: Any, now: dt.datetime) -> None:
    clock.travel_to(now)
    run_db(api, lambda db: sweep(db, now))


# ---------------------------------------------------------------- §1 a severity the sweep raised


def test_a_letter_the_sweep_makes_major_owes_what_a_major_letter_owes(api):
    """有效投诉在一个月内得不到合理解决的投诉 is major [000 §篇1 4(4)2①c]; a major complaint is
    reported to the general manager the same day [4(4)3②], and a major written one to the
    head of the management office [004 §篇3 二1 书面投诉]. A minor letter still open after a
    month is made major by the sweep: both duties fire then, recorded on the upgrade's own
    event, and the office head is told — as when a clerk reclassifies it."""
    c = TENANTS[P]
    clock.travel_to(cst(2046, 5, 6, 10, 0))
    t = api.create(P, channel="letter")
    t = api.act(P, "clerk", t, "triage_valid", category=c["category"], severity="minor",
                facets=c["facets"])  # fmt: skip
    t = api.act(P, "clerk", t, "register", reason="needs_follow_up")
    t = api.act(P, "supervisor", t, "review", note="checked")
    t = api.act(P, "clerk", t, "dispatch", department=c["dept"])
    assert not [d for e in history(api, P, t) for d in e["payload"].get("seed_duties", [])]
    before = {n["id"] for n in notes(api, P, "manager", "seed_duty")}
    sweep_at(api, cst(2046, 6, 7, 0, 5))
    sweep_at(api, cst(2046, 6, 7, 0, 6))
    (up,) = [e for e in history(api, P, t) if e["action"] == "auto_upgrade"]
    assert up["payload"]["severity"] == "major"
    fired = {d["duty"]: d for d in up["payload"].get("seed_duties", [])}
    assert {"report_major", "written_serious_to_office_head"} <= set(fired), up["payload"]
    assert fired["written_serious_to_office_head"]["notified"] >= 1
    told = [n for n in notes(api, P, "manager", "seed_duty")
            if n["id"] not in before and n["ticket_id"] == t["id"]]  # fmt: skip
    assert len(told) == 1 and "物管中心" in told[0]["message"], told
    assert [n for n in notes(api, P, "gm", "escalation") if n["ticket_id"] == t["id"]]
    sweep_at(api, cst(2046, 6, 8, 0, 5))  # nothing fires twice
    assert sum(len(e["payload"].get("seed_duties", [])) for e in history(api, P, t)) == len(fired)


# ---------------------------------------------------------------- points of a superseded penalty


def _tier2_confirmed(api: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from dutykit import walk

    t = walk(api, P, "graded")
    r = api.get(P, "manager", f"/api/tickets/{t['id']}/penalties")
    assert r.status_code == 200, r.text
    (p,) = [p for p in r.json() if p["status"] == "proposed"]
    assert (p["rule"], p["appraisal_points"]) == ("tier_2", 5), p
    r = api.post(P, "manager", f"/api/penalties/{p['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    return t, p


def test_points_of_a_penalty_superseded_after_its_month_was_run_are_given_back(api):
    """扣除月度绩效考评5分 [000 §篇7 六2]: a tier-2 penalty of GW-S001 confirmed in March 2047
    is 5 points on March's line. In April his appeal is overturned (no responsibility): the
    penalty is superseded, and April's line gives the 5 points back (its fine too, as money
    is), the ledger export shows it, March's line is unchanged, and May gives nothing more."""
    staff = TENANTS[P]["staff"]
    clock.travel_to(cst(2047, 3, 10, 10, 0))
    t, p = _tier2_confirmed(api)
    clock.travel_to(cst(2047, 4, 2, 10, 0))
    r = api.post(P, "manager", "/api/ledger/runs", json={"period": "2047-03"})
    assert r.status_code == 201, r.text
    (march,) = [s for s in r.json()["statements"] if s["staff"] == staff]
    assert (march["appraisal_points"], march["appraisal_points_credited"]) == (5, 0), march

    r = api.post(P, "staff-wang", f"/api/tickets/{t['id']}/appeals", json={"reason": "not me"})
    assert r.status_code == 201, r.text
    r = api.post(P, "gm", f"/api/appeals/{r.json()['id']}/decide",
                 json={"decision": "overturned", "reason": "the leak was the builder's",
                       "grade": "none"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = api.get(P, "manager", f"/api/tickets/{t['id']}/penalties")
    assert {x["id"]: x["status"] for x in r.json()}[p["id"]] == "superseded"

    clock.travel_to(cst(2047, 5, 2, 10, 0))
    r = api.post(P, "manager", "/api/ledger/runs", json={"period": "2047-04"})
    assert r.status_code == 201, r.text
    (april,) = [s for s in r.json()["statements"] if s["staff"] == staff]
    assert (april["appraisal_points"], april["appraisal_points_credited"]) == (0, 5), april
    r = api.get(P, "manager", "/api/ledger/statements",
                params={"period": "2047-03", "staff": staff})  # fmt: skip
    assert r.json() == [march]
    r = api.get(P, "manager", "/api/reports/export/ledger.csv", params={"period": "2047-04"})
    assert r.status_code == 200, r.text
    header, *rows = [row.split(",") for row in r.content.decode("utf-8-sig").strip().splitlines()]
    col = header.index("退还绩效考评分")
    assert [row[col] for row in rows if staff in row] == ["5"], rows
    clock.travel_to(cst(2047, 6, 2, 10, 0))
    r = api.post(P, "manager", "/api/ledger/runs", json={"period": "2047-05"})
    assert r.status_code == 201, r.text
    # nothing given back twice (the session's database may hold other tests' fines of his)
    may = [s for s in r.json()["statements"] if s["staff"] == staff]
    assert all((s["appraisal_points_credited"], s["credited_yuan"]) == (0, "0.00") for s in may), (
        may
    )


# ---------------------------------------------------------------- §2 every period, by the CLI


def remind(api: Any, monkeypatch: Any, capsys: Any, at: dt.datetime) -> int:
    """``tousu reports remind`` — the daily command the product runs — at ``at``."""
    from core.cli import main

    clock.travel_to(at)
    monkeypatch.setenv("DATABASE_URL", api.url)
    capsys.readouterr()
    assert main(["reports", "remind"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.endswith("reminder(s) sent"), out
    return int(out.split()[0])


def periods(api: Any, tenant: str, user: str, kind: str, key: str = "period") -> set[str]:
    """The periods (``YYYY-MM`` or ``YYYY-Hn``) of ``user``'s notifications of ``kind``."""
    return {n["params"][key] for n in notes(api, tenant, user, kind)}


def test_every_unrun_ledger_month_is_reminded_to_whoever_runs_it(api, monkeypatch, capsys):
    """投诉事件处理结果通报后,由人力资源部按照处理结果对责任人的经济处罚在当月绩效中扣除,当月绩效
    不够扣除时,移至下月 [002 第二十八条]: a fine confirmed in March 2049 is owed to March's
    run and, until paid, to every later month's. On 5 June 2049, with no month run, March
    and April are overdue (their following month has ended) and May is due — not only the
    last month; the tenant admin (who keeps the pay) and the manager (who runs it) are
    told, each once, in Chinese. Run with pay covering the fine, the months owe nothing
    more."""
    clock.travel_to(cst(2049, 3, 10, 10, 0))
    _tier2_confirmed(api)
    remind(api, monkeypatch, capsys, cst(2049, 6, 5, 9, 0))
    assert remind(api, monkeypatch, capsys, cst(2049, 6, 5, 9, 1)) == 0  # once each
    for user in ("admin", "manager"):
        overdue = periods(api, P, user, "ledger_run_overdue")
        assert {"2049-03", "2049-04"} <= overdue, overdue
        assert "2049-05" in periods(api, P, user, "ledger_run_due")
        assert "2049-05" not in overdue
    (note,) = [n for n in notes(api, P, "manager", "ledger_run_overdue")
               if n["params"]["period"] == "2049-03"]  # fmt: skip
    assert note["message"].startswith("2049-03 罚款台账逾期未运行"), note
    assert "2049-04-30 23:59" in note["message"] and "第二十八条" in note["message"]
    assert not [n for n in notes(api, P, "clerk", "ledger_run_overdue")]
    # the month runs; June, with nothing decided and nothing owed by GW-S001, adds no notice
    # for him — and May's overdue notice never comes once May is run
    staff = TENANTS[P]["staff"]
    for month in ("2049-03", "2049-04", "2049-05"):
        r = api.client.put(f"/api/staff/{staff}/pay/{month}", json={"amount_yuan": "5000"},
                           headers=api.headers(P, "admin"))  # fmt: skip
        assert r.status_code == 200, r.text
        r = api.post(P, "manager", "/api/ledger/runs", json={"period": month})
        assert r.status_code == 201, r.text
    remind(api, monkeypatch, capsys, cst(2049, 7, 2, 9, 0))
    assert "2049-05" not in periods(api, P, "manager", "ledger_run_overdue")


def test_the_half_year_appraisal_is_reminded_for_every_half_without_one(api, monkeypatch, capsys):
    """公司市场营销部根据各单位半年内投诉统计情况…提出考核意见,报公司优质服务领导小组批准后执行
    [002 第二十七条]. The first half of 2049 has its proposal; the second has none: on 5
    January 2050 marketing (the manager) is told it is due, on 10 February that it is
    overdue (the seed names no date: due by the end of the month after the half). The
    first half is never overdue; a rejected proposal leaves the half owed, reminded again.
    The bus and property desks, whose seeds name no such appraisal, hear nothing."""
    clock.travel_to(cst(2049, 7, 3, 10, 0))
    r = api.post(U, "manager", "/api/appraisals",
                 json={"half": "2049-H1", "opinion": "各单位按投诉统计考核"})  # fmt: skip
    assert r.status_code in (200, 201), r.text
    remind(api, monkeypatch, capsys, cst(2050, 1, 5, 9, 0))
    assert "2049-H2" in periods(api, U, "manager", "appraisal_due", "half")
    assert "2049-H2" not in periods(api, U, "manager", "appraisal_overdue", "half")
    remind(api, monkeypatch, capsys, cst(2050, 2, 10, 9, 0))
    overdue = periods(api, U, "manager", "appraisal_overdue", "half")
    assert "2049-H2" in overdue and "2049-H1" not in overdue, overdue
    (note,) = [n for n in notes(api, U, "manager", "appraisal_overdue")
               if n["params"]["half"] == "2049-H2"]  # fmt: skip
    assert note["message"].startswith("2049年下半年各单位投诉考核意见逾期未提出"), note
    # proposed, then rejected by the leading group: the half is owed afresh
    r = api.post(U, "manager", "/api/appraisals",
                 json={"half": "2049-H2", "opinion": "各单位按投诉统计考核"})  # fmt: skip
    assert r.status_code in (200, 201), r.text
    r = api.post(U, "gm", f"/api/appraisals/{r.json()['id']}/reject",
                 json={"reason": "河西供电所的数字不全"})  # fmt: skip
    assert r.status_code == 200, r.text
    remind(api, monkeypatch, capsys, cst(2050, 2, 11, 9, 0))
    again = [n for n in notes(api, U, "manager", "appraisal_overdue")
             if n["params"]["half"] == "2049-H2"]  # fmt: skip
    assert len(again) == 2, again
    for tenant in (P, B):
        assert notes(api, tenant, "manager", "appraisal_due") == []
        assert notes(api, tenant, "manager", "appraisal_overdue") == []


def test_each_units_monthly_bulletin_is_reminded_to_its_head_until_recorded(
    api, monkeypatch, capsys
):
    """各基层单位…每月应按件将投诉事件产生的经过、处理过程、投诉产生原因、责任、改进措施及人员处理
    考核意见形成《投诉事件通报》,在本单位组织职工学习 [002 第二十二条]. Chengguan station grades a
    case in August 2049: its head is told the August bulletin is overdue on 3 October 2049
    (due by the end of September); Hexi, with no case, is not. The unit records it (201,
    late; again 200), another unit's head may not, and a month not ended is refused.
    A case in October is reminded as due on 2 November; recorded then, it is never
    overdue."""
    from dutykit import walk

    clock.travel_to(cst(2049, 8, 10, 10, 0))
    walk(api, U, "graded")
    remind(api, monkeypatch, capsys, cst(2049, 10, 3, 9, 0))
    assert "2049-08" in periods(api, U, "head-chengguan", "unit_bulletin_overdue")
    assert "2049-08" not in periods(api, U, "head-hexi", "unit_bulletin_overdue")
    (note,) = [n for n in notes(api, U, "head-chengguan", "unit_bulletin_overdue")
               if n["params"]["period"] == "2049-08"]  # fmt: skip
    assert "城关" in note["message"] and "《投诉事件通报》逾期未形成" in note["message"], note

    r = api.get(U, "manager", "/api/reports/unit-bulletins", params={"period": "2049-08"})
    assert r.status_code == 200, r.text
    (line,) = [x for x in r.json() if x["department"] == "station-chengguan"]
    assert line["cases"] >= 1 and line["on_time"] is False and line["issued_at"] is None
    r = api.post(U, "head-hexi", "/api/reports/unit-bulletins",
                 json={"period": "2049-08", "department": "station-chengguan"})  # fmt: skip
    assert r.status_code == 403 and "本单位" in r.json()["error"]["message"], r.text
    r = api.post(U, "head-chengguan", "/api/reports/unit-bulletins", json={"period": "2049-08"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["department"], first["on_time"]) == ("station-chengguan", False), first
    r = api.post(U, "head-chengguan", "/api/reports/unit-bulletins", json={"period": "2049-08"})
    assert (r.status_code, r.json()) == (200, first)
    r = api.post(U, "head-chengguan", "/api/reports/unit-bulletins", json={"period": "2049-10"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "period", r.text
    assert "2049-10 尚未结束" in r.json()["error"]["message"], r.text
    r = api.get(U, "head-hexi", "/api/reports/unit-bulletins", params={"period": "2049-08"})
    assert r.status_code == 200 and r.json() == [], r.text

    clock.travel_to(cst(2049, 10, 9, 10, 0))
    walk(api, U, "graded")
    remind(api, monkeypatch, capsys, cst(2049, 11, 2, 9, 0))
    assert "2049-10" in periods(api, U, "head-chengguan", "unit_bulletin_due")
    r = api.post(U, "head-chengguan", "/api/reports/unit-bulletins", json={"period": "2049-10"})
    assert r.status_code == 201 and r.json()["on_time"] is True, r.text
    remind(api, monkeypatch, capsys, cst(2049, 12, 2, 9, 0))
    assert "2049-10" not in periods(api, U, "head-chengguan", "unit_bulletin_overdue")
