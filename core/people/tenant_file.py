"""The declarative tenant file (``tenants/<slug>.toml``): schema and validation.

A bad file is rejected with the file, the key and the rule, e.g.
``tenants/x.toml: users[2].department: unknown department 'qa' (declared: ...)``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.plugins import plugin_names

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$")]
DeptCode = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
StaffCode = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Username = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
RoleName = Literal[
    "clerk",
    "supervisor",
    "department_head",
    "manager",
    "general_manager",
    "inspector",
    "staff",
    "tenant_admin",
]


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


class TenantFile(_Strict, kw_only=True):
    slug: Slug
    name: Name
    plugin: Annotated[str, Meta(min_length=1, max_length=64)]
    ticket_prefix: Annotated[str, Meta(pattern=r"^[A-Z]{2,6}$")]
    config: dict[str, Any] = {}
    departments: list[DepartmentEntry] = []
    staff: list[StaffEntry] = []
    users: list[UserEntry] = []


class TenantFileError(ValueError):
    def __init__(self, path: Path | str, key: str, rule: str) -> None:
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
            path, "plugin", f"unknown plugin {tf.plugin!r} (installed: {', '.join(plugin_names())})"
        )
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
                f"unknown department {s.department!r} (declared: {', '.join(depts)})",
            )
    for i, u in enumerate(tf.users):
        if u.department is not None and u.department not in depts:
            raise TenantFileError(
                path,
                f"users[{i}].department",
                f"unknown department {u.department!r} (declared: {', '.join(depts)})",
            )
        if u.staff is not None and u.staff not in staff_codes:
            raise TenantFileError(path, f"users[{i}].staff", f"unknown staff code {u.staff!r}")
        if "department_head" in u.roles and u.department is None:
            raise TenantFileError(
                path,
                f"users[{i}].department",
                "a department_head must name the department they head",
            )
        if "staff" in u.roles and u.staff is None:
            raise TenantFileError(
                path, f"users[{i}].staff", "a user with role staff must name their staff record"
            )
    return tf


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
