"""The property seeds' offices mapped onto the core's roles, once (domain §7, §10).

Every hookimpl and table of this plugin names these constants, never a role code for an
office by hand, so an office means one role everywhere.

- 物业部经理 (the property manager) "负责处理重要投诉" [000 §篇1 4(3)1] and approves the
  overrun of a minor complaint "轻微投诉一般在2日内处理完毕,超时需经物业部经理批准"
  [000 §篇1 4(4)9]. A management role — it handles the important complaints that reach it
  within the hour (接待后1小时内转呈主管经理 [000 §篇1 4(4)3②]) — so the core's ``manager``
  (主管经理), **not** ``department_head``: the head of the department whose step overran is
  the one asking for more time, and whoever asks for more time never approves it
  (domain §10; :mod:`core.people.duties`).
- 管理处负责人 (the head of the management office) consents to closing a major complaint
  [000 §篇1 5(5)2①e] and, once a quarter, to closing unresolvable ones [000 §篇1 5(5)2②c];
  audits registrations and closings [000 §篇1 5(4)2]: the core's ``manager``.
- 公司总经理 (the general manager): ``general_manager`` [000 §篇1 4(4)3②, 4(4)9].
- 客户服务中心主管 (the customer-service centre supervisor): ``supervisor`` [000 §篇1 4(3)2].
- 客户服务中心接待员, the 客户部人员 who registers a complaint and closes it once handled
  ("由客户部人员签名…称作销项" [000 §篇1 5(3)2)]; "问题解决后…予以记录和销项" [5(4)1)]):
  ``clerk``.
"""

from __future__ import annotations

PROPERTY_MANAGER = "manager"
"""物业部经理 [000 §篇1 4(3)1, 4(4)9]."""

OFFICE_HEAD = "manager"
"""管理处负责人 [000 §篇1 5(4)2, 5(5)2]."""

GENERAL_MANAGER = "general_manager"
"""公司总经理 [000 §篇1 4(4)3②, 4(4)9]."""

DESK_SUPERVISOR = "supervisor"
"""客户服务中心主管 [000 §篇1 4(3)2]."""

DESK_CLERK = "clerk"
"""客户服务中心接待员 / 客户部人员, who registers and closes (销项) [000 §篇1 5(3)2), 5(4)1)]."""

__all__ = ["DESK_CLERK", "DESK_SUPERVISOR", "GENERAL_MANAGER", "OFFICE_HEAD", "PROPERTY_MANAGER"]
