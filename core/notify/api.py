"""HTTP routes: the tenant's channels and complainant messages, each user's choices, and
the delivery log a tenant admin watches (failures included, with a retry)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Invalid, NotFound
from core.notify import kinds, outbound, templates
from core.notify.channels import EMAIL, MOBILE, channel_types
from core.notify.models import NotificationPreference, NotificationSettings, OutboundMessage
from core.people.guards import requires, tenant_member
from core.people.roles import Role
from core.people.web import database, principal

TAGS = ["notifications"]
ADMIN = [tenant_member, requires(Role.TENANT_ADMIN)]
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
async def get_config(request: Request[Any, Any, Any]) -> NotificationConfigOut:
    """The tenant's channels (secrets masked) and what complainants are told."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        return _config_out(await scope.scalar(select(NotificationSettings)))


@put("/api/config/notifications", operation_id="putNotificationConfig", tags=TAGS, guards=ADMIN)
async def put_config(
    request: Request[Any, Any, Any], data: JSONBody[NotificationConfigIn]
) -> NotificationConfigOut:
    """Set the tenant's channels and the complainant's messages (tenant admin).

    422 naming the field for an unknown channel type, bad channel settings (the type's own
    check), a complainant channel that is not configured or cannot reach a phone, or a
    template with an unknown placeholder. A secret sent back as ``***`` keeps its value."""
    p = principal(request)
    types = channel_types()
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        row = await scope.scalar(select(NotificationSettings))
        old = row.channels if row else {}
        channels: dict[str, dict[str, Any]] = {}
        for name, settings in data.channels.items():
            kind = types.get(str(settings.get("type")))
            if kind is None:
                raise Invalid(
                    f"渠道 {name} 的类型 {settings.get('type')!r} 不存在",
                    field=f"channels.{name}.type",
                    rule="one of " + ", ".join(sorted(types)),
                )
            merged = dict(settings)
            for secret in kind.secrets:  # "***" from a GET: keep what was stored
                if merged.get(secret) == MASKED:
                    merged[secret] = old.get(name, {}).get(secret, "")
            for problem in kind.check(merged):
                raise Invalid(
                    f"渠道 {name} 的设置 {problem.field} 不正确",
                    field=f"channels.{name}.{problem.field}",
                    rule=problem.rule,
                )
            channels[name] = merged
        wanted = data.complainant
        if wanted.events and wanted.channel is None:
            raise Invalid(
                "告知投诉人需要指定渠道", field="complainant.channel", rule="a configured channel"
            )
        if wanted.channel is not None:
            chosen = channels.get(wanted.channel)
            if chosen is None:
                raise Invalid(
                    f"渠道 {wanted.channel} 未配置",
                    field="complainant.channel",
                    rule="one of the channels above",
                )
            if types[chosen["type"]].address != "phone":
                raise Invalid(
                    f"渠道 {wanted.channel} 不能发送短信",
                    field="complainant.channel",
                    rule="a channel that reaches a phone (complainants leave a phone number)",
                )
        for event, text in wanted.templates.items():
            for problem in templates.problems(text):
                raise Invalid(
                    f"模板 {event} 不正确：{problem}",
                    field=f"complainant.templates.{event}",
                    rule=problem,
                )
        complainant = msgspec.to_builtins(wanted)
        if row is None:
            row = NotificationSettings(channels=channels, complainant=complainant)
            scope.add(row)
        else:
            row.channels, row.complainant = channels, complainant
        row.updated_at, row.updated_by = utcnow(), p.user_id
        scope.add(
            AuditEvent(
                actor=f"user:{p.user_id}",
                action="notifications.configure",
                entity="tenant",
                entity_key=p.tenant_slug or "",
                payload={"channels": _masked(channels), "complainant": complainant},
            )
        )
        await scope.flush()
        return _config_out(row)


async def _channel_addresses(scope: Any) -> dict[str, str]:
    row = await scope.scalar(select(NotificationSettings))
    types = channel_types()
    return {
        name: types[c["type"]].address
        for name, c in (row.channels if row else {}).items()
        if c.get("type") in types
    }


@get(
    "/api/me/notifications",
    operation_id="getMyNotificationChoices",
    tags=TAGS,
    guards=[tenant_member],
)
async def get_preferences(request: Request[Any, Any, Any]) -> PreferencesOut:
    """The caller's addresses and, per kind of notification, the channels to use."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        row = await scope.scalar(
            select(NotificationPreference).where(NotificationPreference.user_id == p.user_id)
        )
        return PreferencesOut(
            email=row.email if row else "",
            phone=row.phone if row else "",
            kinds=row.kinds if row else {},
            language=row.language if row else kinds.ZH,
            channels=await _channel_addresses(scope),
        )


@put(
    "/api/me/notifications",
    operation_id="putMyNotificationChoices",
    tags=TAGS,
    guards=[tenant_member],
)
async def put_preferences(
    request: Request[Any, Any, Any], data: JSONBody[PreferencesIn]
) -> PreferencesOut:
    """Choose channels per kind of notification (in-app notifications always arrive too).

    422 naming the field for a bad email or mobile number, an unknown kind, a channel the
    tenant has not configured, or a channel whose address (email/phone) is missing."""
    p = principal(request)
    email, phone = data.email.strip(), re.sub(r"[\s-]", "", data.phone)
    if email and not EMAIL.fullmatch(email):
        raise Invalid("邮箱地址格式不正确", field="email", rule="an email address")
    if phone and not MOBILE.fullmatch(phone):
        raise Invalid("手机号码格式不正确", field="phone", rule="a mainland mobile number")
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        addresses = await _channel_addresses(scope)
        for kind, names in data.kinds.items():
            if kind not in KINDS:
                raise Invalid(
                    f"通知类型 {kind} 不存在",
                    field=f"kinds.{kind}",
                    rule="one of " + ", ".join(KINDS),
                )
            for name in names:
                if name not in addresses:
                    raise Invalid(
                        f"渠道 {name} 未配置",
                        field=f"kinds.{kind}",
                        rule="channels: " + (", ".join(sorted(addresses)) or "none configured"),
                    )
                if not {"email": email, "phone": phone}.get(addresses[name]):
                    raise Invalid(
                        f"渠道 {name} 需要{'邮箱' if addresses[name] == 'email' else '手机号码'}",
                        field=addresses[name],
                        rule=f"required by channel {name}",
                    )
        row = await scope.scalar(
            select(NotificationPreference).where(NotificationPreference.user_id == p.user_id)
        )
        if row is None:
            row = NotificationPreference(user_id=p.user_id)
            scope.add(row)
        row.email, row.phone, row.kinds = email, phone, {k: list(v) for k, v in data.kinds.items()}
        row.language = data.language
        await scope.flush()
        return PreferencesOut(
            email=email, phone=phone, kinds=row.kinds, language=row.language, channels=addresses
        )


def _out(row: OutboundMessage) -> OutboundOut:
    return OutboundOut(
        id=row.id,
        channel=row.channel,
        audience=row.audience,
        kind=row.kind,
        ticket_id=row.ticket_id,
        recipient=_mask_address(row.recipient),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if row.status in ("pending", "sending") else None,
        sent_at=row.sent_at,
    )


@get("/api/notifications/outbound", operation_id="listOutbound", tags=TAGS, guards=ADMIN)
async def list_outbound(
    request: Request[Any, Any, Any],
    status: FromQuery[Literal["pending", "sending", "sent", "failed"] | None] = None,
    limit: FromQuery[Annotated[int, Meta(ge=1, le=500)]] = 100,
) -> list[OutboundOut]:
    """The tenant's email/SMS delivery log, newest first (``status=failed``: what needs
    attention). Recipients are masked."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        q = select(OutboundMessage)
        if status:
            q = q.where(OutboundMessage.status == status)
        rows = await scope.scalars(q.order_by(OutboundMessage.id.desc()).limit(limit))
        return [_out(r) for r in rows]


@post(
    "/api/notifications/outbound/{message_id:int}/retry",
    operation_id="retryOutbound",
    tags=TAGS,
    guards=ADMIN,
    status_code=200,
)
async def retry_outbound(request: Request[Any, Any, Any], message_id: FromPath[int]) -> OutboundOut:
    """Send a failed message again now, with a fresh set of attempts."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        row = await outbound.retry(scope, message_id)
        if row is None:
            raise NotFound(f"消息 {message_id} 不存在", field="message_id")
        scope.add(
            AuditEvent(
                actor=f"user:{p.user_id}",
                action="notifications.retry",
                entity="outbound_message",
                entity_key=str(message_id),
                payload={},
            )
        )
        await scope.flush()
        return _out(row)


ROUTES = [get_config, put_config, get_preferences, put_preferences, list_outbound, retry_outbound]
