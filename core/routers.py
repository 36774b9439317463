"""The HTTP surfaces, one router each, with the guard every route of the surface needs.

- :data:`TENANT_API`: a tenant's data, for its members (``tenant_member``); handlers take
  ``tenant`` and ``principal`` (:mod:`core.context`);
- :data:`PLATFORM_API`: the deployment, for the platform operator (``operator_only``);
- :data:`OPEN_API`: any authenticated caller (``/api/me``, ``/api/plugins``) and the public
  probes (``/health``, ``/ready``, ``/metrics``).

The console (``core.console``) is a surface of its own, wired in :func:`core.console.wiring`.
A route's own guards add the roles it needs (``requires(...)``); the app adds the two rules
of every route (conflict of interest, no unknown query parameter).
"""

from __future__ import annotations

from litestar import Router

from core.attachments.api import ROUTES as ATTACHMENTS
from core.deadlines.api import ROUTES as DEADLINES
from core.flow.api import ROUTES as TICKETS
from core.flow.bulk import ROUTES as BULK
from core.flow.views import ROUTES as VIEWS
from core.health import ROUTES as HEALTH
from core.notify.api import ROUTES as NOTIFY
from core.penalties.api import ROUTES as PENALTIES
from core.penalties.appraisal import ROUTES as APPRAISAL
from core.people.api import ROUTES as PEOPLE
from core.people.guards import tenant_member
from core.provisioning.api import ROUTES as PROVISIONING
from core.reports.api import ROUTES as REPORTS
from core.tasks.api import ROUTES as TASKS

TENANT_API = Router(path="/", guards=[tenant_member], route_handlers=[*TICKETS])

# Not yet split by surface: each route still carries its own guards.
MIXED = [
    *HEALTH,
    *PEOPLE,
    *PROVISIONING,
    *BULK,
    *VIEWS,
    *ATTACHMENTS,
    *PENALTIES,
    *APPRAISAL,
    *DEADLINES,
    *TASKS,
    *REPORTS,
    *NOTIFY,
]

SURFACES = [TENANT_API, *MIXED]
"""Everything the app serves besides the console."""
