"""Words for the core's codes in the reader's language, for text read outside the console.

Notifications (:mod:`core.notify.kinds`) and report files (:mod:`core.reports.headers`) name
a ticket's state, channel, resolution and a deadline's step, an error message a field
(:data:`FIELDS`, also the console's labels beside its inputs); the console has its own
catalogue for the same codes (``core/console/labels.py``, ``console.po``) and the Chinese
here is the same. The industry's own codes (categories, severities, grades, facts) take the
plugin's ``label_zh`` / ``label``; a department is its name.

Shape: group → code → ``(zh_CN, en)``. :func:`word` falls back to the code itself for a code
no table knows (a plugin's new channel, say) rather than failing.
"""

from __future__ import annotations

from core.error_text import label_codes

ZH, EN = "zh_CN", "en"

STATES = {
    "received": ("已受理", "Received"),
    "valid": ("有效，未立项", "Valid, not registered"),
    "communicative": ("沟通性投诉", "Communicative complaint"),
    "registered": ("已立项", "Registered"),
    "ready": ("待派单", "Awaiting dispatch"),
    "dispatched": ("已派单", "Dispatched"),
    "in_progress": ("处理中", "In progress"),
    "graded": ("已定责", "Responsibility graded"),
    "replied": ("已答复", "Replied"),
    "followed_up": ("已回访", "Followed up"),
    "suspended": ("已挂起", "Suspended"),
    "closed": ("已销项", "Closed"),
}

CHANNELS = {
    "phone": ("电话", "Phone"),
    "letter": ("来信", "Letter"),
    "visit": ("来访", "Visit"),
    "web": ("网站", "Web"),
    "email": ("电子邮件", "Email"),
    "hotline_transfer": ("热线转办", "Hotline transfer"),
    "government_transfer": ("政府转办", "Government transfer"),
    "media": ("媒体", "Media"),
    "hotline_95598": ("95598 热线", "95598 hotline"),
    "voice_mailbox": ("语音信箱", "Voice mailbox"),
    "management_forwarded": ("领导转办", "Forwarded by management"),
}

RESOLUTIONS = {
    "invalid": ("无效投诉", "Invalid complaint"),
    "explained": ("已解释，未立项", "Explained, not registered"),
    "resolved": ("已解决", "Resolved"),
    "unresolvable": ("无法解决", "Unresolvable"),
}

STEPS = {
    "dispatch": ("派单", "Dispatch"),
    "first_contact": ("首日联系", "First contact"),
    "return": ("退单", "Return"),
    "answer": ("明确答复", "Interim answer"),
    "reply": ("答复", "Reply"),
    "resolution": ("处理结果", "Resolution"),
    "hand_back": ("交回意见表", "Hand the form back"),
    "tell": ("通报投诉人", "Tell the complainant"),
    "follow_up": ("回访", "Follow-up"),
    "invalid_notice": ("无效告知", "Invalid notice"),
    "handling": ("处理", "Handling"),
    "triage": ("甄别", "Triage"),
    "auto_upgrade": ("自动升级时限", "Automatic severity upgrade"),
}

ACTIONS = {  # lifecycle actions (the console's words), and a seed duty's ``done_by``
    "triage_valid": ("甄别为有效投诉", "Triage as valid"),
    "triage_invalid": ("无效投诉", "Invalid complaint"),
    "triage_communicative": ("沟通性投诉", "Communicative complaint"),
    "convert": ("转为有效投诉", "Convert to valid complaint"),
    "answer": ("明确答复", "Interim answer"),
    "hand_back": ("交回意见表", "Hand the form back"),
    "settle": ("解释后不立项", "Settle without registering"),
    "register": ("立项", "Register"),
    "review": ("班长审核", "Supervisor review"),
    "dispatch": ("派单", "Dispatch"),
    "return": ("退单", "Return to desk"),
    "first_contact": ("首日联系", "First contact"),
    "grade": ("定责", "Grade responsibility"),
    "reply": ("答复投诉人", "Reply to complainant"),
    "review_reply": ("答复审核通过", "Reply review: passed"),
    "rework_reply": ("答复退回重办", "Reply returned for rework"),
    "reassign_owner": ("更换跟进人", "Reassign owner"),
    "follow_up": ("回访：满意", "Follow-up: satisfied"),
    "follow_up_unsatisfied": ("回访：不满意", "Follow-up: unsatisfied"),
    "close": ("销项", "Close"),
    "suspend": ("挂起", "Suspend"),
    "reopen": ("重新开启", "Reopen"),
    "reclassify": ("重新分类", "Reclassify"),
    "refer_to_inspection": ("移交纪检监察", "Refer to discipline inspection"),
}

FIELDS = {
    # a form's fields: the console's labels beside its inputs (core.console.forms.LABELS)
    "note": ("备注", "Note"),
    "reason": ("原因", "Reason"),
    "explanation": ("向投诉人的解释", "Explanation to the complainant"),
    "category": ("投诉类别", "Category"),
    "severity": ("投诉等级", "Severity"),
    "department": ("部门", "Department"),
    "reply": ("答复", "Reply"),
    "apology": ("已致歉", "Apology made"),
    "policy_explained": ("政策解释", "Policy explained"),
    "verification": ("销项核实", "Verification"),
    "related_ticket": ("关联工单号", "Related ticket number"),
    "four_donts": ("销项核查清单", "Close checklist"),
    "findings": ("调查结论", "Findings"),
    "complainant_informed": ("已告知投诉人", "Complainant informed"),
    "contacted_at": ("联系时间", "Contacted at"),
    "owner": ("跟进人", "Follow-up owner"),
    "falsified": ("答复弄虚作假", "Reply falsified"),
    "kind": ("类型", "Kind"),
    "plan": ("处理安排", "What will happen"),
    "promised_by": ("承诺解决时间", "Promised by"),
    "resolve_by": ("限定解决时间", "Resolve by"),
    "severity_override": ("改变定义等级的理由", "Severity override reason"),
    "channel": ("受理渠道", "Channel"),
    "complainant": ("投诉人", "Complainant"),
    "complainant.name": ("投诉人姓名", "Complainant name"),
    "complainant.contact": ("联系方式", "Complainant contact"),
    "complainant.address": ("投诉人地址", "Complainant address"),
    "description": ("投诉内容", "Description"),
    "demands": ("投诉诉求", "Demands"),
    "event_time": ("事发时间", "Event time"),
    "event_place": ("事发地点", "Event place"),
    "accused_department": ("被投诉部门", "Department complained about"),
    "accused_staff": ("被投诉人员", "Staff complained about"),
    "temper_note": ("投诉人情绪", "Temper note"),
    "facets": ("分类属性", "Facets"),
    "grades": ("定责结果", "Responsibility grades"),
    "staff": ("员工", "Staff member"),
    "grade": ("责任认定", "Responsibility"),
    "capacity": ("责任身份", "Capacity"),
    "offence": ("违规等级", "Offence"),
    "complainant_violation": ("投诉人自身违规情况", "Complainant's own violation"),
    "decision": ("决定", "Decision"),
    "amount_yuan": ("金额（元）", "Amount (yuan)"),
    "amount": ("数量", "Amount"),
    "unit": ("单位", "Unit"),
    "file": ("文件", "File"),
    "files": ("文件", "File"),
    "version": ("工单版本", "Ticket version"),
    "ticket_id": ("工单", "Ticket"),
    "step": ("环节", "Step"),
}
"""Field code (or dotted path) → ``(zh_CN, en)`` of its label: the one home of a field's
name, beside its input in the console and in place of its code in a Chinese error message
(:func:`core.error_text.field_label`: a list item's path takes its last name's label)."""

MESSAGE_FIELDS = {
    # fields named only in messages: queries, sign-in, settings, ids in paths
    "name": ("名称", "Name"),  # a view's, a webhook's, a department's: the message says whose
    "query": ("视图的查询条件", "View query"),
    "shared": ("共享", "Shared"),
    "state": ("状态", "State"),
    "sort": ("排序", "Sort"),
    "due": ("时限状态", "Due"),
    "offset": ("起始位置", "Offset"),
    "cursor": ("翻页位置", "Cursor"),
    "limit": ("每页条数", "Limit"),
    "q": ("搜索词", "Search text"),
    "mine": ("只看我负责的", "Only mine"),
    "total": ("返回总数", "With the total"),
    "unread": ("只看未读", "Unread only"),
    "status": ("状态", "Status"),
    "window_days": ("统计天数", "Window (days)"),
    "codes": ("附带代码", "With codes"),
    "format": ("格式", "Format"),
    "fmt": ("格式", "Format"),  # the bulletin's ?format=, as its handler names it
    "granularity": ("时间粒度", "Granularity"),
    "entity": ("对象类型", "Entity"),
    "staff_code": ("员工", "Staff member"),
    "created_from": ("受理日期起", "Created from"),
    "created_to": ("受理日期止", "Created to"),
    "from": ("起始时间", "From"),
    "to": ("截止时间", "To"),
    "period": ("期间", "Period"),
    "half": ("半年度", "Half-year"),
    "day": ("日期", "Day"),
    "effective_from": ("生效时间", "Effective from"),
    "complainant_told": ("告知投诉人", "Complainant told"),
    "complainant_told.at": ("告知投诉人的时间", "Told at"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "current": ("当前密码", "Current password"),
    "new": ("新密码", "New password"),
    "repeat": ("再次输入新密码", "Repeat the new password"),
    "email": ("电子邮箱", "Email"),
    "phone": ("手机号码", "Mobile number"),
    "url": ("接收地址", "URL"),
    "slug": ("租户标识", "Tenant slug"),
    "document": ("租户文件", "Tenant document"),
    "ticket_prefix": ("工单号前缀", "Ticket-number prefix"),
    "plugin": ("行业插件", "Industry plugin"),
    "body": ("请求内容", "Request body"),
    "request": ("请求", "Request"),
    "Authorization": ("访问令牌", "Access token"),
    "Idempotency-Key": ("幂等键", "Idempotency key"),
    "attachment_id": ("附件", "Attachment"),
    "penalty_id": ("处罚", "Penalty"),
    "extension_id": ("延期申请", "Extension"),
    "appeal_id": ("申诉", "Appeal"),
    "appraisal_id": ("考核", "Appraisal"),
    "user_id": ("用户", "User"),
    "view_id": ("视图", "View"),
    "message_id": ("消息", "Message"),
    "notification_id": ("通知", "Notification"),
    "webhook_id": ("Webhook", "Webhook"),
    "delivery_id": ("投递记录", "Delivery"),
    "filename": ("文件名", "File name"),
}
"""Field code → ``(zh_CN, en)`` of a field no console form shows as an input of a body, named
in an error message (:data:`FIELDS` for the rest)."""

GROUPS = {
    "state": STATES,
    "channel": CHANNELS,
    "resolution": RESOLUTIONS,
    "step": STEPS,
    "action": ACTIONS,
}


label_codes("state", {code: zh for code, (zh, _) in STATES.items()})
label_codes("action", {code: zh for code, (zh, _) in ACTIONS.items()})
label_codes("resolution", {code: zh for code, (zh, _) in RESOLUTIONS.items()})
label_codes("field", {code: zh for code, (zh, _) in (MESSAGE_FIELDS | FIELDS).items()})


def word(group: str, code: str | None, lang: str = ZH) -> str | None:
    """The label of ``code`` in ``group`` (``state``, ``channel``, ``resolution``,
    ``step``) in ``lang`` (``zh_CN`` or ``en``); None stays None, an unknown code stays."""
    if code is None:
        return None
    found = GROUPS[group].get(code)
    if found is None:
        return code
    return found[1] if lang == EN else found[0]
