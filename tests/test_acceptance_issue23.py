"""Acceptance scenarios for issue 23 ("The seeds, third pass"), each following one seed
passage, through the HTTP API on both backends.

Each test names the seed it reads; the list of every duty, count and consequence the seeds
name, with what the code does for each, is docs/seed-duties.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from conftest import cst
from dutykit import TENANTS, error, history, post_action, walk

from core import clock

P, U, B = "greenwood", "riverside-power", "citybus"


def duties_fired(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    """Every duty recorded in the ticket's history (each on the event of the change that
    made it apply)."""
    return [d for e in history(api, tenant, t) for d in e["payload"].get("seed_duties", [])]


def notes_for(api: Any, tenant: str, user: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["ticket_id"] == t["id"]]


# ---------------------------------------------------------------- §1 channel, fact, severity


def test_government_forwarded_letter_is_reported_to_the_office_head_at_intake(api):
    """书面投诉…如属政府机关转来的投诉信件,应报告物管中心(处)负责人 [004 §篇3 二1]: a minor
    complaint taken on the government-transfer channel reaches the head of the management
    office (manager) by itself, once, with its history event."""
    t = api.create(P, channel="government_transfer")
    fired = duties_fired(api, P, t)
    assert [d["duty"] for d in fired] == ["government_letter_to_office_head"], fired
    assert fired[0]["seed"].startswith("004 §篇3 二1") and fired[0]["notified"] >= 1
    assert notes_for(api, P, "manager", t), "the office head was not told"
    c = TENANTS[P]
    t = api.act(P, "clerk", t, "triage_valid", category=c["category"], severity="minor",
                facets=c["facets"])  # fmt: skip
    assert len(duties_fired(api, P, t)) == 1, "a duty fires once per ticket"


def test_written_complaint_becoming_important_is_reported_then(api):
    """重大、重要投诉 (书面) 应报告物管中心(处)负责人 [004 §篇3 二1]: a letter triaged minor
    reaches nobody; reclassified important later, the office head is told then. A phone
    complaint of the same severity is not a written one: no such duty."""
    c = TENANTS[P]
    t = api.create(P, channel="letter")
    t = api.act(P, "clerk", t, "triage_valid", category=c["category"], severity="minor",
                facets=c["facets"])  # fmt: skip
    assert duties_fired(api, P, t) == []
    t = api.act(P, "clerk", t, "reclassify", severity="important", reason="two floors flooded")
    codes = [d["duty"] for d in duties_fired(api, P, t)]
    assert "written_serious_to_office_head" in codes, codes
    phone = api.create(P, channel="phone")
    phone = api.act(P, "clerk", phone, "triage_valid", category=c["category"],
                    severity="important", facets=c["facets"])  # fmt: skip
    assert "written_serious_to_office_head" not in [d["duty"] for d in duties_fired(api, P, phone)]


def test_major_power_complaint_is_reported_to_marketing_the_same_day_in_the_history(api):
    """发生严重或重大投诉事件,各单位必须在当日将简要情况上报公司市场营销部 [002 第十九条]: the
    report is a notification to marketing (manager) and an event in the ticket's history."""
    t = walk(api, U, "valid", severity="major")
    fired = {d["duty"]: d for d in duties_fired(api, U, t)}
    assert "report_major" in fired, fired
    assert "manager" in fired["report_major"]["roles"]
    assert notes_for(api, U, "manager", t)


def test_a_letter_to_the_power_company_reaches_marketing(api):
    """客户直接来信、来访方式的投诉…及时…转交公司市场营销部 [002 第十三条]."""
    t = api.create(U, channel="letter")
    assert "letter_or_visit_to_marketing" in [d["duty"] for d in duties_fired(api, U, t)]
    phone = api.create(U, channel="hotline_95598")
    assert duties_fired(api, U, phone) == []


def test_gift_complaint_does_not_close_before_it_is_referred_to_discipline_inspection(api):
    """受理的投诉凡涉及违纪的,应及时移交纪检监察部门调查处理 [002 第十八条]: a complaint about
    gifts accepted (《投诉举报管理办法》第四条 8) is recorded as owing a referral; the close
    is refused (409 naming the duty) until ``refer_to_inspection`` is in its history — which
    stays possible after grading."""
    c = TENANTS[U]
    t = api.create(U, channel=c["channel"], accused_staff=[c["staff"]],
                   accused_department=c["dept"])  # fmt: skip
    facets = c["facets"] | {"commitment_breach": "gifts_accepted"}
    t = api.act(U, "clerk", t, "triage_valid", category=c["category"], severity="general",
                facets=facets)  # fmt: skip
    fired = duties_fired(api, U, t)
    assert [d["duty"] for d in fired] == ["discipline_referral"], fired
    assert fired[0]["pending"] is True and fired[0]["done_by"] == "refer_to_inspection"
    t = api.act(U, "clerk", t, "register", reason="on_site")
    t = api.act(U, "supervisor", t, "review", note="ok")
    t = api.act(U, "clerk", t, "dispatch", department=c["dept"])
    t = api.act(U, c["head"], t, "first_contact", note="called")
    line = {"staff": c["staff"], "grade": "main", "findings": "took a gift"} | c["grade_extra"]
    t = api.act(U, c["head"], t, "grade", findings="established", grades=[line])
    t = api.act(U, c["head"], t, "reply", reply="result", apology=True)
    t = api.act(U, "clerk", t, "follow_up", note="satisfied")
    t = api.act(U, "manager", t, "review_reply", note="ok")
    r = post_action(api, U, "manager", t, "close", verification="result_confirmed")
    assert r.status_code == 409, r.text
    assert error(r)["rule"] == "seed duty" and "纪检" in error(r)["message"]
    # the action owed by its label, not its code
    assert "移交纪检监察" in error(r)["message"] and "refer_to" not in error(r)["message"]
    # in English: the duty and the action by their codes, the seed cited as in Chinese
    seed = error(r)["message"].split("【", 1)[1].rstrip("】")
    r = api.post(U, "manager", f"/api/tickets/{t['id']}/close", headers={"Accept-Language": "en"},
                 json={"version": t["version"], "verification": "result_confirmed"})  # fmt: skip
    assert error(r)["message"] == (
        f"discipline_referral: take refer_to_inspection before the ticket closes [{seed}]"
    ), error(r)
    t = api.act(U, c["head"], t, "refer_to_inspection", reason="收受客户礼品")
    t = api.act(U, "manager", t, "close", verification="result_confirmed")
    assert t["state"] == "closed"


def test_graded_under_the_ten_prohibitions_owes_a_referral(api):
    """违反员工服务“十个不准”…按…(渝电监察)…考核 [002 第二十四条(一)] and 凡涉及违纪的,应及时
    移交纪检监察部门 [第十八条]: grading a person under the ten prohibitions records the
    referral as owed (the event names the duty) even though the intake said nothing."""
    c = TENANTS[U]
    t = walk(api, U, "in_progress")
    assert duties_fired(api, U, t) == []
    line = {"staff": c["staff"], "grade": "main", "findings": "passed the buck",
            "offence": "ten_prohibitions"}  # fmt: skip
    t = api.act(U, c["head"], t, "grade", findings="established", grades=[line])
    assert [d["duty"] for d in duties_fired(api, U, t)] == ["discipline_referral_graded"]


def test_a_bus_complaint_carries_no_duty_the_transit_seeds_do_not_name(api):
    """The bus seeds (000 §篇8) name no channel- or fact-triggered notice: a government
    transfer is an intake channel like another (direction ``government``)."""
    t = api.create(B, channel="government_transfer")
    assert duties_fired(api, B, t) == []


# ---------------------------------------------------------------- §2 every period


def test_every_missed_month_is_reminded_as_overdue(api):
    """在每月30日前对投诉事件进行统计、分析 [000 §篇1 4(4)7]: April (30 days) is overdue only
    from 1 May and February from 1 March — outside the month the old reminder looked at. A
    run on 2 May 2043 reminds every month not issued (February, March, April 2043) as
    overdue, each once; the supervisor and the manager both hear of it."""
    from conftest import run_db

    from core.reports.issues import remind

    clock.travel_to(cst(2043, 5, 2, 9, 0))
    run_db(api, lambda db: remind(db))
    assert run_db(api, lambda db: remind(db)) == 0  # once per month
    for user in ("supervisor", "manager"):
        r = api.get(P, user, "/api/notifications")
        overdue = {n["message"][:7] for n in r.json() if n["kind"] == "report_pack_overdue"}
        assert {"2043-02", "2043-03", "2043-04"} <= overdue, sorted(overdue)


# ---------------------------------------------------------------- §8 left open last round


def clocks_of(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/deadlines")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_rework_of_a_reply_stops_its_follow_up_clock(api):
    """回复…应经市场营销部审核后归档,并应在24小时内对客户进行回访 [002 第十六条]: a reply
    returned for rework is not followed up; its 24-hour clock stops (cancelled), and the
    next reply starts a fresh one."""
    t = walk(api, U, "replied")
    (follow,) = [c for c in clocks_of(api, U, t) if c["step"] == "follow_up"]
    assert follow["state"] == "running"
    t = api.act(U, "manager", t, "rework_reply", reason="the meter was not re-read")
    states = [c["state"] for c in clocks_of(api, U, t) if c["step"] == "follow_up"]
    assert states == ["cancelled"], states
    t = api.act(U, TENANTS[U]["head"], t, "reply", reply="re-read, corrected", apology=True)
    states = sorted(c["state"] for c in clocks_of(api, U, t) if c["step"] == "follow_up")
    assert states == ["cancelled", "running"], states


def test_a_ticket_found_major_after_dispatch_owes_the_answer_within_2_days(api):
    """重大投诉应当在2日内给投诉的客户明确答复 [000 §篇1 4(4)9]: a minor complaint dispatched
    (no answer clock: minor has none) and reclassified major starts the 2-day answer clock
    then, charged to the department holding it; the answer meets it."""
    start = cst(2026, 3, 9, 10, 0)
    clock.travel_to(start)
    t = walk(api, P, "in_progress", severity="minor")
    assert not [c for c in clocks_of(api, P, t) if c["step"] == "answer"]
    clock.travel_to(start + dt.timedelta(hours=5))
    t = api.act(P, "manager", t, "reclassify", severity="major", reason="injury reported")
    (answer,) = [c for c in clocks_of(api, P, t) if c["step"] == "answer"]
    assert answer["state"] == "running"
    due = dt.datetime.fromisoformat(answer["due_at"].replace("Z", "+00:00"))
    assert (
        dt.timedelta(0) <= due - (start + dt.timedelta(hours=5, days=2)) < dt.timedelta(minutes=1)
    )
    t = api.act(P, TENANTS[P]["head"], t, "answer", plan="riser replaced",
                promised_by=cst(2026, 3, 12, 18, 0).isoformat())  # fmt: skip
    (answer,) = [c for c in clocks_of(api, P, t) if c["step"] == "answer"]
    assert answer["state"] == "met"


def test_promised_by_is_bounded_by_the_results_due_time(api):
    """明确答复 [000 §篇1 4(4)9] tells the complainant by when the result comes: not later
    than the result is due (重大投诉…解决时间不宜超过10日) — a promise no clock holds anyone to
    is refused, naming promised_by and the due time; within it, accepted."""
    start = cst(2026, 3, 9, 10, 0)
    clock.travel_to(start)
    t = walk(api, P, "in_progress", severity="major")
    r = post_action(api, P, TENANTS[P]["head"], t, "answer", plan="later",
                    promised_by=cst(2026, 4, 30, 18, 0).isoformat())  # fmt: skip
    assert r.status_code == 422, r.text
    err = error(r)
    assert err["field"] == "promised_by" and err["due_at"], err
    r = post_action(api, P, TENANTS[P]["head"], t, "answer", plan="riser replaced",
                    promised_by=cst(2026, 3, 15, 18, 0).isoformat())  # fmt: skip
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- §3 late facts


def _penalties(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/penalties")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _graded_attitude(api: Any) -> dict[str, Any]:
    """A power complaint graded: RP-S001 main, poor attitude (200–500 yuan, 200 by default
    [002 第二十四条(三)2(1)])."""
    t = walk(api, U, "graded")
    (p,) = [p for p in _penalties(api, U, t) if p["status"] == "proposed"]
    assert (p["rule"], p["proposed_yuan"]) == ("general_poor_attitude", "200.00"), p
    return t


def test_confirmed_outside_complaint_found_late_doubles_the_undecided_proposal(api):
    """对投诉到公司以外的服务监督渠道…经查属实的,按本办法加倍考核 [002 第二十五条]: found after
    grading, the undecided proposal is re-derived at double (the old one superseded, kept),
    and the reclassification's event says what changed."""
    t = _graded_attitude(api)
    t = api.act(U, "supervisor", t, "reclassify", facts={"external_escalation": True},
                reason="the regulator confirmed it")  # fmt: skip
    rows = _penalties(api, U, t)
    live = [p for p in rows if p["status"] == "proposed"]
    assert [(p["rule"], p["proposed_yuan"]) for p in live] == [
        ("general_poor_attitude", "400.00")
    ], rows
    assert [p["status"] for p in rows if p["proposed_yuan"] == "200.00"] == ["superseded"]
    (event,) = [e for e in history(api, U, t) if e["action"] == "reclassify"]
    done = event["payload"]["penalties_rederived"]
    assert done["because"] == ["facts_was"] and len(done["superseded_ids"]) == 1


def test_a_decided_penalty_stays_and_the_difference_is_proposed(api):
    """第二十五条 again, after the manager confirmed 200 yuan: the decision stands; the
    difference (200 yuan) is proposed on its own, naming the decided penalty."""
    t = _graded_attitude(api)
    (p,) = _penalties(api, U, t)
    r = api.post(U, "manager", f"/api/penalties/{p['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    t = api.get(U, "manager", f"/api/tickets/{t['id']}").json()  # the decision is an event
    t = api.act(U, "supervisor", t, "reclassify", facts={"external_escalation": True},
                reason="the regulator confirmed it")  # fmt: skip
    rows = {r["id"]: r for r in _penalties(api, U, t)}
    assert rows[p["id"]]["status"] == "confirmed"
    (diff,) = [r for r in rows.values() if r["id"] != p["id"]]
    assert (diff["status"], diff["proposed_yuan"]) == ("proposed", "200.00"), diff
    assert str(p["id"]) in diff["reason"]


def test_falsified_reply_found_by_reclassification_charges_the_unit(api):
    """在处理…投诉中弄虚作假…给予责任单位每件500元考核 [002 第二十六条]: found by a
    reclassification rather than at the reply's review, the unit's charge is proposed."""
    t = _graded_attitude(api)
    t = api.act(U, "supervisor", t, "reclassify", facts={"falsified_reply": True},
                reason="the station's reply was invented")  # fmt: skip
    unit = [p for p in _penalties(api, U, t) if p["rule"] == "falsified_reply"]
    assert [(p["unit"], p["status"], p["proposed_yuan"]) for p in unit] == [
        ("station-chengguan", "proposed", "500.00")
    ], unit


# ---------------------------------------------------------------- §4 counted


def test_appraisal_points_are_totalled_per_person_and_month(api):
    """员工…给予警告处分,同时给予200元/次的经济处罚,扣除月度绩效考评5分 [000 §篇7 六2]: two
    tier-2 penalties of GW-S001 confirmed in June 2045 are 10 points off that month's
    appraisal — on the ledger line, its statement, the ledger export and the KPIs."""
    c = TENANTS[P]
    clock.travel_to(cst(2045, 6, 10, 10, 0))
    for _ in range(2):
        t = walk(api, P, "graded")
        (p,) = [p for p in _penalties(api, P, t) if p["status"] == "proposed"]
        assert (p["rule"], p["appraisal_points"]) == ("tier_2", 5), p
        r = api.post(P, "manager", f"/api/penalties/{p['id']}/confirm", json={})
        assert r.status_code == 200, r.text
    clock.travel_to(cst(2045, 7, 2, 10, 0))
    r = api.post(P, "manager", "/api/ledger/runs", json={"period": "2045-06"})
    assert r.status_code == 201, r.text
    (line,) = [s for s in r.json()["statements"] if s["staff"] == c["staff"]]
    assert line["appraisal_points"] == 10, line
    r = api.get(P, "manager", "/api/ledger/statements",
                params={"period": "2045-06", "staff": c["staff"]})  # fmt: skip
    assert [s["appraisal_points"] for s in r.json()] == [10]
    r = api.get(P, "manager", "/api/reports/export/ledger.csv", params={"period": "2045-06"})
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8-sig")
    header, *rows = [row.split(",") for row in text.strip().splitlines()]
    col = header.index("扣月度绩效考评分")
    assert [row[col] for row in rows if c["staff"] in row] == ["10"], text
    r = api.get(P, "manager", "/api/reports/kpis", params={"period": "2045-06"})
    assert r.status_code == 200, r.text
    assert sum(d["appraisal_points"] for d in r.json()["penalties_by_department"]) == 10


# ---------------------------------------------------------------- §5 who holds the step


def test_the_desk_that_tells_late_is_charged_not_the_department_that_handed_back(api):
    """被投诉部门负责人在时效要求内将内容处理完毕…在投诉处理完毕的当天将《客户投诉意见表》
    交到客户服务中心 [000 §篇1 4(4)5①]; 接待员…在当天将处理结果通报给投诉客户 [4(4)6)]. The
    engineering department grades and hands the form back on day 1 of its 2 days; the desk
    tells the complainant on day 3. The missed reply is the desk's: the reply clock is no
    longer engineering's, and engineering's head reads a 100 % on-time reply rate."""
    c = TENANTS[P]
    start = cst(2046, 3, 9, 10, 0)
    clock.travel_to(start)
    t = walk(api, P, "in_progress", severity="minor")
    clock.travel_to(start + dt.timedelta(hours=20))
    t = api.act(P, c["head"], t, "grade", findings="fixed",
                grades=[{"staff": c["staff"], "grade": "none", "findings": "no fault"}])  # fmt: skip
    t = api.act(P, c["head"], t, "hand_back", note="form returned")
    clock.travel_to(start + dt.timedelta(days=3))
    t = api.act(P, "clerk", t, "reply", reply="fixed on the 10th", apology=False)
    rows = {r["step"]: r for r in clocks_of(api, P, t) if r["state"] != "cancelled"}
    assert rows["hand_back"]["state"] == "met"
    assert rows["reply"]["state"] == "missed"
    assert rows["reply"]["owner_department"] != c["dept"], rows["reply"]
    assert rows["resolution"]["owner_department"] != c["dept"], rows["resolution"]
    r = api.get(P, c["head"], "/api/reports/kpis", params={"period": "2046-03"})
    assert r.status_code == 200, r.text
    assert r.json()["scope"].startswith("department"), r.json()["scope"]
    (reply,) = [x for x in r.json()["rates"] if x["code"] == "replied_on_time"]
    assert reply["numerator"] == reply["denominator"], reply  # the desk's overrun is not here
    r = api.get(P, "manager", "/api/reports/kpis", params={"period": "2046-03"})
    (reply,) = [x for x in r.json()["rates"] if x["code"] == "replied_on_time"]
    assert reply["numerator"] < reply["denominator"], reply  # the tenant's figures count it
