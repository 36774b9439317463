"""Channel types: how a message leaves the system.

A channel type (:class:`core.channel_types.ChannelType`) turns one
:class:`~core.channel_types.Outgoing` message into an email, an SMS, a chat message…
The core ships two: ``smtp`` (email through the platform's SMTP relay, aiosmtplib) and
``http-sms`` (the reference SMS gateway: a JSON POST). A plugin adds others by returning
such objects from the ``tousu_notification_channels`` hook
(:mod:`core.hookspecs`, ``docs/plugins.md``). A tenant admin names channels of these types
in ``PUT /api/config/notifications``, each with its own settings.

``send`` raises :class:`~core.channel_types.ChannelError` (with a one-line reason that
never contains the message text or the recipient) when the message was not accepted; the
caller retries.
"""

from __future__ import annotations

import re
from typing import Any

from core.channel_types import ChannelError, ChannelType, Outgoing
from core.rules import Problem
from core.settings import current

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{2,}$")
MOBILE = re.compile(r"^\+?(86)?1[3-9][0-9]{9}$")


def valid_address(kind: str, value: str) -> bool:
    return bool((EMAIL if kind == "email" else MOBILE).fullmatch(value.replace(" ", "")))


# -- smtp ----------------------------------------------------------------------------------


def _check_smtp(settings: dict[str, Any]) -> list[Problem]:
    problems = []
    sender = settings.get("from", "")
    if sender and not EMAIL.fullmatch(str(sender)):
        problems.append(Problem(field="from", rule="an email address, e.g. tousu@example.cn"))
    if not current().smtp_host:
        problems.append(Problem(field="type", rule="smtp needs the platform's TOUSU_SMTP_HOST set"))
    return problems


async def _send_smtp(settings: dict[str, Any], message: Outgoing) -> None:
    """Email through the platform's relay (``TOUSU_SMTP_*`` of the settings in force,
    :func:`core.settings.current`); the tenant picks the sender."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    import aiosmtplib

    config = current()
    email = EmailMessage()
    email["From"] = settings.get("from") or config.smtp_from
    email["To"] = message.to
    email["Subject"] = message.subject
    # Stable across retries, so a receiving system can drop a duplicate.
    email["Message-ID"] = make_msgid(idstring=message.key.replace(":", "."), domain="tousu")
    email.set_content(message.body)
    try:
        await aiosmtplib.send(
            email,
            hostname=config.smtp_host,
            port=config.smtp_port,
            username=config.smtp_username or None,
            password=config.smtp_password or None,
            start_tls=config.smtp_starttls,
            timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"smtp: {type(exc).__name__}: {_first_line(exc)}") from exc


SMTP = ChannelType(name="smtp", address="email", check=_check_smtp, send=_send_smtp)


# -- http-sms ------------------------------------------------------------------------------


def _egress() -> Any:
    """The one egress rule for tenant-chosen URLs (:mod:`core.egress`), with the operator's
    admitted networks (``TOUSU_WEBHOOK_ALLOW_NETS``)."""
    from core.egress import operator_policy

    return operator_policy()


def _check_http_sms(settings: dict[str, Any]) -> list[Problem]:
    from core.egress import EgressRefused, check_url_blocking

    url = str(settings.get("url", ""))
    problems = []
    if not re.match(r"^https?://[^\s/]+", url) or len(url) > 500:
        problems.append(Problem(field="url", rule="the gateway's http(s) URL"))
    else:
        try:  # the gateway gets the complainant's phone and text: no SSRF (issue 21 item 4)
            check_url_blocking(url, _egress())
        except ValueError:
            problems.append(Problem(field="url", rule="the gateway's http(s) URL"))
        except EgressRefused as exc:
            problems.append(Problem(field="url", rule=f"a global address: {exc.reason}"))
    token = settings.get("token", "")
    if not isinstance(token, str) or len(token) > 500:
        problems.append(Problem(field="token", rule="a string of at most 500 characters"))
    return problems


async def _send_http_sms(settings: dict[str, Any], message: Outgoing) -> None:
    """POST ``{"to", "text", "id"}`` as JSON to the gateway with ``Authorization: Bearer
    <token>`` and ``Idempotency-Key: <id>``; any 2xx is accepted."""
    import httpx

    from core.egress import EgressRefused, client, public_error

    headers = {"Idempotency-Key": message.key}
    if settings.get("token"):
        headers["Authorization"] = f"Bearer {settings['token']}"
    body = {"to": message.to, "text": message.body, "id": message.key}
    try:  # pinned to the address the egress rule checked, at send time too
        async with client(_egress(), timeout=10) as http:
            response = await http.post(str(settings["url"]), json=body, headers=headers)
    except (EgressRefused, httpx.HTTPError, OSError) as exc:  # a generic class of failure,
        raise ChannelError(f"http-sms: {public_error(exc)}") from exc  # never the OS's text
    if not 200 <= response.status_code < 300:
        raise ChannelError(f"http-sms: gateway answered {response.status_code}")


HTTP_SMS = ChannelType(
    name="http-sms",
    address="phone",
    check=_check_http_sms,
    send=_send_http_sms,
    secrets=frozenset({"token"}),
)

BUILT_IN = (SMTP, HTTP_SMS)


def channel_types() -> dict[str, ChannelType]:
    """Built-in channel types and every installed plugin's, by name."""
    from core.plugins import manager

    found = {c.name: c for c in BUILT_IN}
    for result in manager().hook.tousu_notification_channels():
        for channel in result or []:
            found.setdefault(channel.name, channel)
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
