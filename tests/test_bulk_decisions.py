"""Decide in bulk (issue 20 §2): each item passes every rule of its single decision, in its
own transaction; refused items are listed with the status, field and message the single
route gives, and change nothing. Both backends."""

from __future__ import annotations

from typing import Any

from conftest import graded_citybus, graded_penalty

C = "citybus"


def test_bulk_penalties_with_one_refused_item(api: Any) -> None:
    a, b, c = graded_penalty(api), graded_penalty(api), graded_penalty(api)
    # b is decided first on its own: the bulk decision must refuse it, not decide it twice
    r = api.post(C, "manager", f"/api/penalties/{b['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    r = api.post(
        C, "manager", "/api/penalties/bulk",
        json={"decision": "confirm", "ids": [a["id"], b["id"], c["id"]]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["done"] == [a["id"], c["id"]]
    assert [x["id"] for x in out["refused"]] == [b["id"]]
    refused = out["refused"][0]
    assert refused["status"] == 409 and refused["message"]
    for p, status in ((a, "confirmed"), (b, "confirmed"), (c, "confirmed")):
        rows = api.get(C, "manager", f"/api/tickets/{p['ticket_id']}/penalties").json()
        assert next(x for x in rows if x["id"] == p["id"])["status"] == status


def test_bulk_waive_needs_the_reason_the_single_waiver_needs(api: Any) -> None:
    a = graded_penalty(api)
    r = api.post(C, "manager", "/api/penalties/bulk", json={"decision": "waive", "ids": [a["id"]]})
    assert r.status_code == 200, r.text
    assert r.json()["done"] == [] and r.json()["refused"][0]["field"] == "reason"
    r = api.post(
        C, "manager", "/api/penalties/bulk",
        json={"decision": "waive", "ids": [a["id"]], "reason": "首次违规，批评教育"},
    )  # fmt: skip
    assert r.json()["done"] == [a["id"]]
    rows = api.get(C, "manager", f"/api/tickets/{a['ticket_id']}/penalties").json()
    assert next(x for x in rows if x["id"] == a["id"])["status"] == "waived"


def test_bulk_needs_the_deciders_role_and_an_unknown_id_is_reported(api: Any) -> None:
    a = graded_penalty(api)
    r = api.post(C, "clerk", "/api/penalties/bulk", json={"decision": "confirm", "ids": [a["id"]]})
    assert r.status_code == 200
    assert r.json()["refused"][0]["status"] == 403
    r = api.post(C, "manager", "/api/penalties/bulk", json={"decision": "confirm", "ids": [2**30]})
    assert r.json()["refused"][0]["status"] == 404
    r = api.post(C, "manager", "/api/penalties/bulk", json={"decision": "confirm", "ids": []})
    assert r.status_code in (400, 422)


def test_bulk_close_checks_each_version(api: Any) -> None:
    def followed_up() -> dict[str, Any]:
        t = graded_citybus(api)
        t = api.act(C, "head-fleet1", t, "reply", reply="已处理", apology=True)
        return api.act(C, "clerk", t, "follow_up", note="满意")

    t1, t2 = followed_up(), followed_up()
    # confirm their penalties so nothing but the version stands in the way
    for t in (t1, t2):
        for x in api.get(C, "manager", f"/api/tickets/{t['id']}/penalties").json():
            if x["status"] == "proposed":
                api.post(C, "manager", f"/api/penalties/{x['id']}/confirm", json={})
    t1, t2 = (api.get(C, "manager", f"/api/tickets/{t['id']}").json() for t in (t1, t2))
    r = api.post(
        C, "manager", "/api/tickets/bulk/close",
        json={"verification": "result_confirmed", "items": [
            {"ticket_id": t1["id"], "version": t1["version"]},
            {"ticket_id": t2["id"], "version": t2["version"] - 1},  # stale
        ]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    out = r.json()
    if out["done"] != [t1["id"]]:  # the tenant's own close rule refused: show why
        raise AssertionError(out)
    assert out["refused"][0]["id"] == t2["id"] and out["refused"][0]["status"] == 409
    assert api.get(C, "manager", f"/api/tickets/{t1['id']}").json()["state"] == "closed"
    assert api.get(C, "manager", f"/api/tickets/{t2['id']}").json()["state"] == "followed_up"


def test_a_refused_item_is_the_error_its_single_route_answers(api: Any) -> None:
    """Each refusal is the single route's error document (status, code, field, rule and the
    message in the reader's language), with the item's id."""
    a = graded_penalty(api)
    r = api.post(C, "manager", f"/api/penalties/{a['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    for lang, words in (("zh-CN", "不能重复决定"), ("en", "already decided")):
        head = {"Accept-Language": lang}
        single = api.post(
            C, "manager", f"/api/penalties/{a['id']}/waive", json={"reason": "x"}, headers=head
        )
        assert single.status_code == 409, single.text
        bulk = api.post(
            C, "manager", "/api/penalties/bulk",
            json={"decision": "waive", "ids": [a["id"]], "reason": "x"}, headers=head,
        )  # fmt: skip
        assert bulk.status_code == 200, bulk.text
        [refused] = bulk.json()["refused"]
        err = single.json()["error"]
        assert words in err["message"], err
        assert refused == {"id": a["id"]} | {
            k: err.get(k) for k in ("status", "code", "field", "rule", "message")
        }
