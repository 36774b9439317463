"""The deadline sweep as the jobs run it: :func:`core.deadlines.sweep.sweep` with what a
breach costs in another area — the plugin's penalty proposals for the handler's own delay
(:func:`core.penalties.breach.propose_for_breaches`, issue 12 §5) — written in the same
transaction as the breach — and with what an automatic upgrade brings: the duties that hang
on the new severity (:func:`core.flow.seed_duties.fire`: the same-day report recorded on the
ticket, a written complaint now major reported to the office head [004 §篇3 二1], issue 23
§1), on the upgrade's own event. The ``sweep_deadlines`` actor, the embedded loop and
``tousu sweep`` all sweep through here.
"""

from __future__ import annotations

import datetime as dt

from core.db import Database, TenantScope
from core.deadlines import sweep as deadlines
from core.deadlines.sweep import SweepReport
from core.flow import handoffs, seed_duties
from core.penalties.breach import propose_for_breaches


async def sweep(db: Database, now: dt.datetime | None = None, batch: int = 500) -> SweepReport:
    """Handle every clock whose alarm has come by ``now`` (default: the app clock), ``batch``
    clocks of each kind per transaction, proposing the penalties breaches cost."""
    return await deadlines.sweep(
        db, now, batch, on_breach=_propose_and_tell, on_upgrade=seed_duties.fire
    )


async def _propose_and_tell(scope: TenantScope, now: dt.datetime, clock_ids: list[int]) -> None:
    """The breaches' penalty proposals, and those who may decide them told (issue 19)."""
    rows = await propose_for_breaches(scope, now, clock_ids)
    await handoffs.breach_penalties_waiting(scope, now, rows)
