"""The roles of domain §7 and the groups of them the core's rules refer to."""

from __future__ import annotations

from enum import StrEnum


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


TENANT_ROLES = frozenset(r.value for r in Role if r is not Role.PLATFORM_OPERATOR)

DESK = frozenset({Role.CLERK, Role.SUPERVISOR})
MANAGEMENT = frozenset({Role.MANAGER, Role.GENERAL_MANAGER})

# Who reads every ticket of the tenant (domain §7: forms are read by authority level).
READ_ALL = DESK | MANAGEMENT | {Role.TENANT_ADMIN}

# Who sees the complainant's name and contact: the desk roles that follow up, the handling
# department that must contact the complainant, management, discipline inspection. Never the
# staff member complained about (domain §7, [002 《供电局客户投诉举报管理办法》第二条]).
SEES_COMPLAINANT = DESK | MANAGEMENT | {Role.DEPARTMENT_HEAD, Role.INSPECTOR}
