"""Where a step's clock starts, when an industry starts it elsewhere than the core.

The core's :data:`core.deadlines.engine.FLOW` starts the ``resolution`` clock at
registration; an industry whose handling time runs from the handling unit's receipt of the
work order (e.g. "基层单位接到…工单后…4个工作日内查处完毕" [002 《客户投诉管理考核办法》
第十五条]) declares ``DeadlineTable.clock_starts = (("resolution", "dispatch"),)``: the
clock then starts (again) at every dispatch instead, and the core's own starts of that step
at other actions are dropped. Stops and cancellations are the core's as they are.
"""

from __future__ import annotations

from core.rules import DeadlineTable


def flow_for(
    flow: dict[str, list[tuple[str, str]]], table: DeadlineTable, action: str, start: str
) -> list[tuple[str, str]]:
    """``flow[action]`` with the table's moved starts applied (``start`` is FLOW's START)."""
    moved = dict(table.clock_starts)
    base = flow.get(action, [])
    if not moved:
        return base
    out = [(step, what) for step, what in base if not (what == start and step in moved)]
    out += [(step, start) for step, at in moved.items() if at == action]
    return out
