"""Webhook management in the console (issue 13, tenant admin): the subscriptions, each
one's delivery log, disable / enable / send again — through the API's own operations, so
refused and audited exactly as the API refuses and audits them. Both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import run_db
from litestar.testing import TestClient
from sqlalchemy import select, update
from test_console_auth import csrf, login

from core.app import create_app
from core.audit import AuditEvent
from core.db import Database
from core.people.models import Tenant
from core.settings import load_settings
from core.tasks import webhooks
from core.tasks.models import OutboxEvent, Webhook, WebhookDelivery

LOCAL = "127.0.0.1/32"


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    settings = load_settings({"DATABASE_URL": api.url, "TOUSU_WEBHOOK_ALLOW_NETS": LOCAL})
    with TestClient(create_app(settings)) as client:
        yield client


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def one_delivery(api: Any, hook_id: int, ticket_id: int) -> int:
    """Fan the ticket's latest event out to the webhook (what the relay does): a delivery."""

    async def go(db: Database) -> int:
        async with db.cross_tenant() as s:
            tid = await s.scalar(select(Tenant.id).where(Tenant.slug == "greenwood"))
            event = await s.scalar(
                select(OutboxEvent.id)
                .where(OutboxEvent.tenant_id == tid)
                .order_by(OutboxEvent.id.desc())
            )
        ids = await webhooks.fan_out(db, tid, event)
        async with db.cross_tenant() as s:
            rows = await s.scalars(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.webhook_id == hook_id, WebhookDelivery.id.in_(ids)
                )
            )
            (delivery,) = list(rows)
            # as if the worker had sent it: "send again" makes it pending once more
            await s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery)
                .values(status="delivered", attempts=1, response_code=200)
            )
        return int(delivery)

    return run_db(api, go)  # type: ignore[no-any-return]


def audits(api: Any, entity: str, key: int) -> list[tuple[str, str]]:
    async def go(db: Database) -> list[tuple[str, str]]:
        async with db.cross_tenant() as s:
            rows = await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == entity, AuditEvent.entity_key == str(key))
                .order_by(AuditEvent.id)
            )
            return [(a.action, a.actor) for a in rows]

    return run_db(api, go)  # type: ignore[no-any-return]


def deactivate(api: Any, hook_id: int) -> None:
    async def go(db: Database) -> None:
        async with db.cross_tenant() as s:
            await s.execute(update(Webhook).where(Webhook.id == hook_id).values(active=False))

    run_db(api, go)


def test_admin_lists_disables_enables_and_resends_webhooks(api: Any, web: TestClient[Any]) -> None:
    assert login(web, "admin").status_code == 303
    token = csrf(web, "/admin")
    url = "http://127.0.0.1:9/console-hook"
    r = web.post("/admin/do/webhook", data={"_csrf_token": token, "url": url, "topics": ""})
    assert r.status_code == 201 and "Traceback" not in r.text
    hook = next(w for w in api.get("greenwood", "admin", "/api/webhooks").json() if w["url"] == url)
    try:
        page = web.get("/admin").text
        assert url in page and f'href="/admin/webhooks/{hook["id"]}"' in page

        t = api.create("greenwood", accused_department="engineering")
        delivery = one_delivery(api, hook["id"], t["id"])
        log = text(web.get(f"/admin/webhooks/{hook['id']}").text)
        assert "Webhook 投递记录" in log and "已送达" in log and "delivered" not in log

        # disable, then enable: the API's operation, audited as the admin
        r = web.post(
            "/admin/do/webhook-disable",
            data={"_csrf_token": token, "_webhook": str(hook["id"])},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        listed = api.get("greenwood", "admin", "/api/webhooks").json()
        assert next(w for w in listed if w["id"] == hook["id"])["active"] is False
        row = re.search(rf'<tr data-webhook="{hook["id"]}">.*?</tr>', web.get("/admin").text, re.S)
        assert row and "否" in row.group(0) and "启用" in row.group(0)
        r = web.post(
            "/admin/do/webhook-enable",
            data={"_csrf_token": token, "_webhook": str(hook["id"])},
            follow_redirects=False,
        )
        assert r.status_code == 303
        actions = [a for a, _ in audits(api, "webhook", hook["id"])]
        assert actions[-2:] == ["disable", "enable"]
        assert all(actor.startswith("user:") for _, actor in audits(api, "webhook", hook["id"]))

        # send again: pending again, audited with the status it had
        r = web.post(
            "/admin/do/webhook-redeliver",
            data={"_csrf_token": token, "_webhook": str(hook["id"]), "_delivery": str(delivery)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith(
            f"/admin/webhooks/{hook['id']}"
        )
        d = api.get("greenwood", "admin", f"/api/webhooks/{hook['id']}/deliveries").json()
        assert [x["status"] for x in d if x["id"] == delivery] == ["pending"]
        assert [a for a, _ in audits(api, "webhook_delivery", delivery)] == ["redeliver"]
        assert "等待发送" in text(web.get(f"/admin/webhooks/{hook['id']}").text)

        # an unknown delivery: the API's 404 message, next to the form, nothing changed
        r = web.post(
            "/admin/do/webhook-redeliver",
            data={"_csrf_token": token, "_webhook": str(hook["id"]), "_delivery": "999999"},
        )
        assert r.status_code == 404 and "找不到投递记录" in r.text and "Traceback" not in r.text
        r = web.post("/admin/do/webhook-disable", data={"_csrf_token": token, "_webhook": "abc"})
        assert r.status_code == 422 and "Traceback" not in r.text
    finally:
        deactivate(api, hook["id"])


def test_another_tenants_webhook_and_other_roles_are_refused(
    api: Any, web: TestClient[Any]
) -> None:
    r = web.post(  # through this app: it admits a local address for webhooks
        "/api/webhooks",
        json={"url": "http://127.0.0.1:9/theirs"},
        headers=api.headers("citybus", "admin"),
    )
    assert r.status_code == 201, r.text
    theirs = r.json()
    try:
        assert login(web, "admin").status_code == 303
        assert web.get(f"/admin/webhooks/{theirs['id']}").status_code == 404
        token = csrf(web, "/admin")
        r = web.post(
            "/admin/do/webhook-disable", data={"_csrf_token": token, "_webhook": str(theirs["id"])}
        )
        assert r.status_code == 404
        mine = api.get("citybus", "admin", "/api/webhooks").json()
        assert next(w for w in mine if w["id"] == theirs["id"])["active"] is True
        web.post("/logout", data={"_csrf_token": token})
        assert login(web, "manager").status_code == 303
        assert web.get(f"/admin/webhooks/{theirs['id']}").status_code == 403
    finally:
        deactivate(api, theirs["id"])
