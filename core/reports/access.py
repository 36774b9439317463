"""Who sees which part of a report: one WHERE clause per kind of row, from the principal.

Managers, general managers, tenant admins and the desk see the whole tenant; a department
head the tickets dispatched to or about their department; discipline inspection the cases
referred to it; a staff member their own record only — the tickets about them, their own
grades and penalties, never a complainant. Tickets reuse
:func:`core.tickets.reading.visible`, so a report never shows a ticket its reader could not
open.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true

from core.penalties.models import LedgerLine
from core.people.guards import needs_role
from core.people.models import Staff
from core.people.roles import MANAGEMENT, READ_ALL, Role
from core.principal import Principal
from core.tickets.reading import visible

LEDGER_ALL = MANAGEMENT | {Role.TENANT_ADMIN}


@dataclass(frozen=True)
class Access:
    principal: Principal

    @property
    def reads_all(self) -> bool:
        return self.principal.has(*READ_ALL)

    @property
    def own_only(self) -> bool:
        """A staff member with no wider role: their own record and nothing else."""
        p = self.principal
        wider = (
            self.reads_all
            or p.has(Role.INSPECTOR)
            or (p.has(Role.DEPARTMENT_HEAD) and p.department_id is not None)
        )
        return not wider

    @property
    def label(self) -> str:
        """What the report covers, printed on it (``tenant``, ``department:<id>``, …)."""
        p = self.principal
        if self.reads_all:
            return "tenant"
        parts = []
        if p.has(Role.DEPARTMENT_HEAD) and p.department_id is not None:
            parts.append(f"department:{p.department_id}")
        if p.has(Role.INSPECTOR):
            parts.append("referred")
        if p.has(Role.STAFF) and p.staff_id is not None:
            parts.append(f"staff:{p.staff_id}")
        return "+".join(parts) or "nothing"

    def tickets(self) -> ColumnElement[bool]:
        return visible(self.principal)

    def staff_rows(self, staff_id: ColumnElement[int | None]) -> ColumnElement[bool]:
        """Per-person rows (grades, penalties) on visible tickets: a staff member's own only."""
        if not self.own_only:
            return true()
        if self.principal.staff_id is None:
            return false()
        return staff_id == self.principal.staff_id

    def clocks(self, owner_department_id: ColumnElement[int | None]) -> ColumnElement[bool]:
        """Step clocks a reader's on-time rates count: a department head reading their
        department's figures counts only the clocks charged to it — a step the desk held
        when it ran out is the desk's (issue 23 §5, [000 §篇1 4(4)5①, 6)]); every wider
        reader counts every clock of the tickets they see."""
        p = self.principal
        if self.reads_all or not (p.has(Role.DEPARTMENT_HEAD) and p.department_id is not None):
            return true()
        return owner_department_id == p.department_id

    def ledger(self) -> ColumnElement[bool]:
        """Fine-ledger lines: HR and management all, a department head their department's
        staff, a staff member their own; anyone else is refused."""
        p = self.principal
        if p.has(*LEDGER_ALL):
            return true()
        clauses: list[ColumnElement[bool]] = []
        if p.has(Role.DEPARTMENT_HEAD) and p.department_id is not None:
            clauses.append(
                and_(LedgerLine.staff_id == Staff.id, Staff.department_id == p.department_id)
            )
        if p.staff_id is not None:
            clauses.append(LedgerLine.staff_id == p.staff_id)
        if not clauses:
            raise needs_role(LEDGER_ALL | {Role.DEPARTMENT_HEAD, Role.STAFF}, "查看罚款台账")
        return or_(*clauses)
