"""Kinds of staff notification: what each says, in the reader's language, from its parameters.

A notification is stored as a **kind** and **parameters** — codes, ids, instants, numbers and
the text a user typed (an extension's reason) — never as a sentence (issue 19 item 3): the
in-app list (``GET /api/notifications``), the e-mail and the SMS are each written when they
are read or sent, in the reader's language (the request's ``Accept-Language`` in the app; the
recipient's ``language`` choice, ``PUT /api/me/notifications``, for e-mail and SMS), with the
core's words for steps and states (:mod:`core.tickets.labels`), the plugin's for severities,
grades and facts, the department's name, and instants in the tenant's zone.

Each kind has one or more *variants*: ``(params it needs, zh_CN text, en text)``; the first
variant whose params are all present is used. Parameters (all optional unless a variant
needs them):

``number`` the ticket's number · ``step`` a clock step code · ``due`` an instant (ISO 8601,
UTC) · ``severity`` a severity code · ``minutes`` an int · ``flags`` a list of fact codes ·
``reason`` text a user typed · ``department_id`` a department id · ``grade`` a grade code ·
``count`` an int · ``period`` ``YYYY-MM`` · ``half`` ``YYYY-H1|H2`` (shown as 2043年上半年 /
2043 H1) · ``seed`` a seed reference (shown as is, in brackets at the end).

Notifications stored before kinds had parameters hold an English sentence: :func:`legacy`
reads the known shapes back into parameters, and anything else is shown as stored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from core.db import TenantScope
from core.settings import DEFAULT_TIMEZONE
from core.tickets.labels import EN, ZH, word

Variant = tuple[frozenset[str], str, str]


@dataclass(frozen=True)
class Kind:
    code: str
    subject: tuple[str, str]
    """(zh_CN, en) e-mail subject."""
    variants: tuple[Variant, ...]
    seed: str = ""


def _v(needs: str, zh: str, en: str) -> Variant:
    return frozenset(needs.split()), zh, en


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(
            "deadline_breached",
            ("投诉处理已超时", "A complaint step is overdue"),
            (_v("number step due", "{number}：「{step}」已超时（时限 {due}）",
                "{number}: {step} is overdue (due {due})"),),
        ),
        Kind(
            "deadline_due_soon",
            ("投诉处理即将超时", "A complaint step is due soon"),
            (_v("number step due", "{number}：「{step}」将于 {due} 到期",
                "{number}: {step} is due at {due}"),),
        ),
        Kind(
            "escalation",
            ("投诉升级提醒", "Complaint escalation"),
            (
                _v("number flags", "{number}：{flags}——请立即报告上级领导并积极采取应对措施",
                   "{number}: {flags} — report to the leadership at once and act"),
                _v("number severity minutes", "{number}：{severity}投诉，须在 {minutes} 分钟内上报",
                   "{number}: {severity} complaint — report within {minutes} minutes"),
                _v("number severity", "{number}：{severity}投诉，须立即上报",
                   "{number}: {severity} complaint — report at once"),
            ),
        ),
        Kind(
            "seed_duty",
            ("投诉须办理的事项", "A duty this complaint brings"),
            (
                _v("number duty done_by", "{number}：{duty}——请办理「{done_by}」",
                   "{number}: {duty} — to be done: {done_by}"),
                _v("number duty", "{number}：{duty}", "{number}: {duty}"),
            ),
        ),
        Kind(
            "extension_requested",
            ("延期申请待审批", "An extension waits for your approval"),
            (_v("number step reason", "{number}：申请延长「{step}」时限：{reason}",
                "{number}: more time asked for {step}: {reason}"),),
        ),
        Kind(
            "duty_intake",
            ("非工作时间投诉待接待处理", "Out-of-hours complaint to receive"),
            (_v("number",
                "{number}：非工作时间由值班室登记的投诉；您是当班最高管理人员，请接待处理",
                "{number}: complaint taken out of hours by the duty room; you are the most "
                "senior manager on duty: receive and handle it"),),
            seed="004 §篇3 二1",
        ),
        Kind(
            "report_pack_due",
            ("月度投诉统计分析即将到期", "Monthly complaint statistics due soon"),
            (_v("period due", "{period} 月度投诉统计分析应于 {due} 前完成",
                "{period}: the month's complaint statistics and analysis are due by {due}"),),
            seed="000 §篇1 4(4)7",
        ),
        Kind(
            "report_pack_overdue",
            ("月度投诉统计分析已逾期", "Monthly complaint statistics overdue"),
            (_v("period due", "{period} 月度投诉统计分析已逾期（应于 {due} 前完成）",
                "{period}: the month's complaint statistics and analysis were due by {due} "
                "— overdue"),),
            seed="000 §篇1 4(4)7",
        ),
        Kind(
            "ledger_run_due",
            ("月度罚款扣除待运行", "A month's fine deductions to run"),
            (_v("period due",
                "{period} 罚款台账尚未运行：请录入当月绩效工资后运行扣款（应于 {due} 前完成）",
                "{period}: the fine ledger has not been run — set the month's performance pay, "
                "then run the deductions (due by {due})"),),
            seed="002 《客户投诉管理考核办法》第二十八条",
        ),
        Kind(
            "ledger_run_overdue",
            ("月度罚款扣除已逾期", "A month's fine deductions overdue"),
            (_v("period due",
                "{period} 罚款台账逾期未运行：经济处罚应在当月绩效中扣除（应于 {due} 前完成）",
                "{period}: the fine ledger was due to be run by {due} — overdue; fines are "
                "deducted from that month's performance pay"),),
            seed="002 《客户投诉管理考核办法》第二十八条",
        ),
        Kind(
            "appraisal_due",
            ("单位半年考核意见待提出", "The half-year appraisal of units to propose"),
            (_v("half due",
                "{half}各单位投诉考核意见待提出，报优质服务领导小组批准（应于 {due} 前提出）",
                "{half}: the appraisal of units from the half-year's complaints is to be "
                "proposed for the leading group's approval (due by {due})"),),
            seed="002 《客户投诉管理考核办法》第二十七条",
        ),
        Kind(
            "appraisal_overdue",
            ("单位半年考核意见已逾期", "The half-year appraisal of units overdue"),
            (_v("half due",
                "{half}各单位投诉考核意见逾期未提出（应于 {due} 前提出）",
                "{half}: the appraisal of units was due to be proposed by {due} — overdue"),),
            seed="002 《客户投诉管理考核办法》第二十七条",
        ),
        Kind(
            "unit_bulletin_due",
            ("本单位月度《投诉事件通报》待形成", "Your unit's monthly complaint bulletin is due"),
            (_v("period department_id count due",
                "{period} {department}有 {count} 件投诉事件：请按件形成《投诉事件通报》"
                "并组织职工学习（应于 {due} 前完成）",
                "{period}: {department} had {count} complaint case(s) — write the unit's "
                "bulletin case by case and have the staff study it (due by {due})"),),
            seed="002 《客户投诉管理考核办法》第二十二条",
        ),
        Kind(
            "unit_bulletin_overdue",
            ("本单位月度《投诉事件通报》已逾期",
             "Your unit's monthly complaint bulletin is overdue"),
            (_v("period department_id count due",
                "{period} {department}的《投诉事件通报》逾期未形成"
                "（{count} 件，应于 {due} 前完成）",
                "{period}: {department}'s complaint bulletin ({count} case(s)) was due by {due} "
                "— overdue"),),
            seed="002 《客户投诉管理考核办法》第二十二条",
        ),
        Kind(
            "ticket_dispatched",
            ("投诉已派至本部门", "A complaint was dispatched to your department"),
            (_v("number department_id", "{number}：投诉已派至{department}，请处理",
                "{number}: dispatched to {department} — please handle it"),),
        ),
        Kind(
            "ticket_returned",
            ("投诉被退回客服中心", "A complaint was returned to the desk"),
            (
                _v("number department_id", "{number}：{department}已退单，请重新处理",
                   "{number}: returned by {department} — please handle it again"),
                _v("number", "{number}：投诉已退回客服中心，请重新处理",
                   "{number}: returned to the desk — please handle it again"),
            ),
        ),
        Kind(
            "staff_graded",
            ("您被认定投诉责任", "You were graded on a complaint"),
            (_v("number grade", "{number}：您被认定为{grade}；如有异议，可提出申诉",
                "{number}: you were graded {grade}; you may appeal"),),
        ),
        Kind(
            "appeal_waiting",
            ("申诉待决定", "An appeal waits for your decision"),
            (_v("number", "{number}：员工对责任认定提出申诉，待您决定",
                "{number}: a staff member appealed their grade — your decision is needed"),),
        ),
        Kind(
            "penalty_waiting",
            ("处罚建议待决定", "A penalty proposal waits for your decision"),
            (_v("number count", "{number}：{count} 项处罚建议待您决定",
                "{number}: {count} penalty proposal(s) wait for your decision"),),
        ),
        Kind(
            "reply_review_waiting",
            ("答复待审核", "A reply waits for review"),
            (_v("number", "{number}：承办单位的答复待您审核",
                "{number}: the unit's reply waits for your review"),),
        ),
        Kind(
            "close_unresolvable_waiting",
            ("无法处理投诉待审批销项", "An unresolvable complaint waits for approval to close"),
            (_v("number", "{number}：已记录为无法处理，待您审批销项",
                "{number}: recorded as unresolvable — your approval is needed to close it"),),
        ),
    )
}  # fmt: skip
"""Every kind of staff notification, by code."""

CHOICES = (*KINDS, "*")
"""Kinds a user may choose channels for (``*``: any kind without a choice of its own)."""
LANGUAGES = (ZH, EN)


@dataclass
class Context:
    """What rendering needs besides the parameters, read once per tenant and language."""

    lang: str = ZH
    zone: str = DEFAULT_TIMEZONE
    terms: dict[str, tuple[str, str]] = field(default_factory=dict)
    """severity / grade / fact code → (zh_CN, en)."""
    departments: dict[int, str] = field(default_factory=dict)

    def term(self, code: str) -> str:
        found = self.terms.get(code)
        if found is None:  # a code the plugin no longer has: shown bare, without its prefix
            return code.rpartition(":")[2]
        return found[1] if self.lang == EN else found[0]

    def when(self, iso: str) -> str:
        try:
            moment = dt.datetime.fromisoformat(str(iso))
        except ValueError:
            return str(iso)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return f"{moment.astimezone(ZoneInfo(self.zone)):%Y-%m-%d %H:%M}"


async def context(scope: TenantScope, lang: str = ZH) -> Context:
    """The tenant's zone, the plugin's terms and the department names (cached per process)."""
    from core.people import tenant_data
    from core.tickets.facts import plugin_of

    tax = (await plugin_of(scope)).taxonomy()
    terms = {t.code: (t.label_zh or t.label, t.label) for t in tax.severities}
    terms |= {f"grade:{t.code}": (t.label_zh or t.label, t.label) for t in tax.grades}
    terms |= {f"fact:{f.code}": (f.label_zh or f.label, f.label) for f in tax.facts}
    names = {i: name for i, (_, name) in (await tenant_data.departments(scope)).items()}
    zone = (await tenant_data.tenant_info(scope)).timezone
    return Context(lang=lang if lang in LANGUAGES else ZH, zone=zone, terms=terms,
                   departments=names)  # fmt: skip


_GRADES = {
    "full": ("全责", "full responsibility"),
    "main": ("主责", "main responsibility"),
    "secondary": ("次责", "secondary responsibility"),
    "none": ("无责", "no responsibility"),
}


def _values(params: dict[str, Any], ctx: Context) -> dict[str, str]:
    out = {k: str(v) for k, v in params.items()}
    lang = ctx.lang
    if "step" in params:
        out["step"] = word("step", str(params["step"]), lang) or ""
    if "done_by" in params:
        out["done_by"] = word("action", str(params["done_by"]), lang) or str(params["done_by"])
    if "severity" in params:
        out["severity"] = ctx.term(str(params["severity"]))
    if "due" in params:
        out["due"] = ctx.when(str(params["due"]))
    if "department_id" in params:
        out["department"] = ctx.departments.get(int(params["department_id"]), "—")
    if "grade" in params:
        code = str(params["grade"])
        found = ctx.terms.get(f"grade:{code}") or _GRADES.get(code)
        out["grade"] = code if found is None else (found[1] if lang == EN else found[0])
    if "half" in params:
        half = str(params["half"])
        if len(half) == 7 and half[4:6] == "-H":
            zh = f"{half[:4]}年{'上' if half.endswith('1') else '下'}半年"
            out["half"] = f"{half[:4]} {half[5:]}" if lang == EN else zh
    if "flags" in params:
        sep = ", " if lang == EN else "、"
        out["flags"] = sep.join(ctx.term(f"fact:{f}") for f in params["flags"] or [])
    return out


def render(kind: str, params: dict[str, Any] | None, ctx: Context, stored: str = "") -> str:
    """The notification's text in ``ctx.lang``. ``stored``: the message column of a row
    written before kinds had parameters (read back by :func:`legacy`; shown as is when its
    shape is unknown)."""
    if not params:
        params = legacy(kind, stored)
        if params is None:
            return stored
    spec = KINDS.get(kind)
    if spec is None:
        return stored or kind
    values = _values(params, ctx)
    for needs, zh, en in spec.variants:
        if needs <= params.keys():
            text = (en if ctx.lang == EN else zh).format_map(_Missing(values))
            # the seed passage the rule comes from, as the desk cites it
            return f"{text} [{params['seed']}]" if params.get("seed") else text
    return stored or kind


def subject(kind: str, lang: str = ZH) -> str:
    spec = KINDS.get(kind)
    if spec is None:
        return "Complaint notice" if lang == EN else "投诉处理通知"
    return spec.subject[1] if lang == EN else spec.subject[0]


def link(ticket_id: int | None, base: str = "") -> str | None:
    """The console page of the notification's ticket, or None: a path, after ``base`` when
    given (the deployment's ``TOUSU_PUBLIC_URL``, for e-mail and SMS)."""
    if ticket_id is None:
        return None
    return f"{base.rstrip('/')}/tickets/{ticket_id}"


CONSOLE_COOKIE = "tousu_lang"
"""The console's language cookie (``core.console.i18n.COOKIE``, named here: the console
sits above this area)."""


def reader_language(request: Any) -> str:
    """``zh_CN`` or ``en`` for the request's reader: a console page (any path outside
    ``/api/``) reads its ``?lang=`` or language cookie, Chinese by default — the console's
    own rule; an API client its ``Accept-Language`` (:func:`core.error_text.pick`)."""
    from core.error_text import pick

    if not str(request.url.path).startswith("/api/"):
        for lang in (request.query_params.get("lang"), request.cookies.get(CONSOLE_COOKIE)):
            if lang in LANGUAGES:
                return str(lang)
        return ZH
    return pick(request.headers.get("accept-language"))


def mail_body(text: str, ticket_id: int | None, lang: str = ZH, public_url: str = "") -> str:
    """The e-mail/SMS text: the notice, then its ticket's link (after ``public_url``)."""
    url = link(ticket_id, public_url)
    if url is None:
        return text
    return f"{text}\n{'Open' if lang == EN else '查看工单'}: {url}"


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "—"


# -- rows stored as English sentences before kinds had parameters -----------------------------

_LEGACY: dict[str, list[re.Pattern[str]]] = {
    "deadline_breached": [re.compile(r"^(?P<number>\S+): step (?P<step>\w+) overdue since "
                                     r"(?P<due>\S+)$")],
    "deadline_due_soon": [re.compile(r"^(?P<number>\S+): step (?P<step>\w+) is due at "
                                     r"(?P<due>\S+)$")],
    "extension_requested": [re.compile(r"^(?P<number>\S+): more time asked for step "
                                       r"(?P<step>\w+): (?P<reason>.*)$", re.S)],
    "escalation": [
        re.compile(r"^(?P<number>\S+): (?P<severity>\w+) complaint — report within "
                   r"(?P<minutes>\d+) minutes"),
        re.compile(r"^(?P<number>\S+): (?P<severity>\w+) complaint — report at once"),
        re.compile(r"^(?P<number>\S+): (?P<flags>[\w, ]+) — report to the leadership at once"),
    ],
    "duty_intake": [re.compile(r"^(?P<number>\S+): complaint taken out of hours")],
    **{kind: [re.compile(r"^(?P<period>\d{4}-\d{2}): the month's complaint statistics and "
                         r"analysis are due by (?P<local>\d{4}-\d{2}-\d{2} \d{2}:\d{2}) "
                         r"\((?P<tz>[^)]+)\)")]
       for kind in ("report_pack_due", "report_pack_overdue")},
}  # fmt: skip


def legacy(kind: str, message: str) -> dict[str, Any] | None:
    """The parameters of an English sentence stored before kinds had them, or None."""
    for pattern in _LEGACY.get(kind, []):
        m = pattern.match(message or "")
        if m:
            params: dict[str, Any] = {k: v for k, v in m.groupdict().items() if v is not None}
            if "flags" in params:
                params["flags"] = [f.strip() for f in params["flags"].split(",")]
            if "local" in params:  # a local time and its zone → the instant
                try:
                    local = dt.datetime.fromisoformat(params.pop("local"))
                    params["due"] = local.replace(tzinfo=ZoneInfo(params.pop("tz"))).isoformat()
                except (ValueError, KeyError):
                    return None
            return params
    return None
