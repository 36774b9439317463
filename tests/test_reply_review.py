"""The reply and what follows it (issue 12 §2 second bullet, §3).

- [002 《客户投诉管理考核办法》第十六条] a utility unit's reply is reviewed by the marketing
  department before it is archived: review passes, or returns it for rework with a reason;
  both are history events; the ticket does not close before the reply passes.
- [同 第二十六条] a falsified reply found at that review still has its consequence: 500 yuan
  per case charged to the unit, plus a notice, derived at the review.
- [000 §篇8 3(4)] the reply carries the company's apology when a staff member was at fault
  (transit).
- [002 第十五条] a utility extension needs the complainant told first; the utility handling
  clock starts at the unit's receipt (dispatch), not at registration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dutykit import TENANTS, error, history, post_action, walk

U = "riverside-power"


def _close(api: Any, tenant: str, user: str, t: dict[str, Any]) -> Any:
    return post_action(api, tenant, user, t, "close", verification="result_confirmed")


# ---------------------------------------------------------------- review before archiving


def test_utility_reply_is_reviewed_by_marketing_before_it_is_archived(api):
    """The named example: without the marketing department's review the ticket does not
    close; after it passes, it does."""
    t = walk(api, U, "followed_up")
    r = _close(api, U, "manager", t)
    assert r.status_code == 409, r.text
    assert error(r)["rule"] == "reply reviewed before archiving"
    assert (
        "review_reply" in api.get(U, "manager", f"/api/tickets/{t['id']}").json()["allowed_actions"]
    )
    t = api.act(U, "manager", t, "review_reply", note="checked against the meter record")
    assert t["state"] == "followed_up"
    last = history(api, U, t)[-1]
    assert (last["action"], last["actor"], last["payload"]["review"]) == (
        "review_reply", "manager", "passed")  # fmt: skip
    r = _close(api, U, "manager", t)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "closed"


def test_review_can_be_given_before_the_follow_up(api):
    t = walk(api, U, "replied")
    t = api.act(U, "manager", t, "review_reply")
    assert t["state"] == "replied"
    r = post_action(api, U, "manager", t, "review_reply")
    assert r.status_code == 409 and error(r)["rule"] == "decided once"


def test_returned_reply_goes_back_for_rework_with_a_reason(api):
    t = walk(api, U, "replied")
    r = post_action(api, U, "manager", t, "rework_reply")
    assert r.status_code == 422 and error(r)["field"] == "reason"
    t = api.act(U, "manager", t, "rework_reply", reason="the reply omits the refund date")
    assert t["state"] == "graded"
    last = history(api, U, t)[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (
        "rework_reply", "replied", "graded")  # fmt: skip
    assert last["payload"]["reason"] == "the reply omits the refund date"
    assert last["payload"]["review"] == "returned"
    # the unit replies again; that reply is reviewed in its turn
    c = TENANTS[U]
    t = api.act(U, c["head"], t, "reply", reply="refund on the 5th", apology=True)
    t = api.act(U, "clerk", t, "follow_up", note="satisfied")
    assert _close(api, U, "manager", t).status_code == 409
    t = api.act(U, "manager", t, "review_reply")
    assert _close(api, U, "manager", t).status_code == 200


def test_only_the_marketing_department_reviews(api):
    t = walk(api, U, "replied")
    for user in ("supervisor", "clerk", TENANTS[U]["head"], "gm"):
        r = post_action(api, U, user, t, "review_reply")
        assert r.status_code == 403, (user, r.text)
        assert error(r)["allowed_roles"] == ["manager"]


def test_whoever_gave_the_reply_does_not_review_it(api):
    t = walk(api, U, "replied", replier="manager")
    r = post_action(api, U, "manager", t, "review_reply")
    assert r.status_code == 403, r.text
    assert (error(r)["rule"], error(r)["step"]) == ("separation of duties", "reply_review")
    r = post_action(api, U, "manager", t, "rework_reply", reason="x")
    assert r.status_code == 403 and error(r)["rule"] == "separation of duties"


@pytest.mark.parametrize("tenant", ["greenwood", "citybus"])
def test_tenants_without_reply_review_close_without_it(api, tenant):
    t = walk(api, tenant, "followed_up")
    out = api.get(tenant, "manager", f"/api/tickets/{t['id']}").json()
    assert "review_reply" not in out["allowed_actions"]
    r = post_action(api, tenant, "manager", t, "review_reply")
    assert r.status_code == 409 and error(r)["rule"] == "lifecycle"
    assert _close(api, tenant, "manager", t).status_code == 200


# ---------------------------------------------------------------- a fact found late


def _penalties(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/penalties")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_falsified_reply_found_at_review_is_charged_to_the_unit(api):
    """The named example: today unit charges are derived only at the first grading, which
    comes before the reply. Found at the review: 500 yuan to the unit, plus a notice."""
    t = walk(api, U, "replied")
    assert not [p for p in _penalties(api, U, t) if p["rule"] == "falsified_reply"]
    t = api.act(U, "manager", t, "rework_reply", falsified=True,
                reason="the reply says the meter was replaced; it was not")  # fmt: skip
    assert t["state"] == "graded"
    assert t["facts"]["falsified_reply"] is True
    charges = [p for p in _penalties(api, U, t) if p["rule"] == "falsified_reply"]
    assert len(charges) == 1
    charge = charges[0]
    assert (charge["unit"], charge["staff"], charge["proposed_yuan"], charge["status"]) == (
        TENANTS[U]["dept"], None, "500.00", "proposed")  # fmt: skip
    assert any("通报批评" in x for x in charge["sanctions"])
    last = history(api, U, t)[-1]
    assert last["payload"]["falsified"] is True
    assert last["payload"]["penalties_proposed"] == ["falsified_reply"]
    # the reviewer who found it proposed it: another manager decides it
    r = api.post(U, "manager", f"/api/penalties/{charge['id']}/confirm", json={})
    assert r.status_code == 403 and error(r)["rule"] == "separation of duties"
    r = api.post(U, "gm", f"/api/penalties/{charge['id']}/confirm", json={})
    assert r.status_code == 200, r.text


def test_a_second_falsified_finding_on_the_same_case_charges_once(api):
    """500 yuan *per case* [第二十六条]: a second return of the same ticket adds nothing."""
    c = TENANTS[U]
    t = walk(api, U, "replied")
    t = api.act(U, "manager", t, "rework_reply", falsified=True, reason="false")
    t = api.act(U, c["head"], t, "reply", reply="again", apology=True)
    t = api.act(U, "manager", t, "rework_reply", falsified=True, reason="false again")
    assert len([p for p in _penalties(api, U, t) if p["rule"] == "falsified_reply"]) == 1


def test_an_honest_return_charges_nobody(api):
    t = walk(api, U, "replied")
    before = _penalties(api, U, t)
    t = api.act(U, "manager", t, "rework_reply", reason="incomplete, not false")
    assert _penalties(api, U, t) == before
    assert "falsified_reply" not in t["facts"]


# ---------------------------------------------------------------- apology


def test_transit_reply_apologises_when_staff_were_at_fault(api):
    """The named example [000 §篇8 3(4)]: 管理干部代表企业向有责投诉的乘客诚恳道歉."""
    tenant = "citybus"
    t = walk(api, tenant, "graded", grade="main")
    c = TENANTS[tenant]
    r = post_action(api, tenant, c["head"], t, "reply", reply="handled", apology=False)
    assert r.status_code == 422, r.text
    assert (error(r)["field"], error(r)["rule"]) == ("apology", "apology when staff at fault")
    assert api.get(tenant, "manager", f"/api/tickets/{t['id']}").json()["state"] == "graded"
    t = api.act(tenant, c["head"], t, "reply", reply="handled; we apologise", apology=True)
    assert t["state"] == "replied"


@pytest.mark.parametrize("grade", ["full", "secondary"])
def test_every_at_fault_grade_needs_the_apology(api, grade):
    tenant = "citybus"
    t = walk(api, tenant, "graded", grade=grade)
    r = post_action(api, tenant, TENANTS[tenant]["head"], t, "reply", reply="x")
    assert r.status_code == 422 and error(r)["field"] == "apology"


def test_no_apology_needed_when_nobody_was_at_fault(api):
    t = walk(api, "citybus", "replied", grade="none", apology=False)
    assert t["state"] == "replied"


def test_other_industries_keep_the_apology_optional_at_reply(api):
    t = walk(api, "greenwood", "replied", grade="main", apology=False)
    assert t["state"] == "replied"


# ---------------------------------------------------------------- utility extension and clock


def _ask(api: Any, tenant: str, t: dict[str, Any], **extra: Any) -> Any:
    return api.post(tenant, TENANTS[tenant]["head"],
                    f"/api/tickets/{t['id']}/deadlines/reply/extensions",
                    json={"amount": 2, "unit": "working_days", "reason": "complex case",
                          "complainant_informed": True, **extra})  # fmt: skip


def test_utility_extension_needs_the_complainant_told_first(api):
    """The named example [002 第十五条]: today the telling is only a flag."""
    t = walk(api, U, "in_progress")
    r = _ask(api, U, t)
    assert r.status_code == 422, r.text
    assert error(r)["field"] == "complainant_told"
    told = {"by": "head-chengguan", "at": dt.datetime.now(dt.UTC).isoformat(), "how": "phone"}
    r = _ask(api, U, t, complainant_told=told)
    assert r.status_code == 201, r.text
    asked = history(api, U, t)[-1]
    assert asked["action"] == "extension_requested"
    assert asked["payload"]["complainant_told"]["how"] == "phone"
    assert asked["payload"]["complainant_told"]["by"] == "head-chengguan"


@pytest.mark.parametrize(
    ("told", "field"),
    [
        ({"by": "x", "how": "phone"}, "complainant_told.at"),
        ({"by": "x", "at": "2026-01-01T00:00:00+08:00", "how": "carrier_pigeon"},
         "complainant_told.how"),
    ],
)  # fmt: skip
def test_told_record_is_checked(api, told, field):
    t = walk(api, U, "in_progress")
    r = _ask(api, U, t, complainant_told=told)
    assert r.status_code == 422, r.text
    assert error(r)["field"] == field


def test_telling_dated_in_the_future_is_not_telling_first(api):
    t = walk(api, U, "in_progress")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    r = _ask(api, U, t, complainant_told={"by": "x", "at": later, "how": "sms"})
    assert r.status_code == 422 and error(r)["field"] == "complainant_told.at"


def test_property_extension_keeps_the_flag_alone(api):
    t = walk(api, "greenwood", "in_progress")
    assert _ask(api, "greenwood", t).status_code == 201


def _clocks(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/deadlines")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_utility_handling_clock_starts_at_the_units_receipt(api):
    """基层单位接到95598班传递的投诉处理工单后…4个工作日内查处完毕 [002 第十五条]."""
    t = walk(api, U, "registered")
    assert not [c for c in _clocks(api, U, t) if c["step"] == "resolution"]
    t = api.act(U, "supervisor", t, "review")
    t = api.act(U, "clerk", t, "dispatch", department=TENANTS[U]["dept"])
    rows = _clocks(api, U, t)
    resolution = next(c for c in rows if c["step"] == "resolution" and c["state"] == "running")
    reply = next(c for c in rows if c["step"] == "reply" and c["state"] == "running")
    assert resolution["started_at"] == reply["started_at"]
    assert resolution["owner_department"] == TENANTS[U]["dept"]
    assert resolution["limit"] == reply["limit"]


def test_property_handling_clock_still_starts_at_registration(api):
    t = walk(api, "greenwood", "registered")
    assert [c for c in _clocks(api, "greenwood", t) if c["step"] == "resolution"]
