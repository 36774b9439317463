"""Every outbound URL a tenant can set goes through one egress rule (issue 21 item 4): the
SMS gateway's ``channels.<name>.url`` like webhooks — refused at set time with a 422 naming
the field, refused again at send time, and the outbound log's error text generic (no port
scan through it). Through HTTP on both backends, and through the channel type itself."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from core.channel_types import ChannelError, Outgoing
from core.notify.channels import HTTP_SMS

TENANT = "greenwood"
INTERNAL = [
    "http://127.0.0.1:6379/sms",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/sms",
    "http://10.0.0.1/sms",
    "http://192.168.1.1/sms",
    "http://localhost:5432/",
    "http://2130706433/sms",  # 127.0.0.1 as one number
    "http://0x7f.1/sms",
    "http://[::ffff:127.0.0.1]/sms",
    "http://100.64.0.1/sms",  # CGNAT
]


@pytest.fixture
def no_allowance(api: Any, settings_in_force: Any) -> None:
    settings_in_force(api, webhook_allow_nets="")


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_sms_gateway_is_refused_naming_the_field(
    api: Any, no_allowance: None, url: str
) -> None:
    body = {"channels": {"sms": {"type": "http-sms", "url": url}}}
    r = api.client.put("/api/config/notifications", json=body, headers=api.headers(TENANT, "admin"))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "channels.sms.url"
    assert "global address" in error["rule"]


def test_an_admitted_network_is_accepted(api: Any, settings_in_force: Any) -> None:
    settings_in_force(api, webhook_allow_nets="10.20.0.0/16")
    body = {"channels": {"sms": {"type": "http-sms", "url": "http://10.20.3.4/sms"}}}
    headers = api.headers(TENANT, "admin")
    assert (
        api.client.put("/api/config/notifications", json=body, headers=headers).status_code == 200
    )
    body["channels"]["sms"]["url"] = "http://10.21.3.4/sms"  # next door: not admitted
    assert (
        api.client.put("/api/config/notifications", json=body, headers=headers).status_code == 422
    )
    api.client.put("/api/config/notifications", json={"channels": {}}, headers=headers)


class Listener:
    """A loopback HTTP server that records whether anything reached it."""

    def __init__(self) -> None:
        self.hits = 0
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                listener.hits += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def listener() -> Iterator[Listener]:
    one = Listener()
    yield one
    one.server.shutdown()
    one.server.server_close()


def send(url: str) -> str:
    message = Outgoing(key="k-1", to="13800000000", subject="", body="您的投诉已受理")
    try:
        asyncio.run(HTTP_SMS.send({"type": "http-sms", "url": url}, message))
    except ChannelError as exc:
        return str(exc)
    return ""


def test_the_rule_holds_again_at_send_time(listener: Listener, settings_in_force: Any) -> None:
    """A gateway stored while the operator admitted loopback, then no longer admitted (or a
    name that now resolves inside): the send refuses and nothing reaches the address."""
    settings_in_force(webhook_allow_nets="")
    error = send(f"http://127.0.0.1:{listener.port}/sms")
    assert error.startswith("http-sms: 地址不允许"), error
    assert listener.hits == 0


def test_the_error_text_does_not_tell_open_from_closed_ports(
    listener: Listener, settings_in_force: Any
) -> None:
    settings_in_force(webhook_allow_nets="127.0.0.1/32")
    assert send(f"http://127.0.0.1:{listener.port}/sms") == ""  # admitted: delivered
    assert listener.hits == 1
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    silent = socket.socket()  # a port that accepts and then speaks no HTTP
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)

    def hang_up() -> None:
        conn, _ = silent.accept()
        conn.recv(100)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        refused = send(f"http://127.0.0.1:{closed}/sms")
        other = send(f"http://127.0.0.1:{silent.getsockname()[1]}/sms")
    finally:
        silent.close()
    assert refused == other == "http-sms: 连接失败：无法连接到接收方", (refused, other)
