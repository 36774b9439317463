"""The admin page's forms (fines, deadlines, calendar, monthly pay, the ledger run, webhooks)
refuse in the words the page shows: every field marked ``*`` and left empty is named at once
by the label beside it (月份, not 期间), a field's label is never said twice
(``数量：数量：…``) and no pattern (``^(19|2[01])…$``) reaches the admin. Over HTTP on both
backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import csrf, login

from core.app import create_app
from core.settings import load_settings


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def refusal(web: TestClient[Any], form: str, data: dict[str, str]) -> str:
    r = web.post(f"/admin/do/{form}", data={"_csrf_token": csrf(web, "/admin"), **data})
    assert r.status_code == 422, (form, r.status_code, r.text[:300])
    m = re.search(rf'<p class="form-error" data-form="{form}">([^<]*)</p>', r.text)
    assert m, r.text[:3000]
    return m.group(1)


@pytest.mark.parametrize(
    ("form", "data", "said"),
    [
        ("pay", {"_staff": "GW-S001", "_period": "", "amount_yuan": ""},
         ["月份为必填项", "金额（元）为必填项"]),
        ("pay", {"_staff": "GW-S001", "_period": "2026-12", "amount_yuan": ""},
         ["金额（元）为必填项"]),
        ("ledger", {"period": ""}, ["月份为必填项"]),
        ("fine", {"_rule": "tier_1", "amount_yuan": "", "reason": ""}, ["金额（元）为必填项"]),
        ("calendar", {"_day": "", "kind": ""}, ["日期为必填项", "类型为必填项"]),
        ("webhook", {"url": "", "topics": ""}, ["接收地址（URL）为必填项"]),
    ],
)  # fmt: skip
def test_every_marked_field_left_empty_is_named_by_its_label(
    web: TestClient[Any], form: str, data: dict[str, str], said: list[str]
) -> None:
    assert login(web, "admin").status_code == 303
    text = refusal(web, form, data)
    assert text.split("；") == said, text


@pytest.mark.parametrize(
    ("form", "data", "label"),
    [
        ("deadline", {"step": "dispatch", "amount": "-1", "unit": "hours"}, "数量"),
        ("deadline", {"step": "dispatch", "amount": "1", "unit": "weeks"}, "单位"),
        ("calendar", {"_day": "2026-12-25", "kind": "zzz"}, "类型"),
        ("fine", {"_rule": "tier_1", "amount_yuan": "abc"}, "金额（元）"),
        ("ledger", {"period": "2026-13"}, "月份"),
        ("webhook", {"url": "ftp://x", "topics": ""}, "接收地址（URL）"),
    ],
)  # fmt: skip
def test_a_wrong_value_is_refused_once_by_its_label_without_a_pattern(
    web: TestClient[Any], form: str, data: dict[str, str], label: str
) -> None:
    assert login(web, "admin").status_code == 303
    text = refusal(web, form, data)
    assert text.startswith(f"{label}：") and text.count(label) == 1, text
    rest = re.sub(r"&#39;[^&]*&#39;", "", text.removeprefix(f"{label}："))  # typed values aside
    assert not re.search(r"[\^$\\]|[A-Za-z_]{3,}", rest), text
