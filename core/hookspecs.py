"""Every hook an industry plugin may implement.

Hooks that describe an industry (its taxonomy, who may close what) are called **only on the
tenant's own plugin**, through :func:`core.plugins.hooks_for`; the core never names an
industry. A hook returning ``None`` has no opinion; single-answer hooks are declared
``firstresult=True`` and stop at the first non-None result.

A plugin is a module (or object) with functions decorated by :data:`hookimpl`, registered
through the ``tousu.plugins`` entry-point group, exactly as the built-in plugins are::

    [project.entry-points."tousu.plugins"]
    aviation = "tousu_aviation"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from core.taxonomy import Taxonomy

PROJECT = "tousu"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -------------------------------------------------------------------------
# Classification
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def tousu_taxonomy() -> Taxonomy | None:
    """Called when a ticket is created or reclassified, and by ``GET /api/taxonomy``.

    Return the industry's :class:`core.taxonomy.Taxonomy`: category groups, categories,
    severities, further facets (nature, direction, mode, ...) and the responsibility grades
    it uses. Category and severity codes are what tickets store; keep them stable.

    Stops at first non-None result.
    """


# -------------------------------------------------------------------------
# Approvals
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def tousu_close_roles(severity: str | None) -> list[str] | None:
    """Called when someone tries to close a followed-up or suspended ticket.

    :param severity: the ticket's severity code (from this plugin's taxonomy), or None.

    Return the roles allowed to close a ticket of that severity (e.g. only a manager may
    close a major one), or None to accept the core's default (supervisor, manager,
    general manager).

    Stops at first non-None result.
    """
