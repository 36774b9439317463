"""The one PluginManager, and the one way to call an industry hook for a tenant.

Built-in industries and third-party ones are found the same way: the ``tousu.plugins``
entry-point group. ``TOUSU_DISABLE_PLUGIN_AUTOLOAD=1`` turns discovery off (tests then
register what they need); ``TOUSU_TRACE_HOOKS=1`` logs every hook call.

A plugin's ``@hookimpl`` must name a hook of :mod:`core.hookspecs`: the manager is checked
(``pluggy``'s ``check_pending``) as it is built and on every :func:`register`, so a
misspelled ``tousu_clasify`` stops start-up (``create_app``) with :class:`PluginHookError`
naming the plugin, its distribution and the hook, instead of never being called.
"""

from __future__ import annotations

import difflib
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


class PluginHookError(RuntimeError):
    """An installed plugin implements a hook that :mod:`core.hookspecs` does not declare
    (a misspelling, or a hook of another version of tousu). ``plugin``: its registered name;
    ``hooks``: the unknown hook names."""

    def __init__(self, plugin: str, distribution: str | None, hooks: list[str]) -> None:
        self.plugin = plugin
        self.hooks = hooks
        known = [n for n in dir(hookspecs) if n.startswith(f"{hookspecs.PROJECT}_")]
        where = f" (distribution {distribution})" if distribution else ""
        named = []
        for hook in hooks:
            close = difflib.get_close_matches(hook, known, n=1)
            named.append(f"{hook!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        super().__init__(
            f"plugin {plugin!r}{where} implements unknown hook {', '.join(named)}: "
            "core.hookspecs declares no such hook"
        )


def check_hooks(pm: pluggy.PluginManager) -> None:
    """Raise :class:`PluginHookError` for the first plugin with a hookimpl no hookspec
    declares (pluggy's ``check_pending``, with the plugin's name and distribution)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError:
        pass
    else:
        return
    dists = {p: d for p, d in pm.list_plugin_distinfo()}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        unknown = sorted(
            caller.name
            for caller in pm.get_hookcallers(plugin) or ()
            if not caller.has_spec() and not _optional(caller, plugin)
        )
        if unknown:
            dist = dists.get(plugin)
            label = f"{dist.project_name} {dist.version}" if dist else None
            raise PluginHookError(name, label, unknown)
    pm.check_pending()  # not one plugin to name: pluggy's own message then


def _optional(caller: Any, plugin: Any) -> bool:
    """``@hookimpl(optionalhook=True)``: the plugin says the hook may be missing."""
    return all(impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin)


def _make_manager() -> pluggy.PluginManager:
    from core.settings import current  # the entry point's (create_app makes the manager)

    settings = current()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if settings.disable_plugin_autoload:
        return pm
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    check_hooks(pm)
    for plugin in pm.get_plugins():
        add_error_catalogue(plugin)
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


def add_error_catalogue(plugin: Any) -> None:
    """A plugin package's own ``locale/zh_CN/LC_MESSAGES/errors.po`` (its rules' English →
    Chinese, docs/plugins.md) joins the error catalogue (:func:`core.error_text.add_catalogue`)."""
    from pathlib import Path

    from core.error_text import add_catalogue

    source = getattr(plugin, "__file__", None)
    if source:
        po = Path(source).parent / "locale" / "zh_CN" / "LC_MESSAGES" / "errors.po"
        if po.is_file():
            add_catalogue(po)


def register(plugin: Any, name: str) -> None:
    """Register a plugin object by name (tests and embedding apps); a hook no hookspec
    declares is refused (:class:`PluginHookError`) and the plugin left unregistered."""
    pm = manager()
    pm.register(plugin, name=name)
    try:
        check_hooks(pm)
        add_error_catalogue(plugin)
    except PluginHookError:
        pm.unregister(name=name)
        raise
    finally:
        hooks_for.cache_clear()


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
        answer: list[str] | None = self.hook("tousu_approvers", step=step, ticket=ticket)
        return answer

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
def hooks_for(plugin_name: str) -> TenantHooks:
    """The hook caller for a tenant's plugin (cached per plugin name)."""
    return TenantHooks(plugin_name)


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
