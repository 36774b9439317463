"""When the month's report pack was issued, against its due date [000 §篇1 4(4)7]."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
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


class UnitBulletinIssue(TenantScoped, Base):
    """A unit's monthly 《投诉事件通报》 formed and studied [002 《考核办法》第二十二条]:
    "各基层单位…每月应按件将投诉事件产生的经过、处理过程、投诉产生原因、责任、改进措施及人员处理考核
    意见形成《投诉事件通报》,在本单位组织职工学习" — once per unit and month
    (:mod:`core.reports.unit_bulletins`)."""

    __tablename__ = "unit_bulletin_issues"
    __table_args__ = (UniqueConstraint("tenant_id", "period", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    """``YYYY-MM``: the month whose cases it covers."""
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    cases: Mapped[int] = mapped_column()
    """The unit's cases of the month when it was recorded."""
    due_at: Mapped[dt.datetime] = mapped_column()
    issued_at: Mapped[dt.datetime] = mapped_column()
    issued_by: Mapped[str] = mapped_column(String(128))
    on_time: Mapped[bool] = mapped_column()
