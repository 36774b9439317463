"""What a photo says (issue 23 item 7) and what a client calls a file (issue 21 item 7).

A JPEG with EXIF GPS, XMP and a comment, a PNG whose text chunks hold the complainant's
name, phone and address, a PDF with document information and XMP, a DOCX with document
properties: the accused staff member and the tenant admin (who may not see the complainant)
download them without that metadata, the picture or text intact; the desk and management
get the stored bytes. A file whose metadata cannot be removed is refused them (403). Common
aliases of the declared media type are accepted. Both backends, through HTTP.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import pillow_heif
import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter

pillow_heif.register_heif_opener()  # the test reads HEIC back too
T = "greenwood"
NAME, PHONE, ADDRESS = "欧阳春花", "13812345678", "翠苑小区7栋302"
SECRETS = (NAME.encode(), PHONE.encode(), ADDRESS.encode(), NAME.encode("utf-16-be"))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CLEANED_FOR = ("staff-wang", "admin")
ORIGINAL_FOR = ("clerk", "manager")


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = f"{PHONE} {ADDRESS}"
    exif[ExifTags.Base.Artist] = PHONE
    exif[ExifTags.Base.Orientation] = 6  # taken with the phone on its side
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (22.0, 32.0, 10.0), 3: "E", 4: (114.0, 3.0, 5.0)}
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{NAME}</dc:creator></x:xmpmeta>'
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(
        out, format="JPEG", exif=exif.tobytes(), xmp=xmp.encode(), comment=PHONE
    )
    return out.getvalue()


def _exif() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = f"{NAME} {PHONE}"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (22.0, 32.0, 10.0), 3: "E", 4: (114.0, 3.0, 5.0)}
    return exif.tobytes()


def webp_with_exif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (90, 10, 10)).save(
        out, format="WEBP", lossless=True, exif=_exif(), xmp=f"<x>{ADDRESS}</x>".encode()
    )
    return out.getvalue()


def heic_with_exif() -> bytes:  # an iPhone's photo
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (30, 60, 90)).save(
        out, format="HEIF", exif=_exif(), xmp=f"<x>{PHONE}</x>".encode()
    )
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Author", PHONE)
    info.add_itxt("Description", f"{NAME} {PHONE} {ADDRESS}")
    info.add_text("Comment", ADDRESS, zip=True)
    out = io.BytesIO()
    Image.new("RGBA", (24, 24), (0, 200, 0, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def pdf_with_properties() -> bytes:
    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.add_metadata({"/Author": NAME, "/Title": PHONE, "/Subject": ADDRESS})
    w.xmp_metadata = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><pdf:Author>{PHONE}</pdf:Author></x:xmpmeta>'
    ).encode()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def docx_with_properties() -> bytes:
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
        "word/document.xml": "<w:document><w:body>楼道灯坏了</w:body></w:document>",
        "docProps/core.xml": f"<cp:coreProperties><dc:creator>{NAME}</dc:creator>"
        f"<cp:lastModifiedBy>{PHONE}</cp:lastModifiedBy></cp:coreProperties>",
        "docProps/app.xml": f"<Properties><Company>{ADDRESS}</Company></Properties>",
        "docProps/custom.xml": f"<Properties><property>{PHONE}</property></Properties>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def upload(api: Any, tid: int, kind: str, name: str, data: bytes, ctype: str) -> Any:
    return api.client.post(
        f"/api/tickets/{tid}/attachments",
        data={"kind": kind},
        files={"file": (name, data, ctype)},
        headers=api.headers(T, "clerk"),
    )


def ticket(api: Any) -> dict[str, Any]:
    return api.create(
        T,
        complainant={"name": NAME, "contact": PHONE, "address": ADDRESS},
        description="楼道灯坏了",
        accused_staff=["GW-S001"],  # staff-wang
        accused_department="engineering",
    )


def download(api: Any, user: str, tid: int, aid: int) -> Any:
    return api.get(T, user, f"/api/tickets/{tid}/attachments/{aid}")


def readable(data: bytes, ctype: str) -> bytes:
    """The bytes a reader could look at: a DOCX's parts unpacked, other files as they are."""
    if ctype != DOCX:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return b"".join(z.read(n) for n in z.namelist())


def no_secret_in(data: bytes, ctype: str) -> None:
    text = readable(data, ctype)
    for secret in SECRETS:
        assert secret not in text, secret


CASES = [
    ("photo", "a.jpg", jpeg_with_gps, "image/jpeg"),
    ("photo", "b.png", png_with_text, "image/png"),
    ("photo", "e.webp", webp_with_exif, "image/webp"),
    ("photo", "f.heic", heic_with_exif, "image/heic"),
    ("other", "c.pdf", pdf_with_properties, "application/pdf"),
    ("other", "d.docx", docx_with_properties, DOCX),
]


@pytest.mark.parametrize(("kind", "name", "make", "ctype"), CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_metadata_is_removed_for_readers_who_may_not_see_the_complainant(
    api: Any, kind: str, name: str, make: Any, ctype: str
) -> None:
    original = make()
    assert any(s in readable(original, ctype) for s in SECRETS)  # the sample carries them
    t = ticket(api)
    r = upload(api, t["id"], kind, name, original, ctype)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    for user in ORIGINAL_FOR:  # those who may see the complainant: the evidence as received
        d = download(api, user, t["id"], aid)
        assert d.status_code == 200 and d.content == original, user
    for user in CLEANED_FOR:
        d = download(api, user, t["id"], aid)
        assert d.status_code == 200, (user, d.text)
        cleaned = d.content
        no_secret_in(cleaned, ctype)
        assert d.headers["content-type"].startswith(ctype)
        assert int(d.headers["content-length"]) == len(cleaned)
        assert d.headers["etag"] == f'"{hashlib.sha256(cleaned).hexdigest()}"'
        if ctype.startswith("image/"):
            img = Image.open(io.BytesIO(cleaned))
            before = Image.open(io.BytesIO(original))
            # the orientation alone survives (the photo still shows upright), nothing else
            kept = {ExifTags.Base.Orientation: 6} if ctype == "image/jpeg" else {}
            assert img.size == before.size and dict(img.getexif()) == kept
            assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert cleaned.count(b"Exif\x00\x00") == (ctype == "image/jpeg")  # well-formed
            assert not {"xmp", "comment"} & set(img.info)
            assert not getattr(img, "text", {})
            if ctype != "image/heic":  # HEIC alone is encoded again, with a loss
                assert img.tobytes() == before.tobytes()  # lossless: the very same pixels
        elif ctype == "application/pdf":
            pdf = PdfReader(io.BytesIO(cleaned))
            assert len(pdf.pages) == 1
            assert not pdf.metadata and pdf.xmp_metadata is None
        else:
            with zipfile.ZipFile(io.BytesIO(cleaned)) as z:
                assert z.read("word/document.xml").decode() == (
                    "<w:document><w:body>楼道灯坏了</w:body></w:document>"
                )
    events = api.get(T, "manager", f"/api/tickets/{t['id']}/history").json()
    downs = [e for e in events if e["action"] == "download_attachment"]
    assert len(downs) == len(ORIGINAL_FOR) + len(CLEANED_FOR)


def test_a_file_that_cannot_be_cleaned_is_refused_not_given(api: Any) -> None:
    """A JPEG whose segments do not parse: the desk gets it, the accused a 403 (fail
    closed) and no download event for them."""
    broken = (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + PHONE.encode()
    )
    t = ticket(api)
    aid = upload(api, t["id"], "photo", "x.jpg", broken, "image/jpeg").json()["id"]
    assert download(api, "clerk", t["id"], aid).content == broken
    r = download(api, "staff-wang", t["id"], aid)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["rule"] == "complainant confidentiality"
    assert PHONE not in r.text
    events = api.get(T, "manager", f"/api/tickets/{t['id']}/history").json()
    assert [e["actor"] for e in events if e["action"] == "download_attachment"] == ["clerk"]


WAV = b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00" + b"\x40\x1f\x00\x00" * 2
WAV += b"\x02\x00\x10\x00data\x00\x08\x00\x00" + b"\x00" * 2048
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 2000


@pytest.mark.parametrize(
    ("kind", "name", "data", "declared", "sniffed"),
    [
        ("call_recording", "a.wav", WAV, "audio/wav", "audio/x-wav"),
        ("call_recording", "a.wav", WAV, "audio/wave", "audio/x-wav"),
        ("call_recording", "a.wav", WAV, "audio/vnd.wave", "audio/x-wav"),
        ("call_recording", "a.mp3", MP3, "audio/mp3", "audio/mpeg"),
        ("call_recording", "a.mp3", MP3, "audio/mpeg3", "audio/mpeg"),
        ("photo", "a.jpg", None, "image/jpg", "image/jpeg"),
        ("photo", "a.jpg", None, "image/pjpeg", "image/jpeg"),
        ("photo", "a.jpg", None, "IMAGE/JPG; charset=binary", "image/jpeg"),
        ("other", "a.pdf", None, "application/x-pdf", "application/pdf"),
    ],
)
def test_common_aliases_of_the_declared_type_are_accepted(
    api: Any, kind: str, name: str, data: bytes | None, declared: str, sniffed: str
) -> None:
    body = (
        data if data is not None else (jpeg_with_gps() if "jpg" in name else pdf_with_properties())
    )
    t = api.create(T)
    r = upload(api, t["id"], kind, name, body, declared)
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == sniffed


def test_an_alias_of_another_type_is_still_refused(api: Any) -> None:
    t = api.create(T)
    r = upload(api, t["id"], "photo", "a.jpg", png_with_text(), "image/jpg")
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"
    r = upload(api, t["id"], "call_recording", "a.wav", MP3, "audio/wav")
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"
