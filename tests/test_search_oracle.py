"""Search is not an oracle (issue 21 item 1) and finds what it should (issue 23 item 8).

A reader shown a ticket's complainant masked — the staff member it names, the tenant admin —
searches the text as it is masked for them: the attack of the issue (digit by digit on a
phone in the description, an identity-card number, the given name) learns nothing, and no
query tells two tickets apart that differ only in masked text (a property test). Readers who
may see the complainant find a ticket by the name; phone numbers match with or without
spaces; full-width letters and digits match half-width ones. Both backends, through HTTP.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

ACCUSED = {"accused_staff": ["GW-S001"], "accused_department": "engineering"}  # staff-wang
MASKED_READERS = ("staff-wang", "admin")


def ids(api: Any, user: str, q: str) -> set[int]:
    r = api.client.get("/api/tickets", params={"q": q, "limit": 100},
                       headers=api.headers("greenwood", user))  # fmt: skip
    assert r.status_code == 200, r.text
    return {t["id"] for t in r.json()["items"]}


def ticket(api: Any, name: str, contact: str, description: str, **extra: Any) -> dict[str, Any]:
    return api.create(
        "greenwood",
        complainant={"name": name, "contact": contact, "address": "3栋1单元502"},
        description=description,
        **(ACCUSED | extra),
    )


def recover(api: Any, user: str, tid: int, prefix: str, alphabet: str, limit: int) -> str:
    """The issue's attack: extend ``prefix`` one character at a time, keeping each one for
    which the ticket comes back. Returns what it learned."""
    known = prefix
    for _ in range(limit):
        for ch in alphabet:
            if tid in ids(api, user, known + ch):
                known += ch
                break
        else:
            break
    return known[len(prefix) :]


GIVEN = "建国伟强军华明芳秀英丽敏静磊洋勇艳杰娟涛超"


def test_the_oracle_attack_learns_nothing(api: Any) -> None:
    """The issue's attack, rerun: against a clerk (who may see it all) it recovers the phone,
    the identity-card number and the name; as the accused and the tenant admin the same
    probes — and a brute force over every 3-digit continuation — never find the ticket."""
    phone, idcard = "13712341111", "110105198803154417"
    mark = uuid.uuid4().hex[:8]
    t = ticket(api, "李建国", "13800000000",
               f"{mark} 电话 {phone}，身份证{idcard}，投诉人李建国反映维修工态度恶劣")  # fmt: skip
    tid = t["id"]
    # the attack works where the reader may see the text: it is a real attack
    assert recover(api, "clerk", tid, "电话 ", "0123456789", 11) == phone
    assert recover(api, "clerk", tid, "身份证", "0123456789X", 18) == idcard
    assert recover(api, "clerk", tid, "投诉人李", GIVEN, 2) == "建国"
    started, probes = time.monotonic(), 0
    for user in MASKED_READERS:
        assert tid in ids(api, user, mark)  # they list it, by what they are shown
        assert recover(api, user, tid, "电话 ", "0123456789", 11) == ""
        assert recover(api, user, tid, "身份证", "0123456789X", 18) == ""
        assert recover(api, user, tid, "投诉人李", GIVEN, 2) == ""
        assert recover(api, user, tid, "投诉人", "李王张刘陈", 1) == ""
    # brute force: every 3-digit start of the phone and the card, every given-name pair
    # bounded: up to 5,000 probes (the count) or 50 s, whichever comes first; on the
    # shared 2-core machine SQLite answers ~45 a second through the TestClient
    budget, stop = (5000, 50.0) if api.backend == "sqlite" else (1000, 30.0)
    queries = [f"电话 {n:03d}" for n in range(1000)] + [f"身份证{n:03d}" for n in range(1000)]
    queries += [f"李{a}{b}" for a in GIVEN for b in GIVEN]
    queries += [f"{a}{b}反映" for a in GIVEN for b in GIVEN]
    queries += [f"1371234{n:04d}" for n in range(0, 10000, 7)]
    for q in queries[:budget]:
        assert tid not in ids(api, "staff-wang", q), q
        probes += 1
        if time.monotonic() - started > stop:
            break
    assert probes >= 100, f"only {probes} probes ran"  # a loaded machine runs fewer
    print(f"oracle attack [{api.backend}]: {probes} probes in {time.monotonic() - started:.1f} s")


def test_the_accused_sees_and_searches_nothing_of_the_complainant(api: Any) -> None:
    mark = uuid.uuid4().hex[:8]
    t = ticket(api, "周慧敏", "13955551234", f"{mark} 周慧敏说电梯坏了")
    got = api.get("greenwood", "staff-wang", f"/api/tickets/{t['id']}").json()
    assert got["complainant"] == {"name": "***", "contact": "***", "address": "***",
                                  "masked": True}  # fmt: skip
    assert "周慧敏" not in got["description"] and "周" not in got["complainant"]["name"]
    for q in ("周慧敏", "慧敏", "13955551234", "5555", "3栋1单元"):
        assert t["id"] not in ids(api, "staff-wang", q), q
        assert t["id"] not in ids(api, "admin", q), q


texts = st.text(alphabet="电梯维修物业保洁灯坏了反映态度差，。", min_size=0, max_size=12)
surnames = st.sampled_from("李王张刘陈杨赵黄周吴")
given_names = st.text(alphabet=GIVEN, min_size=2, max_size=2)
phones = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(
    before=texts,
    after=texts,
    a=st.tuples(surnames, given_names, phones),
    b=st.tuples(surnames, given_names, phones),
    cut=st.tuples(st.integers(0, 40), st.integers(1, 12)),
    data=st.data(),
)
def test_no_query_tells_apart_tickets_differing_only_in_masked_text(
    api: Any, before: str, after: str, a: Any, b: Any, cut: Any, data: Any
) -> None:
    mark = uuid.uuid4().hex[:6]

    def text(who: Any) -> str:
        return f"{mark}{before}电话 {who[2]}，{who[0]}{who[1]}反映{after}"

    one = ticket(api, a[0] + a[1], a[2], text(a))
    two = ticket(api, b[0] + b[1], b[2], text(b))
    shown = [api.get("greenwood", "staff-wang", f"/api/tickets/{t['id']}").json()
             for t in (one, two)]  # fmt: skip
    assume(shown[0]["description"] == shown[1]["description"])  # they differ only in masks
    raw = text(a) + text(b)
    start, length = cut
    queries = {
        raw[start % len(raw) : start % len(raw) + length],
        f"电话 {a[2][: length % 11 + 1]}",
        f"电话 {b[2][: length % 11 + 1]}",
        a[0] + a[1],
        b[1],
        a[2][-4:],
        data.draw(st.sampled_from(sorted(set(a[2] + b[2] + a[1] + b[1])))),
        mark,
    }
    # the ticket numbers differ and are shown to every reader: a query inside one is not
    # about masked text
    numbers = (one["number"].casefold(), two["number"].casefold())
    queries = {q for q in queries if q.strip() and not any(q.casefold() in n for n in numbers)}
    for user in MASKED_READERS:
        for q in sorted(queries):
            found = ids(api, user, q)
            assert (one["id"] in found) == (two["id"] in found), (user, q)


def test_readers_who_may_see_find_by_name_and_address(api: Any) -> None:
    name = "欧阳" + uuid.uuid4().hex[:4].upper()
    t = ticket(api, name, "13911112222", "楼道堆放杂物")
    for user in ("clerk", "manager", "supervisor"):
        assert t["id"] in ids(api, user, name), user
    assert t["id"] not in ids(api, "admin", name)  # not needed: not searchable either


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("电话 139 1234 5678 请回电", "13912345678"),
        ("电话 13912345678 请回电", "139 1234 5678"),
        ("电话 139-1234-5678", "1391234 5678"),
        ("ＡＢＣ栋１２号 漏水", "abc栋12号"),
        ("abc栋12号 漏水", "ＡＢＣ栋１２号"),
    ],
)
def test_spaces_in_numbers_and_full_width_forms_are_ignored(
    api: Any, stored: str, query: str
) -> None:
    mark = uuid.uuid4().hex[:6]
    t = ticket(api, "钱多多", "13800001111", f"{mark} {stored}")
    assert t["id"] in ids(api, "clerk", query)


@pytest.mark.parametrize(
    "spoken",
    [
        "号码一三九八七六五四三二一",  # the tester's sample
        "号码一三九 八七六五-四三二一",  # separators as between Arabic digits
        "电话幺三九捌柒陆伍肆叁贰壹",  # read aloud (幺) and financial numerals
        "另一位邻居一五零零零零零一一一一也说了",  # a phone that is not the complainant's
    ],
)
def test_a_phone_in_chinese_numerals_is_masked_and_not_searchable(api: Any, spoken: str) -> None:
    mark = uuid.uuid4().hex[:8]
    t = ticket(api, "周慧敏", "13987654321", f"{mark} {spoken}")
    for user in MASKED_READERS:
        got = api.get("greenwood", user, f"/api/tickets/{t['id']}").json()
        assert "***" in got["description"], (user, got["description"])
        for digits in ("三九八七", "四三二一", "捌柒陆伍", "零零零", "一一一一"):
            assert digits not in got["description"], (user, got["description"])
        for q in ("四三二一", "八七六五", "肆叁贰壹", "一一一一"):
            assert t["id"] not in ids(api, user, q), (user, q)
    # whoever may see the complainant still finds and reads it
    assert t["id"] in ids(api, "clerk", mark)
    assert spoken in api.get("greenwood", "clerk", f"/api/tickets/{t['id']}").json()["description"]
