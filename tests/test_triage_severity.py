"""Issue 12 §2: what the plugin says by definition is applied at triage.

重大投诉: 公司承诺或合同规定提供的服务没有实施或实施效果有明显差错,经客户提出而得不到解决
[000 §篇1 4(4)2①a]. A major complaint goes to the general manager the same day
[000 §篇1 4(4)3②]. Through the HTTP API on both backends (greenwood, plugins/property).
"""

from __future__ import annotations

from typing import Any

T = "greenwood"
DEFINED_MAJOR = {"promised_service_undelivered": True, "raised_before_unresolved": True}
CLASSES = {"category": "repair_quality", "facets": {"nature": "valid"}}


def received(api: Any, **extra: Any) -> dict[str, Any]:
    return api.create(T, accused_department="engineering", **extra)


def triage(api: Any, user: str, t: dict[str, Any], **body: Any) -> Any:
    return api.post(
        T, user, f"/api/tickets/{t['id']}/triage-valid",
        json={"version": t["version"], **CLASSES, **body},
    )  # fmt: skip


def last_event(api: Any, t: dict[str, Any]) -> dict[str, Any]:
    r = api.get(T, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()[-1]  # type: ignore[no-any-return]


def escalations(api: Any, user: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(T, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["ticket_id"] == t["id"] and n["kind"] == "escalation"]


def test_major_by_definition_is_applied_and_the_gm_told_the_same_day(api):
    """The clerk triages without choosing (or with the suggestion only shown, as before):
    the definition makes it major, recorded in the event, and the general manager is
    notified at once through the escalation path."""
    t = received(api, severity="minor", facts=DEFINED_MAJOR)
    assert t["classification"]["defined_severity"] == "major"
    assert escalations(api, "gm", t) == []
    r = triage(api, "clerk", t)
    assert r.status_code == 200, r.text
    assert r.json()["severity"] == "major"
    event = last_event(api, t)
    assert event["payload"]["severity_by_definition"] == "major"
    assert event["payload"]["severity_applied"] is True
    assert event["payload"]["severity_was"] == "minor"
    assert len(escalations(api, "gm", t)) == 1


def test_a_lower_severity_without_an_override_reason_is_refused(api):
    t = received(api, facts=DEFINED_MAJOR)
    r = triage(api, "clerk", t, severity="minor")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "severity_override"
    assert err["defined_severity"] == "major"
    assert last_event(api, t)["action"] == "intake"


def test_the_clerk_may_not_override_the_definition(api):
    t = received(api, facts=DEFINED_MAJOR)
    r = triage(api, "clerk", t, severity="minor", severity_override="the owner is calm")
    assert r.status_code == 403, r.text
    assert r.json()["error"]["field"] == "severity_override"
    assert r.json()["error"]["allowed_roles"] == ["general_manager", "manager"]
    assert last_event(api, t)["action"] == "intake"


def test_a_manager_overrides_with_a_recorded_reason(api):
    t = received(api, facts=DEFINED_MAJOR)
    reason = "the promised repair was done after the call; only the paint is left"
    r = triage(api, "manager", t, severity="important", severity_override=reason)
    assert r.status_code == 200, r.text
    assert r.json()["severity"] == "important"
    event = last_event(api, t)
    assert event["actor_role"] == "manager"
    assert event["payload"]["severity_by_definition"] == "major"
    assert event["payload"]["severity_override"] == {"severity": "important", "reason": reason}
    assert escalations(api, "gm", t) == []  # not major: no same-day notice


def test_an_override_with_nothing_to_override_is_refused(api):
    t = received(api)
    r = triage(api, "clerk", t, severity="minor", severity_override="no reason")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "severity_override"
    assert triage(api, "clerk", t, severity="minor").status_code == 200


def test_reclassifying_away_from_the_definition_needs_a_manager(api):
    """The definition cannot be undone through a reclassification by the desk; a manager's
    reclassification (its reason recorded) is the override."""
    t = received(api, facts=DEFINED_MAJOR)
    t = triage(api, "clerk", t).json()
    assert t["severity"] == "major"
    r = api.post(
        T, "clerk", f"/api/tickets/{t['id']}/reclassify",
        json={"version": t["version"], "severity": "minor", "reason": "calm owner"},
    )  # fmt: skip
    assert r.status_code == 403, r.text
    assert r.json()["error"]["field"] == "severity"
    t = api.act(T, "manager", t, "reclassify", severity="minor", reason="paid compensation")
    assert t["severity"] == "minor"
    event = last_event(api, t)
    assert event["payload"]["severity_override"] == {"severity": "minor"}
    assert event["payload"]["reason"] == "paid compensation"
