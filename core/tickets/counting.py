"""Which tickets count as complaints (domain §3), as one SQL expression for every reader:
statistics, KPIs, the bulletin and exports (:mod:`core.reports`) and the half-year
appraisal (:mod:`core.penalties.appraisal`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

from core.tickets.models import Ticket


def counted_of(entity: Any) -> ColumnElement[bool]:
    """Counts as a complaint, for :class:`Ticket` or an alias of it: the plugin's
    ``counts_as_complaint`` when it answered, else the core's rule, triaged valid (domain §3;
    a plugin may count verified complaints only [002 第九条])."""
    counted: ColumnElement[bool] = func.coalesce(entity.counts_as_complaint, entity.valid, False)
    return counted


def counted() -> ColumnElement[bool]:
    """:func:`counted_of` the tickets table."""
    return counted_of(Ticket)
