"""The one PluginManager, and the one way to call an industry hook for a tenant.

Built-in industries and third-party ones are found the same way: the ``tousu.plugins``
entry-point group. ``TOUSU_DISABLE_PLUGIN_AUTOLOAD=1`` turns discovery off (tests then
register what they need); ``TOUSU_TRACE_HOOKS=1`` logs every hook call.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import pluggy

from core import hookspecs
from core.rules import (
    Classification,
    DeadlineTable,
    Duties,
    GradeFacts,
    PenaltyProposal,
    PenaltySchedule,
    Problem,
    TicketFacts,
)
from core.taxonomy import Taxonomy

ENTRY_POINT_GROUP = "tousu.plugins"
log = logging.getLogger("tousu.plugins")


class UnknownPlugin(LookupError):
    """A tenant names an industry plugin that is not installed."""


def _make_manager() -> pluggy.PluginManager:
    from core.settings import load_settings

    settings = load_settings()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if settings.disable_plugin_autoload:
        return pm
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    if settings.trace_hooks:
        pm.trace.root.setwriter(log.info)
        pm.enable_tracing()
    return pm


_pm: pluggy.PluginManager | None = None


def manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        _pm = _make_manager()
    return _pm


def register(plugin: Any, name: str) -> None:
    """Register a plugin object by name (tests and embedding apps)."""
    manager().register(plugin, name=name)
    _caller.cache_clear()


def plugin_names() -> list[str]:
    return sorted(n for n, p in manager().list_name_plugin() if p is not None)


class TenantHooks:
    """The hooks of one plugin only: industry hooks are never broadcast to other industries."""

    def __init__(self, name: str) -> None:
        pm = manager()
        plugin = pm.get_plugin(name)
        if plugin is None:
            raise UnknownPlugin(name)
        self.name = name
        others = [p for n, p in pm.list_name_plugin() if n != name and p is not None]
        self.hook = _SubsetHook(pm, others)
        self._implemented = frozenset(c.name for c in pm.get_hookcallers(plugin) or ())

    def implements(self, hook_name: str) -> bool:
        """Whether the plugin answers ``hook_name`` at all (a caller may then skip reading
        what it would pass: e.g. the sweep asks about breach penalties only a plugin with a
        ``tousu_breach_penalties`` can answer)."""
        return hook_name in self._implemented

    def taxonomy(self) -> Taxonomy:
        result = self.hook("tousu_taxonomy")
        if not isinstance(result, Taxonomy):
            raise TypeError(f"plugin {self.name!r} returned no Taxonomy from tousu_taxonomy")
        return result

    def classify(self, ticket: TicketFacts) -> Classification:
        return self.hook("tousu_classify", ticket=ticket) or Classification()

    def check_grade(self, ticket: TicketFacts, grade: GradeFacts) -> list[Problem]:
        return list(self.hook("tousu_check_grade", ticket=ticket, grade=grade) or [])

    def penalty_schedule(self) -> PenaltySchedule:
        return self.hook("tousu_penalty_schedule") or PenaltySchedule(rules=())

    def propose_penalties(
        self, ticket: TicketFacts, grades: list[GradeFacts], amounts: dict[str, int | None]
    ) -> list[PenaltyProposal]:
        answer = self.hook("tousu_propose_penalties", ticket=ticket, grades=grades, amounts=amounts)
        return list(answer or [])

    def breach_penalties(
        self,
        ticket: TicketFacts,
        step: str,
        staff: str | None,
        unit: str | None,
        amounts: dict[str, int | None],
    ) -> list[PenaltyProposal]:
        answer = self.hook(
            "tousu_breach_penalties",
            ticket=ticket, step=step, staff=staff, unit=unit, amounts=amounts,
        )  # fmt: skip
        return list(answer or [])

    def deadlines(self) -> DeadlineTable:
        return self.hook("tousu_deadlines") or DeadlineTable(rules=())

    def approvers(self, step: str, ticket: TicketFacts) -> list[str] | None:
        return self.hook("tousu_approvers", step=step, ticket=ticket)

    def duties(self) -> Duties:
        answer = self.hook("tousu_duties")
        return answer if isinstance(answer, Duties) else Duties()


class _SubsetHook:
    def __init__(self, pm: pluggy.PluginManager, remove: list[Any]) -> None:
        self._pm = pm
        self._remove = remove

        self._callers: dict[str, Any] = {}

    def __call__(self, hook_name: str, **kwargs: Any) -> Any:
        caller = self._callers.get(hook_name)
        if caller is None:
            caller = self._pm.subset_hook_caller(hook_name, remove_plugins=self._remove)
            self._callers[hook_name] = caller
        return caller(**kwargs)


@cache
def _caller(name: str) -> TenantHooks:
    return TenantHooks(name)


def hooks_for(plugin_name: str) -> TenantHooks:
    """The hook caller for a tenant's plugin (cached per plugin name)."""
    return _caller(plugin_name)


def describe_plugins() -> list[dict[str, Any]]:
    """Name, version and implemented hooks of every registered plugin (GET /api/plugins)."""
    pm = manager()
    dists = {p: d for p, d in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda x: x[0]):
        if plugin is None:
            continue
        dist = dists.get(plugin)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        out.append(
            {
                "name": name,
                "version": dist.version if dist else None,
                "distribution": dist.project_name if dist else None,
                "hooks": hooks,
            }
        )
    return out
