"""Contacts are checked at intake (issue 19): a mobile, a landline with its area code or an
e-mail address; anything else is a 422 naming ``complainant.contact`` in Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from core.tickets.schemas import valid_contact

BODY = {"channel": "phone", "description": "电梯停运", "complainant": {"name": "张三丰"}}


@pytest.mark.parametrize(
    "contact",
    [
        "13812345678",
        "+86 138 1234 5678",
        "138-1234-5678",
        "020-12345678",
        "0755 8888 8888",
        "(021)62345678",
        "010-12345678转123",
        "62345678",
        "95598",
        "4008123456",
        "zhang.san@example.com",
    ],
)
def test_a_way_to_reach_someone_is_accepted(contact: str) -> None:
    assert valid_contact(contact)


@pytest.mark.parametrize(
    "contact", ["abc", "1", "1381234567", "23812345678", "zhang@", "12345", "电话", "a@b"]
)
def test_anything_else_is_refused(contact: str) -> None:
    assert not valid_contact(contact)


def test_intake_refuses_abc_naming_the_field_in_chinese(api: Any) -> None:
    body = BODY | {"complainant": {"name": "张三丰", "contact": "abc"}}
    r = api.post("greenwood", "clerk", "/api/tickets", json=body)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "complainant.contact", err
    assert "手机号" in err["message"] and "电子邮箱" in err["message"], err
    en = api.post(
        "greenwood", "clerk", "/api/tickets", json=body, headers={"Accept-Language": "en"}
    ).json()["error"]
    assert "e-mail" in en["message"] and not any("\u4e00" <= c <= "\u9fff" for c in en["message"])
    ok = api.post(
        "greenwood",
        "clerk",
        "/api/tickets",
        json=BODY | {"complainant": {"name": "张三丰", "contact": "020-12345678"}},
    )
    assert ok.status_code == 201, ok.text
