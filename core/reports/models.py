"""When the month's report pack was issued, against its due date [000 §篇1 4(4)7]."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantScoped


class ReportIssue(TenantScoped, Base):
    """The month's statistics and analysis issued (once per month): the on-time record."""

    __tablename__ = "report_issues"
    __table_args__ = (UniqueConstraint("tenant_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    """``YYYY-MM``: the month reported on."""
    due_at: Mapped[dt.datetime] = mapped_column()
    issued_at: Mapped[dt.datetime] = mapped_column()
    issued_by: Mapped[str] = mapped_column(String(128))
    on_time: Mapped[bool] = mapped_column()
