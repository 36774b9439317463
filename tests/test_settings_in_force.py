"""Settings are read once and passed down (issue 18): the app uses the ``Settings`` object
given to ``create_app``, not the environment, down to a channel type's check (SMTP relay)
and the egress rule for tenant-chosen URLs (``TOUSU_WEBHOOK_ALLOW_NETS``); two apps in one
process each use their own. Through HTTP on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from core.app import create_app
from core.settings import load_settings

TENANT = "greenwood"
CONFIG = {
    "channels": {
        "mail": {"type": "smtp", "from": "desk@greenwood.example"},
        "sms": {"type": "http-sms", "url": "http://127.0.0.1:9/sms"},
    }
}


@pytest.fixture
def given(api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient[Any]]:
    """An app whose settings name an SMTP relay and admit loopback, while the environment
    (set after they were read) says the opposite."""
    settings = load_settings(
        {
            "DATABASE_URL": api.url,
            "TOUSU_SMTP_HOST": "127.0.0.1",
            "TOUSU_WEBHOOK_ALLOW_NETS": "127.0.0.1/32",
        }
    )
    monkeypatch.setenv("TOUSU_SMTP_HOST", "")
    monkeypatch.setenv("TOUSU_WEBHOOK_ALLOW_NETS", "")
    with TestClient(create_app(settings)) as client:
        yield client


def put(client: TestClient[Any], api: Any) -> Any:
    return client.put(
        "/api/config/notifications", json=CONFIG, headers=api.headers(TENANT, "admin")
    )


def test_the_apps_own_settings_reach_the_channel_checks(api: Any, given: Any) -> None:
    r = put(given, api)
    assert r.status_code == 200, r.text
    assert set(r.json()["channels"]) == {"mail", "sms"}


def test_another_app_in_the_process_keeps_its_own(
    api: Any, given: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's app was made from settings without a relay or admitted networks; the
    environment now names both, and a second app with them was made after it: still 422."""
    monkeypatch.setenv("TOUSU_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TOUSU_WEBHOOK_ALLOW_NETS", "127.0.0.1/32")
    assert put(given, api).status_code == 200
    r = put(api.client, api)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] in ("channels.mail.type", "channels.sms.url")
    one = {"channels": {"sms": CONFIG["channels"]["sms"]}}
    r = api.client.put("/api/config/notifications", json=one, headers=api.headers(TENANT, "admin"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "channels.sms.url"
