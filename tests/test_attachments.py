"""Evidence attachments on tickets, through the HTTP API on both backends (issue 12 §6).

[002 《客户投诉管理考核办法》第十四条] the call recording travels with the ticket;
[000 §篇1 5(5)2①a] closing on "service slip signed" needs the signed 《维修服务单》.
Upload is multipart and streamed, limited per tenant, sniffed, hashed; each upload and
download is a history event; the accused staff member never gets a file that identifies the
complainant; another tenant's ticket answers 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import make_operator, small_tenant
from sqlalchemy.ext.asyncio import create_async_engine

from core.attachments.receive import TooLarge, receive

T = "greenwood"
STAFF = "GW-S001"  # staff-wang
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 40
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 2000
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def upload(
    api: Any,
    tenant: str,
    user: str,
    ticket_id: int,
    kind: str,
    name: str,
    data: bytes,
    ctype: str = "application/octet-stream",
) -> Any:
    return api.client.post(
        f"/api/tickets/{ticket_id}/attachments",
        data={"kind": kind},
        files={"file": (name, data, ctype)},
        headers=api.headers(tenant, user),
    )


def fresh(api: Any, ticket: dict[str, Any], tenant: str = T) -> dict[str, Any]:
    r = api.get(tenant, "manager", f"/api/tickets/{ticket['id']}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def history(api: Any, ticket_id: int, user: str = "manager") -> list[dict[str, Any]]:
    return api.get(T, user, f"/api/tickets/{ticket_id}/history").json()  # type: ignore[no-any-return]


def test_upload_list_download_round_trip_with_history(api: Any) -> None:
    t = api.create(T, accused_staff=[STAFF])
    r = upload(api, T, "clerk", t["id"], "photo", "漏水现场 1.jpg", JPEG, "image/jpeg")
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["kind"] == "photo" and a["ticket_id"] == t["id"]
    assert a["content_type"] == "image/jpeg"  # sniffed from the bytes
    assert a["size"] == len(JPEG)
    assert a["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert a["filename"] == "漏水现场 1.jpg" and a["uploaded_by"] == "clerk"
    assert r.headers["location"] == f"/api/tickets/{t['id']}/attachments/{a['id']}"

    listed = api.get(T, "supervisor", f"/api/tickets/{t['id']}/attachments").json()
    assert [x["id"] for x in listed] == [a["id"]] and listed[0]["sha256"] == a["sha256"]

    d = api.get(T, "supervisor", f"/api/tickets/{t['id']}/attachments/{a['id']}")
    assert d.status_code == 200
    assert d.content == JPEG
    assert d.headers["content-type"].startswith("image/jpeg")
    assert d.headers["x-content-type-options"] == "nosniff"
    cd = d.headers["content-disposition"]
    assert cd.startswith("attachment;")  # never rendered inline
    assert f"filename*=UTF-8''{quote('漏水现场 1.jpg', safe='')}" in cd

    events = history(api, t["id"])
    attach = [e for e in events if e["action"] == "attach"]
    down = [e for e in events if e["action"] == "download_attachment"]
    assert len(attach) == 1 and attach[0]["actor"] == "clerk"
    assert attach[0]["payload"]["attachment_id"] == a["id"]
    assert attach[0]["payload"]["sha256"] == a["sha256"]
    assert attach[0]["payload"]["size"] == len(JPEG)
    assert len(down) == 1 and down[0]["actor"] == "supervisor"
    assert down[0]["payload"] == {"attachment_id": a["id"], "kind": "photo"}
    # each event moved the ticket's version on, like every history event
    assert fresh(api, t)["version"] == t["version"] + 2


def test_bytes_live_in_the_store_not_the_database(api: Any) -> None:
    t = api.create(T)
    a = upload(api, T, "clerk", t["id"], "letter", "来信.pdf", PDF, "application/pdf").json()
    root = Path(api.client.app.state.settings.storage_url)
    stored = [p for p in root.rglob("*") if p.is_file() and p.read_bytes() == PDF]
    assert len(stored) == 1
    assert "来信" not in str(stored[0])  # the uploader's name never becomes a path
    assert a["content_type"] == "application/pdf"


def test_sniffed_type_decides(api: Any) -> None:
    t = api.create(T)
    base = f"/api/tickets/{t['id']}/attachments"
    # an executable called a photo
    r = upload(api, T, "clerk", t["id"], "photo", "photo.jpg", EXE, "image/jpeg")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "file" and "sniffed" in err["rule"]
    assert err["sniffed"] == "application/x-msdownload"
    # PNG bytes declared as JPEG: the declaration must match the bytes
    r = upload(api, T, "clerk", t["id"], "photo", "p.jpg", PNG, "image/jpeg")
    assert r.status_code == 422
    assert r.json()["error"]["rule"] == "the declared content type must match the bytes"
    # a PDF is no photo; a call recording is audio
    r = upload(api, T, "clerk", t["id"], "photo", "p.pdf", PDF)
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"
    r = upload(api, T, "clerk", t["id"], "call_recording", "call.mp3", JPEG)
    assert r.status_code == 422 and "audio/mpeg" in r.json()["error"]["rule"]
    # the kind must be one of the kinds
    r = upload(api, T, "clerk", t["id"], "selfie", "p.jpg", JPEG)
    assert r.status_code == 422 and r.json()["error"]["field"] == "kind"
    # not a form at all
    r = api.post(T, "clerk", base, json={"kind": "photo"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "body"
    # nothing was kept
    assert api.get(T, "clerk", base).json() == []
    assert not [e for e in history(api, t["id"]) if e["action"] == "attach"]


def _limited_tenant(api: Any) -> str:
    slug = "attach-limit"
    doc = small_tenant(slug, "ATTL") | {"config": {"attachment_max_mb": 1}}
    r = api.client.post("/api/tenants", json=doc, headers=make_operator(api))
    assert r.status_code in (200, 201), r.text
    return slug


def test_size_limit_per_tenant(api: Any) -> None:
    slug = _limited_tenant(api)
    keys = {"Authorization": f"Bearer {slug}-clerk-test-key-0001"}
    r = api.client.post(
        "/api/tickets",
        json={"channel": "phone", "complainant": {"name": "李四", "contact": "13900001111"},
              "description": "meter"},
        headers=keys,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    base = f"/api/tickets/{tid}/attachments"
    limit = 1024 * 1024
    big = JPEG + b"\x00" * (limit - len(JPEG) + 1)
    r = api.client.post(base, data={"kind": "photo"}, files={"file": ("b.jpg", big)}, headers=keys)
    assert r.status_code == 413, r.text
    err = r.json()["error"]
    assert err["field"] == "file" and "attachment_max_mb" in err["rule"]
    assert err["limit_bytes"] == limit

    # without Content-Length (chunked) the stream's own count refuses it
    boundary = "tousu-test-boundary"
    r = api.client.post(
        base,
        content=iter(_form(boundary, 40)),
        headers=keys | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413, r.text
    # just under the limit passes
    ok = JPEG + b"\x00" * (limit - len(JPEG))
    r = api.client.post(base, data={"kind": "photo"}, files={"file": ("ok.jpg", ok)}, headers=keys)
    assert r.status_code == 201, r.text
    assert r.json()["size"] == limit
    assert len(api.client.get(base, headers=keys).json()) == 1


def _form(boundary: str, blocks: int, counter: list[int] | None = None) -> Iterator[bytes]:
    """A multipart body of a JPEG followed by ``blocks`` × 64 KiB, chunk by chunk."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nphoto\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="b.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    yield JPEG
    for _ in range(blocks):
        if counter is not None:
            counter.append(1)
        yield b"\x00" * 65536
    yield f"\r\n--{boundary}--\r\n".encode()


def test_an_upload_is_cut_off_as_soon_as_it_passes_the_limit() -> None:
    """The receiver stops pulling the body once the file passes the limit (the test client
    buffers whole bodies, so this drives the receiver with a request that streams)."""
    pulled: list[int] = []

    class Streaming:
        content_type = ("multipart/form-data", {"boundary": "b0undary"})
        content_length = None

        async def stream(self) -> Any:
            for chunk in _form("b0undary", 40, pulled):
                yield chunk
            yield b""

    with pytest.raises(TooLarge) as caught:
        asyncio.run(receive(Streaming(), 256 * 1024))
    assert caught.value.status == 413 and caught.value.field == "file"
    assert len(pulled) <= 5  # 256 KiB is 4 blocks: the other 35 were never read


def test_another_tenants_ticket_answers_404(api: Any) -> None:
    t = api.create(T)
    a = upload(api, T, "clerk", t["id"], "photo", "p.jpg", JPEG).json()
    base = f"/api/tickets/{t['id']}/attachments"
    assert api.get("citybus", "clerk", base).status_code == 404
    assert api.get("citybus", "manager", f"{base}/{a['id']}").status_code == 404
    r = upload(api, "citybus", "clerk", t["id"], "photo", "p.jpg", JPEG)
    assert r.status_code == 404 and r.json()["error"]["field"] == "ticket_id"
    # a file of another ticket is not reached through this one
    other = api.create(T)
    r = api.get(T, "clerk", f"/api/tickets/{other['id']}/attachments/{a['id']}")
    assert r.status_code == 404 and r.json()["error"]["field"] == "attachment_id"


def _real_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


def test_accused_staff_never_get_what_identifies_the_complainant(api: Any) -> None:
    t = api.create(T, accused_staff=[STAFF], accused_department="engineering")
    rec = upload(api, T, "clerk", t["id"], "call_recording", "13812345678.mp3", MP3).json()
    assert rec["content_type"] == "audio/mpeg"
    slip = upload(api, T, "clerk", t["id"], "service_slip", "slip.pdf", PDF).json()
    real = _real_jpeg()  # the accused get photos cleaned of metadata: the bytes must parse
    photo = upload(api, T, "clerk", t["id"], "photo", "张三丰家门口.jpg", real).json()
    base = f"/api/tickets/{t['id']}/attachments"

    seen = api.get(T, "staff-wang", base).json()
    assert [x["id"] for x in seen] == [photo["id"]]  # recording and signed slip left out
    assert "张三丰" not in seen[0]["filename"]  # the name is scrubbed at the boundary
    for hidden in (rec, slip):
        r = api.get(T, "staff-wang", f"{base}/{hidden['id']}")
        assert r.status_code == 403, r.text
        assert r.json()["error"]["rule"] == "complainant confidentiality"
    r = api.get(T, "staff-wang", f"{base}/{photo['id']}")
    assert r.status_code == 200 and r.content == real  # no metadata to remove
    assert quote("张三丰", safe="") not in r.headers["content-disposition"]
    # a role that never sees the complainant is refused the recording too
    assert api.get(T, "admin", f"{base}/{rec['id']}").status_code == 403
    # handling roles get it
    r = api.get(T, "head-engineering", f"{base}/{rec['id']}")
    assert r.status_code == 200 and r.content == MP3
    # the accused cannot add evidence to their own case
    r = upload(api, T, "staff-wang", t["id"], "photo", "mine.jpg", JPEG)
    assert r.status_code == 403
    # the refused downloads left no download event
    downs = [e for e in history(api, t["id"]) if e["action"] == "download_attachment"]
    assert sorted(e["actor"] for e in downs) == ["head-engineering", "staff-wang"]


HAPPY = [
    ("triage_valid", "clerk", {"category": "repair_quality", "severity": "minor",
                                "facets": {"nature": "valid"}}),
    ("register", "clerk", {"reason": "on_site"}),
    ("review", "supervisor", {"note": "ok"}),
    ("dispatch", "clerk", {"department": "engineering"}),
    ("first_contact", "head-engineering", {"note": "called"}),
    ("grade", "head-engineering", {"findings": "fixed", "grades": [
        {"staff": STAFF, "grade": "none", "findings": "not at fault"}]}),
    ("reply", "head-engineering", {"reply": "fixed", "apology": False}),
    ("follow_up", "clerk", {"note": "satisfied"}),
]  # fmt: skip


def test_closing_on_a_signed_slip_needs_the_slip(api: Any) -> None:
    t = api.create(T, accused_staff=[STAFF], accused_department="engineering")
    for action, user, body in HAPPY:
        t = api.act(T, user, t, action, **body)
    assert t["state"] == "followed_up"
    r = api.post(T, "manager", f"/api/tickets/{t['id']}/close",
                 json={"version": t["version"], "verification": "service_slip_signed"})  # fmt: skip
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "verification" and "000 §篇1 5(5)2①a" in err["rule"]
    # a photo is not the slip
    upload(api, T, "head-engineering", t["id"], "photo", "done.jpg", JPEG)
    t = fresh(api, t)
    r = api.post(T, "manager", f"/api/tickets/{t['id']}/close",
                 json={"version": t["version"], "verification": "service_slip_signed"})  # fmt: skip
    assert r.status_code == 422
    r = upload(api, T, "head-engineering", t["id"], "service_slip", "维修服务单.jpg", JPEG)
    assert r.status_code == 201, r.text
    t = api.act(T, "manager", fresh(api, t), "close", verification="service_slip_signed")
    assert t["state"] == "closed"
    slip = r.json()
    assert api.get(T, "manager", f"/api/tickets/{t['id']}/attachments/{slip['id']}").content == JPEG
    # the monthly bulletin [002 第二十二条] lists the evidence attached, not who read it
    bulletin = api.get(T, "manager", "/api/reports/bulletin").json()
    case = next(c for c in bulletin["cases"] if c["number"] == t["number"])
    steps = [x["action"] for x in case["handling"]]
    assert steps.count("attach") == 2 and "download_attachment" not in steps
    assert "附件：维修服务单" in [x["text"] for x in case["handling"]]
    # a closed record is final: evidence goes on after a reopen
    r = upload(api, T, "clerk", t["id"], "photo", "late.jpg", JPEG)
    assert r.status_code == 409 and r.json()["error"]["rule"] == "lifecycle"


@pytest.mark.parametrize("name", ["../../etc/passwd.jpg", "C:\\tmp\\x.jpg"])
def test_file_names_lose_their_directories(api: Any, name: str) -> None:
    t = api.create(T)
    a = upload(api, T, "clerk", t["id"], "photo", name, JPEG).json()
    assert "/" not in a["filename"] and "\\" not in a["filename"]
    assert a["filename"].endswith(".jpg")


def test_evidence_rows_cannot_be_changed_or_removed(api: Any) -> None:
    """The metadata is append-only in the database itself: the app's own login cannot
    UPDATE or DELETE a row (PostgreSQL: no privilege and a trigger; SQLite: a trigger)."""
    t = api.create(T)
    a = upload(api, T, "clerk", t["id"], "photo", "p.jpg", JPEG).json()

    async def attempt(sql: str) -> str:
        engine = create_async_engine(api.url)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(sql)
            return "allowed"
        except Exception as exc:  # the driver's error: permission or trigger
            return str(exc)
        finally:
            await engine.dispose()

    for sql in (
        f"UPDATE ticket_attachments SET kind = 'other' WHERE id = {a['id']}",
        f"DELETE FROM ticket_attachments WHERE id = {a['id']}",
    ):
        outcome = asyncio.run(attempt(sql))
        assert outcome != "allowed", sql
        assert "append-only" in outcome or "permission denied" in outcome, outcome
    listed = api.get(T, "clerk", f"/api/tickets/{t['id']}/attachments").json()
    assert [(x["id"], x["kind"]) for x in listed] == [(a["id"], "photo")]


def test_download_sends_each_safety_header_once(api: Any) -> None:
    """The console's safety middleware adds only what the attachment route did not set:
    one ``nosniff``, one (the download's own, sandboxing) Content-Security-Policy."""
    t = api.create(T)
    a = upload(api, T, "clerk", t["id"], "photo", "现场.jpg", JPEG, "image/jpeg").json()
    d = api.get(T, "supervisor", f"/api/tickets/{t['id']}/attachments/{a['id']}")
    assert d.status_code == 200
    for name in ("x-content-type-options", "content-security-policy", "x-frame-options",
                 "referrer-policy", "cache-control", "content-disposition"):  # fmt: skip
        assert len(d.headers.get_list(name)) == 1, (name, d.headers.get_list(name))
    assert d.headers["x-content-type-options"] == "nosniff"
    assert d.headers["content-security-policy"].startswith("sandbox")
    # an answer whose handler sets none still gets them all, once
    r = api.get(T, "supervisor", f"/api/tickets/{t['id']}")
    assert r.headers.get_list("x-content-type-options") == ["nosniff"]
    assert len(r.headers.get_list("content-security-policy")) == 1


@pytest.mark.parametrize("length", [201, 300, 1000])
def test_a_file_name_over_200_characters_is_refused(api: Any, length: int) -> None:
    t = api.create(T)
    name = "很" * (length - 4) + ".jpg"
    r = upload(api, T, "clerk", t["id"], "photo", name, JPEG, "image/jpeg")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "file" and "200" in err["rule"], r.text
    assert "文件名" in err["message"], r.text
    assert api.get(T, "clerk", f"/api/tickets/{t['id']}/attachments").json() == []
    # 200 characters, extension kept, is taken as given
    ok = upload(api, T, "clerk", t["id"], "photo", "很" * 196 + ".jpg", JPEG, "image/jpeg")
    assert ok.status_code == 201 and ok.json()["filename"] == "很" * 196 + ".jpg", ok.text
