"""The bus-operator (公交公司) industry plugin.

Covers passengers' complaints about bus staff and service [000 §篇8]: categories drawn from
what the seed says passengers complain about (溜站甩客, 带客过站, 服务态度, 票款与证卡,
乘车规则劝阻, 营运秩序与班次) [000 §篇8 1, 3(2)]; facets direction (company / government /
media) [000 §篇8 2(1)] and mode (phone / letter / web / in person) [000 §篇8 2(2)]; the four
responsibility grades 全责 / 主责 / 次责 / 无责 with the seed's criteria [000 §篇8 3(2)].
Severities (general / serious / major) are a product default: the seed defines none.
"""

from __future__ import annotations

from core import Taxonomy, hookimpl
from plugins.transit.taxonomy import TAXONOMY

__all__ = ["TAXONOMY", "tousu_close_roles", "tousu_taxonomy"]

MAJOR_CLOSE_ROLES: tuple[str, ...] = ("manager", "general_manager")
"""A major complaint (问题严重、社会影响大, handled strictly [000 §篇8 4(1)3]) is closed only by
a manager or the general manager (product default; the seed names no approver)."""


@hookimpl
def tousu_taxonomy() -> Taxonomy:
    return TAXONOMY


@hookimpl
def tousu_close_roles(severity: str | None) -> list[str] | None:
    """Only a manager or the general manager closes a major ticket; other severities keep the
    core default."""
    if severity == "major":
        return list(MAJOR_CLOSE_ROLES)
    return None
