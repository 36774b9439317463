"""HTTP routes: the tenant's channels and complainant messages, each user's choices, and
the delivery log a tenant admin watches (failures included, with a retry)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import select

from core.audit import AuditEvent
from core.context import PrincipalDep, TenantScopeDep
from core.db import TenantScope, utcnow
from core.errors import N_, Invalid, NotFound
from core.notify import kinds, outbound, templates
from core.notify.channels import EMAIL, MOBILE, channel_types
from core.notify.models import NotificationPreference, NotificationSettings, OutboundMessage
from core.people.guards import requires
from core.people.roles import Role

TAGS = ["notifications"]
ADMIN = [requires(Role.TENANT_ADMIN)]
ChannelName = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
SettingName = Annotated[str, Meta(max_length=64)]
"""A key inside a channel's settings or a kind of notification."""
Event = Literal["received", "answered", "followed_up"]
KINDS = kinds.CHOICES
"""Kinds of staff notification (:mod:`core.notify.kinds`; ``*``: any kind without a choice
of its own)."""
Language = Literal["zh_CN", "en"]
MASKED = "***"


class ComplainantConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    channel: ChannelName | None = None
    """The channel complainants are told on (a ``phone`` channel such as ``http-sms``)."""
    events: list[Event] = []
    templates: dict[Event, Annotated[str, Meta(max_length=templates.MAX_LENGTH)]] = {}
    """Per event; an event without one uses the default text (``defaults`` in GET)."""


class NotificationConfigIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    channels: dict[ChannelName, dict[SettingName, Any]] = {}
    """name → ``{"type": "smtp" | "http-sms" | a plugin's type, ...its settings}``."""
    complainant: ComplainantConfig = msgspec.field(default_factory=ComplainantConfig)


class ChannelTypeOut(msgspec.Struct, kw_only=True):
    name: str
    address: str


class NotificationConfigOut(msgspec.Struct, kw_only=True):
    channels: dict[str, dict[str, Any]]
    complainant: dict[str, Any]
    channel_types: list[ChannelTypeOut]
    placeholders: dict[str, str]
    defaults: dict[str, str]
    kinds: list[str]


class PreferencesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, Meta(max_length=254)] = ""
    phone: Annotated[str, Meta(max_length=32)] = ""
    kinds: dict[SettingName, list[ChannelName]] = {}
    """kind of notification (or ``*``) → the channels to use, by name."""
    language: Language = "zh_CN"
    """The language e-mail and SMS notices are written in."""


class PreferencesOut(msgspec.Struct, kw_only=True):
    email: str
    phone: str
    kinds: dict[str, list[str]]
    language: str
    channels: dict[str, str]
    """The tenant's channels: name → address they need (``email`` or ``phone``)."""


class OutboundOut(msgspec.Struct, kw_only=True):
    id: int
    channel: str
    audience: str
    kind: str
    ticket_id: int | None
    recipient: str
    """Masked, e.g. ``138****5678``."""
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None


def _mask_address(value: str) -> str:
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{value[:3]}****{value[-4:]}" if len(value) >= 8 else MASKED


def _masked(channels: dict[str, Any]) -> dict[str, dict[str, Any]]:
    types = channel_types()
    out = {}
    for name, settings in channels.items():
        secret = types[settings["type"]].secrets if settings.get("type") in types else set()
        out[name] = {k: (MASKED if k in secret and v else v) for k, v in settings.items()}
    return out


def _config_out(row: NotificationSettings | None) -> NotificationConfigOut:
    return NotificationConfigOut(
        channels=_masked(row.channels if row else {}),
        complainant=(row.complainant if row else {}) or {"channel": None, "events": []},
        channel_types=[
            ChannelTypeOut(name=c.name, address=c.address) for c in channel_types().values()
        ],
        placeholders=templates.PLACEHOLDERS,
        defaults=templates.DEFAULTS,
        kinds=list(KINDS),
    )


@get("/api/config/notifications", operation_id="getNotificationConfig", tags=TAGS, guards=ADMIN)
async def get_config(tenant: TenantScopeDep) -> NotificationConfigOut:
    """The tenant's channels (secrets masked) and what complainants are told."""
    return _config_out(await tenant.scalar(select(NotificationSettings)))


@put("/api/config/notifications", operation_id="putNotificationConfig", tags=TAGS, guards=ADMIN)
async def put_config(
    tenant: TenantScopeDep, principal: PrincipalDep, data: JSONBody[NotificationConfigIn]
) -> NotificationConfigOut:
    """Set the tenant's channels and the complainant's messages (tenant admin).

    422 naming the field for an unknown channel type, bad channel settings (the type's own
    check), a complainant channel that is not configured or cannot reach a phone, or a
    template with an unknown placeholder. A secret sent back as ``***`` keeps its value."""
    types = channel_types()
    row = await tenant.scalar(select(NotificationSettings))
    old = row.channels if row else {}
    channels: dict[str, dict[str, Any]] = {}
    for name, settings in data.channels.items():
        kind = types.get(str(settings.get("type")))
        if kind is None:
            raise Invalid(
                "channel {name}: unknown type {type}",
                field=f"channels.{name}.type",
                rule="one of " + ", ".join(sorted(types)),
                params={"name": name, "type": repr(settings.get("type"))},
            )
        merged = dict(settings)
        for secret in kind.secrets:  # "***" from a GET: keep what was stored
            if merged.get(secret) == MASKED:
                merged[secret] = old.get(name, {}).get(secret, "")
        for problem in kind.check(merged):
            raise Invalid(
                "channel {name}: setting {setting} is not valid",
                field=f"channels.{name}.{problem.field}",
                rule=problem.rule,
                params={"name": name, "setting": problem.field},
            )
        channels[name] = merged
    wanted = data.complainant
    if wanted.events and wanted.channel is None:
        raise Invalid(
            "telling complainants needs a channel",
            field="complainant.channel",
            rule="a configured channel",
        )
    if wanted.channel is not None:
        chosen = channels.get(wanted.channel)
        if chosen is None:
            raise Invalid(
                "channel {name} is not configured",
                field="complainant.channel",
                rule="one of the channels above",
                params={"name": wanted.channel},
            )
        if types[chosen["type"]].address != "phone":
            raise Invalid(
                "channel {name} cannot send SMS",
                field="complainant.channel",
                rule="a channel that reaches a phone (complainants leave a phone number)",
                params={"name": wanted.channel},
            )
    for event, text in wanted.templates.items():
        for problem in templates.problems(text):
            raise Invalid(
                "template {event} is not valid: {problem}",
                field=f"complainant.templates.{event}",
                rule=problem,
                params={"event": event, "problem": problem},
            )
    complainant = msgspec.to_builtins(wanted)
    if row is None:
        row = NotificationSettings(channels=channels, complainant=complainant)
        tenant.add(row)
    else:
        row.channels, row.complainant = channels, complainant
    row.updated_at, row.updated_by = utcnow(), principal.user_id
    tenant.add(
        AuditEvent(
            actor=f"user:{principal.user_id}",
            action="notifications.configure",
            entity="tenant",
            entity_key=principal.tenant_slug or "",
            payload={"channels": _masked(channels), "complainant": complainant},
        )
    )
    await tenant.flush()
    return _config_out(row)


async def _channel_addresses(scope: TenantScope) -> dict[str, str]:
    row = await scope.scalar(select(NotificationSettings))
    types = channel_types()
    return {
        name: types[c["type"]].address
        for name, c in (row.channels if row else {}).items()
        if c.get("type") in types
    }


async def _preference(scope: TenantScope, user_id: int) -> NotificationPreference | None:
    return await scope.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )


@get(
    "/api/me/notifications",
    operation_id="getMyNotificationChoices",
    tags=TAGS,
)
async def get_preferences(tenant: TenantScopeDep, principal: PrincipalDep) -> PreferencesOut:
    """The caller's addresses and, per kind of notification, the channels to use."""
    row = await _preference(tenant, principal.user_id)
    return PreferencesOut(
        email=row.email if row else "",
        phone=row.phone if row else "",
        kinds=row.kinds if row else {},
        language=row.language if row else kinds.ZH,
        channels=await _channel_addresses(tenant),
    )


@put(
    "/api/me/notifications",
    operation_id="putMyNotificationChoices",
    tags=TAGS,
)
async def put_preferences(
    tenant: TenantScopeDep, principal: PrincipalDep, data: JSONBody[PreferencesIn]
) -> PreferencesOut:
    """Choose channels per kind of notification (in-app notifications always arrive too).

    422 naming the field for a bad email or mobile number, an unknown kind, a channel the
    tenant has not configured, or a channel whose address (email/phone) is missing."""
    email, phone = data.email.strip(), re.sub(r"[\s-]", "", data.phone)
    if email and not EMAIL.fullmatch(email):
        raise Invalid("not a valid email address", field="email", rule="an email address")
    if phone and not MOBILE.fullmatch(phone):
        raise Invalid("not a valid mobile number", field="phone", rule="a mainland mobile number")
    addresses = await _channel_addresses(tenant)
    for kind, names in data.kinds.items():
        if kind not in KINDS:
            raise Invalid(
                "no kind of notification {kind}",
                field=f"kinds.{kind}",
                rule="one of " + ", ".join(KINDS),
                params={"kind": kind},
            )
        for name in names:
            if name not in addresses:
                raise Invalid(
                    "channel {name} is not configured",
                    field=f"kinds.{kind}",
                    rule="channels: " + (", ".join(sorted(addresses)) or "none configured"),
                    params={"name": name},
                )
            if not {"email": email, "phone": phone}.get(addresses[name]):
                raise Invalid(
                    NEEDS_ADDRESS[addresses[name]],
                    field=addresses[name],
                    rule=f"required by channel {name}",
                    params={"name": name},
                )
    row = await _preference(tenant, principal.user_id)
    if row is None:
        row = NotificationPreference(user_id=principal.user_id)
        tenant.add(row)
    row.email, row.phone, row.kinds = email, phone, {k: list(v) for k, v in data.kinds.items()}
    row.language = data.language
    await tenant.flush()
    return PreferencesOut(
        email=email, phone=phone, kinds=row.kinds, language=row.language, channels=addresses
    )


NEEDS_ADDRESS = {
    "email": N_("channel {name} needs an email address"),
    "phone": N_("channel {name} needs a mobile number"),
}
"""The address a channel sends to, missing from the caller's choices."""


def _out(row: OutboundMessage) -> OutboundOut:
    """The row with its recipient masked and a next attempt only while one is due."""
    return msgspec.structs.replace(
        msgspec.convert(row, OutboundOut, from_attributes=True),
        recipient=_mask_address(row.recipient),
        next_attempt_at=row.next_attempt_at if row.status in ("pending", "sending") else None,
    )


@get("/api/notifications/outbound", operation_id="listOutbound", tags=TAGS, guards=ADMIN)
async def list_outbound(
    tenant: TenantScopeDep,
    status: FromQuery[Literal["pending", "sending", "sent", "failed"] | None] = None,
    limit: FromQuery[Annotated[int, Meta(ge=1, le=500)]] = 100,
) -> list[OutboundOut]:
    """The tenant's email/SMS delivery log, newest first (``status=failed``: what needs
    attention). Recipients are masked."""
    q = select(OutboundMessage)
    if status:
        q = q.where(OutboundMessage.status == status)
    rows = await tenant.scalars(q.order_by(OutboundMessage.id.desc()).limit(limit))
    return [_out(r) for r in rows]


@post(
    "/api/notifications/outbound/{message_id:int}/retry",
    operation_id="retryOutbound",
    tags=TAGS,
    guards=ADMIN,
    status_code=200,
)
async def retry_outbound(
    tenant: TenantScopeDep, principal: PrincipalDep, message_id: FromPath[int]
) -> OutboundOut:
    """Send a failed message again now, with a fresh set of attempts."""
    row = await outbound.retry(tenant, message_id)
    if row is None:
        raise NotFound("message {id} not found", field="message_id", params={"id": message_id})
    tenant.add(
        AuditEvent(
            actor=f"user:{principal.user_id}",
            action="notifications.retry",
            entity="outbound_message",
            entity_key=str(message_id),
            payload={},
        )
    )
    await tenant.flush()
    return _out(row)


ROUTES = [get_config, put_config, get_preferences, put_preferences, list_outbound, retry_outbound]
