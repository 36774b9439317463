"""Words for the core's codes in the reader's language, for text read outside the console.

Notifications (:mod:`core.notify.kinds`) and report files (:mod:`core.reports.headers`) name
a ticket's state, channel, resolution and a deadline's step; the console has its own
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


def word(group: str, code: str | None, lang: str = ZH) -> str | None:
    """The label of ``code`` in ``group`` (``state``, ``channel``, ``resolution``,
    ``step``) in ``lang`` (``zh_CN`` or ``en``); None stays None, an unknown code stays."""
    if code is None:
        return None
    found = GROUPS[group].get(code)
    if found is None:
        return code
    return found[1] if lang == EN else found[0]
