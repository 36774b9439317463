"""The declarative tenant file (``tenants/<slug>.toml``): schema and validation.

A bad file is rejected with the file, the key and the rule, e.g.
``tenants/x.toml: users[2].department: unknown department 'qa' (declared: ...)``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from core.contract import ROLE_CODES
from core.error_text import fill
from core.errors import N_
from core.plugins import hooks_for, plugin_names
from core.settings import DEFAULT_TIMEZONE

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$")]
DeptCode = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
StaffCode = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Username = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
if TYPE_CHECKING:
    RoleName = str
else:
    RoleName = Literal[ROLE_CODES]  # core.contract.ROLE_CODES: the one list of role codes


class _Strict(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class DepartmentEntry(_Strict, kw_only=True):
    code: DeptCode
    name: Name


class StaffEntry(_Strict, kw_only=True):
    code: StaffCode
    name: Name
    department: DeptCode
    position: Annotated[str, Meta(max_length=200)] = ""


class UserEntry(_Strict, kw_only=True):
    username: Username
    roles: Annotated[list[RoleName], Meta(min_length=1)]
    display_name: Annotated[str, Meta(max_length=200)] = ""
    department: DeptCode | None = None
    staff: StaffCode | None = None
    demo_key: Annotated[str, Meta(min_length=16, max_length=128)] | None = None
    """A demo bearer token; public by nature, for local trial tenants only."""
    password_hash: Annotated[str, Meta(pattern=r"^\$argon2(id|i|d)\$")] | None = None
    """The initial console password as an argon2 PHC string (``tousu users hash-password``
    prints one); applied only while the user has no password, so a password changed later
    (``tousu users passwd``, the console) survives the next sync."""
    demo_password: Annotated[str, Meta(min_length=8, max_length=128)] | None = None
    """A demo console password, printed by ``tousu serve``; public like ``demo_key``, for
    local trial tenants only. Without ``password_hash`` it is hashed on first sync."""


class FineEntry(_Strict, kw_only=True):
    amount: Annotated[float, Meta(ge=0)] | Annotated[int, Meta(ge=0)]
    """Yuan."""
    reason: Annotated[str, Meta(max_length=2000)] = ""
    """Required when the amount lies outside the schedule's range."""


class DeadlineEntry(_Strict, kw_only=True):
    amount: Annotated[int, Meta(ge=1)]
    unit: Literal["minutes", "hours", "calendar_days", "working_days", "months"]


class TenantConfig(_Strict, kw_only=True):
    """Tenant settings. Amounts are yuan; they become versioned fine settings on sync.

    ``deadlines`` keys are ``step`` or ``step.severity`` (e.g. ``reply.major``); each entry
    overrides the plugin's limit for steps started after the sync.
    """

    fines: dict[
        Annotated[str, Meta(max_length=64)],
        Annotated[float, Meta(ge=0)] | Annotated[int, Meta(ge=0)] | FineEntry,
    ] = {}
    carry_over: bool | None = None
    """Fines that do not fit a month's pay carry over (None: the plugin's default)."""
    timezone: Annotated[str, Meta(max_length=64)] = DEFAULT_TIMEZONE
    deadlines: dict[Annotated[str, Meta(max_length=97)], DeadlineEntry] = {}
    working_hours: (
        Annotated[
            list[Annotated[str, Meta(pattern=r"^\d{2}:\d{2}$")]], Meta(min_length=2, max_length=2)
        ]
        | None
    ) = None
    """``["08:30", "17:30"]``: due-soon warnings wait for these hours (tenant time zone)."""
    calendar_fallback: Literal["error", "weekends", "rules"] = "error"
    """What working days mean in a year the holiday library does not know yet."""
    closures: list[dt.date] = []
    """The tenant's own non-working days."""
    extra_workdays: list[dt.date] = []
    """The tenant's own extra working days."""
    on_duty: Annotated[list[Annotated[str, Meta(max_length=150)]], Meta(max_length=200)] = []
    """Usernames on duty out of hours: the most senior of them handles a complaint the duty
    room registers [004 §篇3 二1] (empty: everyone active; see core.flow.duty)."""
    customers: (
        Annotated[int, Meta(ge=1)]
        | dict[Annotated[str, Meta(max_length=7)], Annotated[int, Meta(ge=1)]]
        | None
    ) = None
    """Customer count for 万户投诉比: one number, or per period ``{"2026-11" = 120000}``."""

    attachment_max_mb: Annotated[int, Meta(ge=1, le=200)] | None = None
    """Largest ticket attachment a desk may upload, in MB (None: the core's default, 20;
    ``docs/attachments.md``)."""


class TenantFile(_Strict, kw_only=True):
    slug: Slug
    name: Name
    plugin: Annotated[str, Meta(min_length=1, max_length=64)]
    ticket_prefix: Annotated[str, Meta(pattern=r"^[A-Z]{2,6}$")]
    config: TenantConfig = msgspec.field(default_factory=TenantConfig)
    departments: list[DepartmentEntry] = []
    staff: list[StaffEntry] = []
    users: list[UserEntry] = []


class TenantFileError(ValueError):
    """A tenant file (or ``/api/tenants`` document) breaks a rule at ``key``. ``rule`` is an
    English template (an error catalogue msgid when marked ``N_``) filled from ``params``;
    the API answers it as a 422 in the reader's language (:mod:`core.provisioning.api`)."""

    def __init__(
        self, path: Path | str, key: str, rule: str, params: dict[str, object] | None = None
    ) -> None:
        self.template, self.params = rule, dict(params or {})
        rule = fill(rule, self.params) if self.params else rule
        super().__init__(f"{path}: {key}: {rule}")
        self.path, self.key, self.rule = str(path), key, rule


def _dupes(kind: str, codes: list[str], path: Path) -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            raise TenantFileError(path, f"{kind}[{i}]", f"duplicate code {code!r}")
        seen.add(code)


def parse_tenant_file(path: Path) -> TenantFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TenantFileError(path, "(syntax)", str(exc)) from exc
    try:
        tf = msgspec.convert(raw, TenantFile)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        rule, _, at = msg.partition(" - at `$")
        raise TenantFileError(path, at.rstrip("`").lstrip(".") or "(top level)", rule) from exc
    return validate_references(tf, path)


def validate_references(tf: TenantFile, path: Path) -> TenantFile:
    if tf.plugin not in plugin_names():
        raise TenantFileError(
            path,
            "plugin",
            N_("unknown plugin {plugin} (installed: {installed})"),
            {"plugin": repr(tf.plugin), "installed": ", ".join(plugin_names())},
        )
    _check_fines(tf, path)
    depts = [d.code for d in tf.departments]
    _dupes("departments", depts, path)
    _dupes("staff", [s.code for s in tf.staff], path)
    _dupes("users", [u.username for u in tf.users], path)
    staff_codes = {s.code for s in tf.staff}
    for i, s in enumerate(tf.staff):
        if s.department not in depts:
            raise TenantFileError(
                path,
                f"staff[{i}].department",
                N_("unknown department {department} (declared: {declared})"),
                {"department": repr(s.department), "declared": ", ".join(depts)},
            )
    for i, u in enumerate(tf.users):
        if u.department is not None and u.department not in depts:
            raise TenantFileError(
                path,
                f"users[{i}].department",
                N_("unknown department {department} (declared: {declared})"),
                {"department": repr(u.department), "declared": ", ".join(depts)},
            )
        if u.username == "system":
            raise TenantFileError(
                path, f"users[{i}].username", N_("'system' is reserved for automated actions")
            )
        if u.staff is not None and u.staff not in staff_codes:
            raise TenantFileError(
                path, f"users[{i}].staff", N_("unknown staff code {code}"), {"code": repr(u.staff)}
            )
        if "department_head" in u.roles and u.department is None:
            raise TenantFileError(
                path,
                f"users[{i}].department",
                N_("a department_head must name the department they head"),
            )
        if "staff" in u.roles and u.staff is None:
            raise TenantFileError(
                path, f"users[{i}].staff", N_("a user with role staff must name their staff record")
            )
    return tf


def fine_amounts(tf: TenantFile) -> dict[str, tuple[int, str]]:
    """``config.fines`` as {rule: (fen, reason)}."""
    out = {}
    for rule, entry in tf.config.fines.items():
        amount, reason = (
            (entry.amount, entry.reason) if isinstance(entry, FineEntry) else (entry, "")
        )
        fen = Decimal(str(amount)) * 100
        out[rule] = (int(fen), reason) if fen == fen.to_integral_value() else (-1, reason)
    return out


def _check_fines(tf: TenantFile, path: Path | str) -> None:
    from core.penalties.service import range_text  # the one place ranges are described

    schedule = hooks_for(tf.plugin).penalty_schedule()
    for rule_code, (fen, reason) in fine_amounts(tf).items():
        key = f"config.fines.{rule_code}"
        rule = schedule.rule(rule_code)
        if rule is None:
            raise TenantFileError(
                path,
                key,
                N_("unknown rule (the schedule has: {rules})"),
                {"rules": ", ".join(r.code for r in schedule.rules)},
            )
        if fen < 0:
            raise TenantFileError(path, key, N_("amount must be in whole fen (at most 2 decimals)"))
        if not rule.in_range(fen) and not reason.strip():
            raise TenantFileError(
                path,
                key,
                f"{fen / 100:.2f} yuan is outside "
                f'{range_text(rule)}; give {{ amount = ..., reason = "..." }}',
            )
    severities = {x.code for x in hooks_for(tf.plugin).taxonomy().severities}
    from core.deadlines.service import MAX_AMOUNT
    from core.deadlines.service import STEPS as steps

    for key, entry in tf.config.deadlines.items():
        if entry.amount > MAX_AMOUNT[entry.unit]:
            raise TenantFileError(
                path,
                f"config.deadlines.{key}.amount",
                N_("at most {n} {unit}"),
                {"n": MAX_AMOUNT[entry.unit], "unit": entry.unit},
            )
        step, _, severity = key.partition(".")
        if step not in steps:
            raise TenantFileError(
                path,
                f"config.deadlines.{key}",
                N_("unknown step {step} (steps: {steps})"),
                {"step": repr(step), "steps": ", ".join(steps)},
            )
        if severity and severity not in severities:
            raise TenantFileError(
                path,
                f"config.deadlines.{key}",
                N_("unknown severity {severity} (the plugin has: {severities})"),
                {"severity": repr(severity), "severities": ", ".join(sorted(severities))},
            )
    if tf.config.working_hours and tf.config.working_hours[0] >= tf.config.working_hours[1]:
        raise TenantFileError(path, "config.working_hours", N_("start must be before end"))
    both = set(tf.config.closures) & set(tf.config.extra_workdays)
    if both:
        raise TenantFileError(
            path,
            "config.closures",
            N_("{day} is both a closure and an extra working day"),
            {"day": min(both)},
        )
    try:
        ZoneInfo(tf.config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TenantFileError(path, "config.timezone", N_("unknown IANA time zone")) from exc


def load_dir(directory: Path) -> list[tuple[Path, TenantFile]]:
    files = sorted(directory.glob("*.toml"))
    out = [(p, parse_tenant_file(p)) for p in files]
    slugs: dict[str, Path] = {}
    keys: dict[str, Path] = {}
    for p, tf in out:
        if tf.slug in slugs:
            raise TenantFileError(p, "slug", f"slug {tf.slug!r} is also used by {slugs[tf.slug]}")
        slugs[tf.slug] = p
        for i, u in enumerate(tf.users):
            if u.demo_key is not None:
                if u.demo_key in keys:
                    raise TenantFileError(p, f"users[{i}].demo_key", "demo key used twice")
                keys[u.demo_key] = p
    return out
