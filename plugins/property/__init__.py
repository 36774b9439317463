"""The property-management (物业公司) industry plugin.

Covers complaints to a property-management company about office and residential buildings:
classification by nature (有效投诉 / 沟通性投诉: 求助型, 咨询型, 发泄型) [000 §篇1 1(1)], by
content (设备, 服务态度, 服务质量, 突发性事件) [000 §篇1 1(2)] and by the service areas
complaints concentrate on (工程设施检修维护和运行, 停车场管理, 安防控制, 园艺绿化及环境卫生,
财务管理) [004 §篇1 3]; severity 重大 > 重要 > 轻微 [000 §篇1 4(4)2]; who may close a major
complaint [000 §篇1 5(5)2]. Grades: the seeds penalise by offence tier [000 §篇7 六], so the
grade only records whether the person was responsible (see :mod:`plugins.property.taxonomy`).
"""

from __future__ import annotations

from core import Taxonomy, hookimpl
from plugins.property.taxonomy import TAXONOMY

__all__ = ["TAXONOMY", "tousu_close_roles", "tousu_taxonomy"]

MAJOR_CLOSE_ROLES: tuple[str, ...] = ("manager", "general_manager")
"""重大事项在处理完毕后, 经请示管理处负责人同意后才可以销项 [000 §篇1 5(5)2①e]: the head of
the management office (管理处负责人) maps to the core role ``manager``; the general manager,
who receives major complaints the same day [000 §篇1 4(4)3②], may close them too."""


@hookimpl
def tousu_taxonomy() -> Taxonomy:
    return TAXONOMY


@hookimpl
def tousu_close_roles(severity: str | None) -> list[str] | None:
    """Only the head of the management office (or the general manager) closes a major ticket;
    other severities keep the core default."""
    if severity == "major":
        return list(MAJOR_CLOSE_ROLES)
    return None
