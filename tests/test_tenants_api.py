"""Creating a tenant never overwrites one; updating is its own verb (issue 9 item 5).

``POST /api/tenants`` on an existing slug is 409 and changes nothing; ``PUT
/api/tenants/{slug}`` (platform operator only, audited) updates; a plugin change on a tenant
with tickets is 409; a ticket prefix is unique across tenants (409, and a database unique
constraint behind it); users and staff an update document does not name stay as they are,
while ``tousu tenants sync`` from files keeps its declared semantics (missing → deactivated).
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
from conftest import make_operator, run_db, small_tenant
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.people.models import Tenant, User
from core.provisioning.sync import sync_tenant
from core.provisioning.tenant_file import TenantFile

ALL_ACTIVE = dict.fromkeys(["manager", "admin", "clerk", "supervisor", "head", "system"], True)


def fresh(prefix_head: str = "T") -> tuple[str, str]:
    slug = f"t-{secrets.token_hex(4)}"
    prefix = prefix_head + "".join(chr(65 + b % 26) for b in secrets.token_bytes(4))
    return slug, prefix


def bearer(slug: str, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {slug}-{user}-test-key-0001"}


def tenants(api: Any, op: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = api.client.get("/api/tenants", headers=op)
    assert r.status_code == 200, r.text
    return {t["slug"]: t for t in r.json()}


def active_users(api: Any, slug: str) -> dict[str, bool]:
    async def go(db: Any) -> dict[str, bool]:
        async with db.cross_tenant() as s:
            tid = await s.scalar(select(Tenant.id).where(Tenant.slug == slug))
            rows = await s.scalars(select(User).where(User.tenant_id == tid))
            return {u.username: u.active for u in rows}

    return run_db(api, go)


def test_create_on_existing_slug_is_409_and_changes_nothing(api):
    op = make_operator(api)
    slug, prefix = fresh()
    doc = small_tenant(slug, prefix)
    assert api.client.post("/api/tenants", json=doc, headers=op).status_code == 201
    # The example: same slug, renamed, other plugin, another tenant's prefix,
    # no users listed.
    other_prefix = tenants(api, op)["greenwood"]["ticket_prefix"]
    hostile = doc | {"name": "改名", "plugin": "transit", "ticket_prefix": other_prefix,
                     "users": []}  # fmt: skip
    r = api.client.post("/api/tenants", json=hostile, headers=op)
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["field"] == "slug" and "已存在" in err["message"], err
    assert tenants(api, op)[slug] == {
        "slug": slug, "name": doc["name"], "plugin": "utility", "ticket_prefix": prefix,
    }  # fmt: skip
    assert active_users(api, slug) == ALL_ACTIVE
    # The tenant's people still work.
    assert api.client.get("/api/me", headers=bearer(slug, "clerk")).status_code == 200


def test_prefix_is_unique_across_tenants(api):
    op = make_operator(api)
    taken = tenants(api, op)["greenwood"]["ticket_prefix"]
    slug, prefix = fresh()
    r = api.client.post("/api/tenants", json=small_tenant(slug, taken), headers=op)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["field"] == "ticket_prefix"
    assert slug not in tenants(api, op)  # nothing half-written
    assert api.client.post("/api/tenants", json=small_tenant(slug, prefix),
                           headers=op).status_code == 201  # fmt: skip
    r = api.client.put(f"/api/tenants/{slug}", json=small_tenant(slug, taken), headers=op)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["field"] == "ticket_prefix"
    assert tenants(api, op)[slug]["ticket_prefix"] == prefix

    # The database refuses it too, whatever path writes the row.
    async def dup(db: Any) -> str:
        try:
            async with db.cross_tenant() as s:
                s.add(Tenant(slug=f"x-{secrets.token_hex(3)}", name="x", plugin="utility",
                             ticket_prefix=taken, config={}))  # fmt: skip
        except IntegrityError:
            return "refused"
        return "stored"

    assert run_db(api, dup) == "refused"


def test_update_is_put_by_an_operator_and_audited(api):
    op = make_operator(api)
    slug, prefix = fresh()
    doc = small_tenant(slug, prefix)
    assert api.client.post("/api/tenants", json=doc, headers=op).status_code == 201
    # Only a platform operator; not a tenant admin, not of another tenant.
    for headers in (bearer(slug, "admin"), api.headers("greenwood", "admin")):
        r = api.client.put(f"/api/tenants/{slug}", json=doc | {"name": "x"}, headers=headers)
        assert r.status_code == 403, r.text
    r = api.client.put(f"/api/tenants/{slug}", json=doc | {"name": "新名字"}, headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "新名字"
    assert tenants(api, op)[slug]["name"] == "新名字"
    audit = api.client.get("/api/audit", params={"entity": "tenant"},
                           headers=bearer(slug, "admin")).json()  # fmt: skip
    update = next(a for a in audit if a["action"] == "update")
    assert update["payload"] == {"name": "新名字"}
    assert update["actor"].startswith("user:")
    # Unknown slug: 404; the body's slug must be the path's.
    ghost, _ = fresh()
    r = api.client.put(f"/api/tenants/{ghost}", json=small_tenant(ghost, "ZZZZ"), headers=op)
    assert r.status_code == 404, r.text
    assert ghost not in tenants(api, op)
    r = api.client.put(f"/api/tenants/{slug}", json=small_tenant(ghost, prefix), headers=op)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "slug"


def test_update_leaves_unnamed_users_active(api):
    op = make_operator(api)
    slug, prefix = fresh()
    doc = small_tenant(slug, prefix)
    assert api.client.post("/api/tenants", json=doc, headers=op).status_code == 201
    only_clerk = doc | {"users": [u for u in doc["users"] if u["username"] == "clerk"]}
    r = api.client.put(f"/api/tenants/{slug}", json=only_clerk, headers=op)
    assert r.status_code == 200, r.text
    assert active_users(api, slug) == ALL_ACTIVE
    assert api.client.get("/api/me", headers=bearer(slug, "manager")).status_code == 200

    # The tenant-file sync keeps its declared semantics: the files are the whole truth.
    async def sync(db: Any) -> None:
        await sync_tenant(db, msgspec.convert(only_clerk, TenantFile), actor="cli:tenants sync")

    run_db(api, sync)
    assert active_users(api, slug) == dict.fromkeys(ALL_ACTIVE, False) | {
        "clerk": True, "system": True}  # fmt: skip


def test_plugin_change_refused_once_the_tenant_has_tickets(api):
    op = make_operator(api)
    slug, prefix = fresh()
    doc = small_tenant(slug, prefix)
    assert api.client.post("/api/tenants", json=doc, headers=op).status_code == 201
    # No tickets yet: the plugin may still change.
    r = api.client.put(f"/api/tenants/{slug}", json=doc | {"plugin": "transit"}, headers=op)
    assert r.status_code == 200, r.text
    assert tenants(api, op)[slug]["plugin"] == "transit"
    r = api.client.post(
        "/api/tickets",
        json={"channel": "phone", "description": "司机态度差",
              "complainant": {"name": "赵六", "contact": "13900002222"}},
        headers=bearer(slug, "clerk"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = api.client.put(f"/api/tenants/{slug}", json=doc | {"plugin": "utility"}, headers=op)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["field"] == "plugin"
    assert tenants(api, op)[slug]["plugin"] == "transit"


def test_concurrent_creates_of_one_slug_make_one_tenant(api):
    """Two operators posting the same new slug at once: one 201, one 409."""
    import threading

    op = make_operator(api)
    slug, prefix = fresh()
    barrier = threading.Barrier(4)
    results: list[Any] = [None] * 4

    def go(i: int) -> None:
        barrier.wait()
        results[i] = api.client.post(
            "/api/tenants", json=small_tenant(slug, prefix), headers=op
        ).status_code

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(results) == [201, 409, 409, 409], results


def test_a_broken_document_is_a_422_naming_the_key_in_the_readers_language(api):
    """A tenant document that names an undeclared department is refused before anything is
    written: 422 naming the key, the rule in English, the message in Chinese by default and
    in English for ``Accept-Language: en``."""
    op = make_operator(api)
    slug, prefix = fresh()
    doc = small_tenant(slug, prefix)
    doc["staff"][0]["department"] = "nowhere"
    r = api.client.post("/api/tenants", json=doc, headers=op)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "staff[0].department"
    assert err["rule"] == "unknown department 'nowhere' (declared: desk)"
    assert err["message"] == "未知的部门 'nowhere'（已声明的部门：desk）"
    r = api.client.post("/api/tenants", json=doc, headers=op | {"Accept-Language": "en"})
    assert r.json()["error"]["message"] == "unknown department 'nowhere' (declared: desk)"
    assert slug not in tenants(api, op)
