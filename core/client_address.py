"""Who the client is: the one function every reader of the client address calls.

The address a request came from decides throttling (:mod:`core.people.throttle`), is
written on auth events and appears on access log lines. A client can write any
``X-Forwarded-For`` it likes, so the header is believed only from the proxies the operator
names in ``TOUSU_TRUSTED_PROXIES`` (addresses or networks; default: none):

* the TCP peer is not a trusted proxy → the client is the peer, whatever the headers say;
* the peer is a trusted proxy → ``X-Forwarded-For`` is read from the right (the hop the
  proxy itself appended) leftwards, skipping trusted proxies; the first address that is not
  one is the client. A value that is not an IP address stops the walk: the client is then
  the last trusted hop (a forged or garbled entry is never taken as the client).

``tousu serve`` starts uvicorn with its own proxy-header handling off (``proxy_headers``
False), so uvicorn's ``FORWARDED_ALLOW_IPS`` never rewrites the peer behind this rule's back.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from core.settings import IPNetwork, parse_networks

_KEY = "tousu.client_address"
UNKNOWN = "unknown"


@lru_cache(maxsize=16)
def trusted_networks(text: str) -> tuple[IPNetwork, ...]:
    """``TOUSU_TRUSTED_PROXIES`` parsed (checked at start: see :mod:`core.settings`)."""
    return parse_networks(text, "TOUSU_TRUSTED_PROXIES")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(text: str) -> IPAddress | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: IPAddress, nets: tuple[IPNetwork, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in nets)


def resolve(peer: str | None, forwarded_for: list[str], nets: tuple[IPNetwork, ...]) -> str:
    """The client address from the TCP ``peer``, the ``X-Forwarded-For`` header values (in
    order) and the trusted networks — the rule of the module docstring. Pure: no I/O."""
    if not peer:
        return UNKNOWN
    peer_ip = _ip(peer)
    if peer_ip is None or not nets or not _trusted(peer_ip, nets):
        return peer
    hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
    client = str(peer_ip)
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return client  # garbled: stop at the last hop we could vouch for
        client = str(ip)
        if not _trusted(ip, nets):
            return client
    return client


def client_address(connection: Any) -> str:
    """The client's address for a Litestar request/connection or a raw ASGI scope.

    Returns the address as text (``"203.0.113.7"``), or ``"unknown"`` when the server knows
    no peer (an in-process test client without one). Cached on the scope."""
    scope = connection if isinstance(connection, dict) else connection.scope
    known = scope.get(_KEY)
    if known is not None:
        return str(known)
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name.lower() == b"x-forwarded-for"
    ]
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    nets = trusted_networks(getattr(settings, "trusted_proxies", "") or "")
    address = resolve(peer, forwarded, nets)
    scope[_KEY] = address
    return address
