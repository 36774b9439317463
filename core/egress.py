"""Where tenant-chosen URLs may be called: global addresses only, checked after DNS, pinned.

This is the one egress rule for every outbound URL a tenant can set: webhooks
(:mod:`core.tasks.webhooks`) and notification gateways such as the ``http-sms`` channel's
``url`` (:mod:`core.notify.channels`) — kernel, so every area may use it. A tenant admin
chooses those URLs, so without a check the server would POST wherever a tenant asked — its
own API on 127.0.0.1, the cloud metadata service on 169.254.169.254, databases on the
private network — and the delivery log would tell the tenant which of those ports are open
(server-side request forgery). The rule:

* an address is allowed when it is **global** — not loopback, private (RFC 1918, IPv6 ULA
  ``fc00::/7``), link-local (``169.254/16``, ``fe80::/10``), shared/CGNAT (``100.64/10``),
  multicast, reserved, unspecified, documentation or benchmarking space — judging an IPv6
  address that embeds an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
  6to4 ``2002::/16``, Teredo) by the IPv4 address inside it; or when the operator admits
  its network with ``TOUSU_WEBHOOK_ALLOW_NETS`` (e.g. ``10.20.0.0/16`` for an intranet
  receiver);
* it is checked when the webhook is created (the host as written, in any of the numeric
  forms ``inet_aton`` accepts — ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` — and every
  address its name resolves to) and again at every delivery, after resolving the name
  afresh; the delivery then connects to **the address it checked** (:class:`PinnedBackend`),
  never to a second resolution an attacker's DNS could answer differently (rebinding).
  TLS still verifies the certificate for, and sends SNI of, the URL's host name;
* the tenant sees a generic reason in the delivery log (:func:`public_error`), never the
  raw connection error.

Set-time checks come in two forms with one rule: :func:`check_url` (async, the webhook
API) and :func:`check_url_blocking` (a channel type's synchronous ``check``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from core.settings import parse_networks

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NAT64 = ipaddress.ip_network("64:ff9b::/96")
RESOLVE_TIMEOUT = 5.0
"""Seconds a host name may take to resolve, at creation and at delivery."""


class EgressRefused(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach.

    ``reason`` is short and safe to show the tenant (it names the host as they wrote it and
    the kind of address, never what is listening there)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_nets(text: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.1/32, 10.0.0.0/8"`` → networks; raises
    :class:`~core.settings.SettingsError` (a ``ValueError``) naming the variable and the bad
    item — the settings refuse such a value at start, so this only fails on a value that
    did not come through them."""
    return parse_networks(text, "TOUSU_WEBHOOK_ALLOW_NETS")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address
    return None


def kind_of(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a global address (``"loopback"``, ``"private"``…), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            why = kind_of(inner)
            return f"{why} (IPv4 inside IPv6)" if why else None
        if ip.scope_id:
            return "link-local"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
    )
    for name, hit in checks:
        if hit:
            return name
    # is_global is False for what remains special: shared address space (CGNAT 100.64/10),
    # documentation, benchmarking, IETF protocol assignments…
    return None if ip.is_global else "not global"


@dataclass(frozen=True)
class EgressPolicy:
    """Which addresses a webhook may connect to: global ones, plus the operator's nets."""

    allow: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_text(cls, text: str) -> EgressPolicy:
        return cls(parse_nets(text))

    def refusal(self, ip: IPAddress) -> str | None:
        """None when ``ip`` may be reached, else why not."""
        if any(ip.version == net.version and ip in net for net in self.allow):
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            mapped = ip.ipv4_mapped
            if any(net.version == 4 and mapped in net for net in self.allow):
                return None
        return kind_of(ip)

    def check(self, host: str, addresses: Iterable[IPAddress]) -> list[IPAddress]:
        """All of ``addresses`` must be allowed (a name that resolves to one public and one
        private address is refused: which one a connection gets is not ours to choose)."""
        ips = list(addresses)
        if not ips:
            raise EgressRefused(f"主机 {host} 没有可用的地址")
        for ip in ips:
            why = self.refusal(ip)
            if why is not None:
                raise EgressRefused(f"主机 {host} 指向不允许的地址（{why}）")
        return ips


def operator_policy() -> EgressPolicy:
    """The policy for tenant-chosen URLs on this installation: global addresses plus the
    operator's ``TOUSU_WEBHOOK_ALLOW_NETS`` from the settings in force
    (:func:`core.settings.current`; for callers without the app's settings at hand: a
    channel type's ``check`` and ``send``, a plugin's)."""
    from core.settings import current

    return EgressPolicy.from_text(current().webhook_allow_nets)


def literal_ip(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form a resolver would read as an IP literal:
    dotted quad, IPv6 (with or without brackets), and the legacy ``inet_aton`` forms —
    one decimal number, octal or hex parts, fewer than four parts."""
    h = host.strip("[]")
    try:
        return ipaddress.ip_address(h.split("%", 1)[0] if "%" in h else h)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(h))
    except (OSError, UnicodeError, ValueError):
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal to itself), within
    :data:`RESOLVE_TIMEOUT`; raises :class:`EgressRefused` when it does not resolve."""
    literal = literal_ip(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise EgressRefused(f"主机 {host} 无法解析") from exc
    return _addresses(infos)


def _addresses(infos: list[Any]) -> list[IPAddress]:
    """The distinct addresses of ``getaddrinfo``'s answer, in its order (zone ids dropped)."""
    return list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%", 1)[0]) for i in infos))


def _target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL a tenant may set; ``ValueError`` when it is not one."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(str(exc)) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("需要 http(s):// 和主机名")
    if parsed.userinfo:
        raise ValueError("URL 不能包含用户名或密码")
    return parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


async def check_url(url: str, policy: EgressPolicy) -> None:
    """The creation-time check of a tenant's URL: http(s), a host, and only allowed
    addresses behind it. Raises :class:`EgressRefused` (with a reason for the tenant) or
    ``ValueError`` (not a usable URL)."""
    host, port = _target(url)
    policy.check(host, await resolve(host, port))


def check_url_blocking(url: str, policy: EgressPolicy) -> None:
    """:func:`check_url` for synchronous callers (a channel type's ``check``): the same rule,
    the name resolved in a worker thread within :data:`RESOLVE_TIMEOUT`."""
    host, port = _target(url)
    literal = literal_ip(host)
    if literal is not None:
        policy.check(host, [literal])
        return
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as Late

    pool = ThreadPoolExecutor(1)
    try:
        infos = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(
            RESOLVE_TIMEOUT
        )
    except (OSError, Late, UnicodeError) as exc:
        raise EgressRefused(f"主机 {host} 无法解析") from exc
    finally:
        pool.shutdown(wait=False)
    policy.check(host, _addresses(infos))


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves the host once, checks every address with
    the policy, and connects to the checked address itself. The TLS layer above it still
    uses the URL's host name for SNI and certificate verification."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[str] = []
        """Addresses this backend connected to (the delivery log's tests read it)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        ips = self.policy.check(host, await resolve(host, port))
        last: Exception | None = None
        for ip in ips:
            try:
                stream = await self.inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            self.connected.append(str(ip))
            return stream
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("不允许连接本地套接字")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with the pool's network backend swapped for
    :class:`PinnedBackend`; no proxies from the environment (a proxy would resolve the host
    itself), no redirects (the client never follows them), HTTP/1.1."""

    def __init__(self, policy: EgressPolicy, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify, trust_env=False, retries=0)
        self.backend = PinnedBackend(policy)
        # httpx's public helper makes the context httpx would (certifi's roots), instead of
        # reading it back out of the pool httpx built (httpcore's private _ssl_context).
        ssl_context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify, trust_env=False)
        )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=10,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=self.backend,
        )


def client(policy: EgressPolicy, timeout: float) -> httpx.AsyncClient:
    """An HTTP client whose every connection goes through :class:`PinnedTransport`."""
    return httpx.AsyncClient(
        transport=PinnedTransport(policy),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def public_error(exc: BaseException) -> str:
    """What the tenant's delivery log says about a failed POST: the policy's reason, or a
    generic class of failure — never the operating system's error text (which would tell
    which internal ports are open, or echo resolver internals)."""
    if isinstance(exc, EgressRefused):
        return f"地址不允许：{exc.reason}"
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "超时：接收方未在时限内应答"
    if isinstance(exc, (httpx.TransportError, OSError)):
        return "连接失败：无法连接到接收方"
    return "投递失败"
