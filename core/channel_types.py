"""What a notification channel type is: the values a plugin's ``tousu_notification_channels``
hook returns (:mod:`core.hookspecs`, ``docs/plugins.md``) and the message it is handed.

Kernel, beside :mod:`core.rules`: the hook's contract names these types, so they live below
every area; :mod:`core.notify.channels` holds the built-in types and the registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.rules import Problem


class ChannelError(Exception):
    """The channel did not accept the message (the reason is safe to log and show)."""


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """One message for one recipient. ``key`` is stable across retries: channels pass it
    on (``Idempotency-Key``, ``Message-ID``) so a retried send is recognised."""

    key: str
    to: str
    subject: str
    body: str


@dataclass(frozen=True, kw_only=True)
class ChannelType:
    """A kind of channel.

    * ``name`` — the ``type`` a tenant writes in its channel settings, e.g. ``"http-sms"``.
    * ``address`` — which address of a person it needs: ``"email"`` or ``"phone"``.
    * ``check(settings)`` — problems with a tenant's settings (``Problem(field, rule)``);
      empty when they are usable. Secrets in settings are fields named in ``secrets``.
    * ``send(settings, message)`` — deliver, or raise :class:`ChannelError`.
    """

    name: str
    address: str
    check: Callable[[dict[str, Any]], list[Problem]]
    send: Callable[[dict[str, Any], Outgoing], Awaitable[None]]
    secrets: frozenset[str] = field(default_factory=frozenset)
