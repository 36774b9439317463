"""The roles of domain §7 and the groups of them the core's rules refer to."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from core.contract import ROLES


class Role(StrEnum):
    CLERK = "clerk"  # 接待员/客服
    SUPERVISOR = "supervisor"  # 客服主管/班长
    DEPARTMENT_HEAD = "department_head"  # 被投诉部门负责人
    MANAGER = "manager"  # 主管经理 / 管理处负责人 / 营销部
    GENERAL_MANAGER = "general_manager"  # 总经理
    INSPECTOR = "inspector"  # 纪检监察
    STAFF = "staff"  # the staff member complained about
    TENANT_ADMIN = "tenant_admin"
    PLATFORM_OPERATOR = "platform_operator"


ROLE_LABELS: dict[str, str] = {
    Role.CLERK: "接待员",
    Role.SUPERVISOR: "客服主管",
    Role.DEPARTMENT_HEAD: "部门负责人",
    Role.MANAGER: "主管经理",
    Role.GENERAL_MANAGER: "总经理",
    Role.INSPECTOR: "纪检监察",
    Role.STAFF: "员工",
    Role.TENANT_ADMIN: "租户管理员",
    Role.PLATFORM_OPERATOR: "平台运营方",
}
"""Chinese names of the roles, for messages people read (domain §7)."""


def role_code(role: object) -> str:
    """A role as its plain code (``manager``), whether given as :class:`Role` or text."""
    return role.value if isinstance(role, Role) else str(role)


def role_text(role: object) -> str:
    """``主管经理(manager)``: the Chinese label with the code (the code alone if unknown)."""
    code = role_code(role)
    label = ROLE_LABELS.get(code)
    return f"{label}({code})" if label else code


def roles_text(roles: Iterable[object]) -> str:
    """Roles for a message, sorted: ``总经理(general_manager)、主管经理(manager)``."""
    return "、".join(role_text(r) for r in sorted({role_code(r) for r in roles}))


TENANT_ROLES = ROLES
"""Every role but ``platform_operator``: :data:`core.contract.ROLES`, the one list."""
if {r.value for r in Role} - {Role.PLATFORM_OPERATOR} != ROLES:  # an enum must name its members
    raise ImportError("core.people.roles.Role differs from core.contract.ROLES")

DESK = frozenset({Role.CLERK, Role.SUPERVISOR})
MANAGEMENT = frozenset({Role.MANAGER, Role.GENERAL_MANAGER})

# Who reads every ticket of the tenant (domain §7: forms are read by authority level).
READ_ALL = DESK | MANAGEMENT | {Role.TENANT_ADMIN}

# Who sees the complainant's name and contact: the desk roles that follow up, the handling
# department that must contact the complainant, management, discipline inspection. Never the
# staff member complained about (domain §7, [002 《供电局客户投诉举报管理办法》第二条]).
SEES_COMPLAINANT = DESK | MANAGEMENT | {Role.DEPARTMENT_HEAD, Role.INSPECTOR}
