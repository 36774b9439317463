"""Registering, owning, dispatching and closing (issue 12 §3).

- [000 §篇1 5(5)2①c–d] the original closes only once the related new ticket is registered;
  one closed as invalid or settled does not count.
- [000 §篇1 5(5)2②c] unresolvable tickets close once a quarter with the head of the
  management office's consent — not by any supervisor, not at any time, not by whoever
  recorded them.
- [000 §篇1 5(5)1②c] once registered, a named owner follows the ticket until it is closed.
- [000 §篇1 4(4)4] desk A sends the form on within 10 minutes: supervisor review is not a
  mandatory step before every dispatch (a plugin choice); the utility desk keeps it
  [002 第十四条].
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dutykit import TENANTS, error, history, post_action, walk

from core import clock

P = "greenwood"


def _close(api: Any, tenant: str, user: str, t: dict[str, Any], **body: Any) -> Any:
    return post_action(api, tenant, user, t, "close",
                       **({"verification": "result_confirmed"} | body))  # fmt: skip


# ---------------------------------------------------------------- related ticket


def _related(api: Any, tenant: str, how: str) -> dict[str, Any]:
    c = TENANTS[tenant]
    t = api.create(tenant, channel=c["channel"])
    if how == "received":
        return t
    if how == "invalid":
        return api.act(tenant, "clerk", t, "triage_invalid", reason="not ours")
    t = api.act(tenant, "clerk", t, "triage_valid", category=c["category"],
                severity=c["severity"], facets=c["facets"])  # fmt: skip
    if how == "valid":
        return t
    if how == "settled":
        return api.act(tenant, "clerk", t, "settle", explanation="explained; satisfied")
    return api.act(tenant, "clerk", t, "register", reason="needs_follow_up")


@pytest.mark.parametrize("how", ["invalid", "settled", "received", "valid"])
def test_original_waits_for_the_related_ticket_to_be_registered(api, how):
    """The named example: today a ticket closed as invalid or settled satisfies the check."""
    t = walk(api, P, "followed_up")
    related = _related(api, P, how)
    r = _close(api, P, "supervisor", t, related_ticket=related["number"])
    assert r.status_code == 422, r.text
    assert (error(r)["field"], error(r)["rule"]) == (
        "related_ticket", "registered before the original closes")  # fmt: skip
    assert api.get(P, "manager", f"/api/tickets/{t['id']}").json()["state"] == "followed_up"


def test_original_closes_once_the_related_ticket_is_registered(api):
    t = walk(api, P, "followed_up")
    related = _related(api, P, "registered")
    r = _close(api, P, "supervisor", t, related_ticket=related["number"])
    assert r.status_code == 200, r.text
    assert history(api, P, t)[-1]["payload"]["related_ticket_id"] == related["id"]


def test_a_ticket_is_not_its_own_related_ticket(api):
    t = walk(api, P, "followed_up")
    r = _close(api, P, "supervisor", t, related_ticket=t["number"])
    assert r.status_code == 422 and error(r)["field"] == "related_ticket"


# ---------------------------------------------------------------- unresolvable, quarterly


def _suspended(api: Any, tenant: str, by: str = "gm") -> dict[str, Any]:
    t = walk(api, tenant, "in_progress")
    return api.act(tenant, by, t, "suspend", reason="waits for the owners' committee")


def _close_unresolvable(api: Any, tenant: str, user: str, t: dict[str, Any]) -> Any:
    return _close(api, tenant, user, t, verification="unresolvable_approved")


def test_unresolvable_closes_at_the_quarterly_review_with_the_office_head(api):
    """The named example: not by any supervisor at any time. Recorded this quarter, it
    closes at the next quarterly review, with the head of the management office."""
    t = _suspended(api, P)
    r = _close_unresolvable(api, P, "supervisor", t)
    assert r.status_code == 403 and error(r)["rule"] == "role"
    assert error(r)["allowed_roles"] == ["general_manager", "manager"]
    r = _close_unresolvable(api, P, "manager", t)
    assert r.status_code == 409, r.text
    assert error(r)["rule"] == "closed once a quarter"
    clock.travel_to(clock.now() + dt.timedelta(days=93))
    r = _close_unresolvable(api, P, "manager", t)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["state"], out["resolution"]) == ("closed", "unresolvable")
    last = history(api, P, t)[-1]
    assert (last["action"], last["actor"]) == ("close", "manager")
    local = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert last["payload"]["quarter"] == f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def test_whoever_recorded_it_unresolvable_does_not_consent_to_closing_it(api):
    t = _suspended(api, P, by="manager")
    clock.travel_to(clock.now() + dt.timedelta(days=93))
    r = _close_unresolvable(api, P, "manager", t)
    assert r.status_code == 403, r.text
    assert (error(r)["rule"], error(r)["step"]) == ("separation of duties", "close_unresolvable")
    assert _close_unresolvable(api, P, "gm", t).status_code == 200


def test_other_industries_close_unresolvable_without_waiting_for_the_quarter(api):
    t = _suspended(api, "citybus")
    assert _close_unresolvable(api, "citybus", "manager", t).status_code == 200


# ---------------------------------------------------------------- named owner


def test_registration_names_an_owner_who_follows_the_ticket(api):
    """The named example: once registered, a named owner follows it until closed."""
    t = walk(api, P, "registered")
    assert t["owner"] == "clerk"  # the registering desk member by default
    assert history(api, P, t)[-1]["payload"]["owner"] == "clerk"
    t = walk(api, P, "followed_up")
    assert api.get(P, "manager", f"/api/tickets/{t['id']}").json()["owner"] == "clerk"
    t = api.act(P, "supervisor", t, "close", verification="result_confirmed")
    assert t["owner"] == "clerk"


def test_registration_may_name_another_desk_member(api):
    t = walk(api, P, "registered", register={"owner": "supervisor"})
    assert t["owner"] == "supervisor"


@pytest.mark.parametrize("owner", ["nobody", "head-engineering", "manager"])
def test_owner_must_be_a_desk_member_of_the_tenant(api, owner):
    t = walk(api, P, "valid")
    r = post_action(api, P, "clerk", t, "register", reason="on_site", owner=owner)
    assert r.status_code == 422, r.text
    assert error(r)["field"] == "owner"
    assert api.get(P, "manager", f"/api/tickets/{t['id']}").json()["state"] == "valid"


def test_reassigning_the_owner_is_an_event(api):
    t = walk(api, P, "dispatched")
    r = post_action(api, P, "clerk", t, "reassign_owner", owner="supervisor", reason="leave")
    assert r.status_code == 403 and error(r)["rule"] == "role"
    t = api.act(P, "supervisor", t, "reassign_owner", owner="supervisor", reason="clerk on leave")
    assert (t["owner"], t["state"]) == ("supervisor", "dispatched")
    last = history(api, P, t)[-1]
    assert (last["action"], last["payload"]["owner"], last["payload"]["owner_was"]) == (
        "reassign_owner", "supervisor", "clerk")  # fmt: skip
    r = post_action(api, P, "supervisor", t, "reassign_owner", owner="supervisor", reason="x")
    assert r.status_code == 422 and error(r)["field"] == "owner"


def test_an_unregistered_ticket_has_no_owner(api):
    t = walk(api, P, "valid")
    assert t["owner"] is None
    assert "reassign_owner" not in t["allowed_actions"]


# ---------------------------------------------------------------- review before dispatch


def test_property_desk_dispatches_straight_from_registration(api):
    """The named example [000 §篇1 4(4)4]: the clerk sends the form on within 10 minutes;
    no supervisor review in front of the dispatch."""
    t = walk(api, P, "registered")
    assert "dispatch" in t["allowed_actions"]
    t = api.act(P, "clerk", t, "dispatch", department=TENANTS[P]["dept"])
    assert t["state"] == "dispatched"
    actions = [e["action"] for e in history(api, P, t)]
    assert "review" not in actions
    assert actions[-2:] == ["register", "dispatch"]


def test_property_desk_may_still_review_first(api):
    t = walk(api, P, "registered")
    t = api.act(P, "supervisor", t, "review")
    assert api.act(P, "clerk", t, "dispatch", department=TENANTS[P]["dept"])["state"] == (
        "dispatched")  # fmt: skip


def test_utility_desk_keeps_the_supervisor_review(api):
    """[002 第十四条] 投诉工单传递至班长审核: the review stays mandatory at the 95598 desk."""
    tenant = "riverside-power"
    t = walk(api, tenant, "registered")
    assert "dispatch" not in t["allowed_actions"]
    r = post_action(api, tenant, "clerk", t, "dispatch", department=TENANTS[tenant]["dept"])
    assert r.status_code == 409, r.text
    assert error(r)["rule"] == "lifecycle"
    assert "须经主管审核" in error(r)["message"]  # Chinese by default (core/error_text.py)
