"""What a file says besides its content: identifying metadata removed before a download.

Issue 23 item 7: a phone's photo carries the place it was taken (EXIF GPS), the device and
often the owner's name; a PNG's text chunks, a PDF's document information and XMP, a DOCX's
document properties (author, last modified by, company) can hold the complainant's name,
phone and address. Domain §7 (对投诉举报者严格保密 [002 《供电局客户投诉举报管理办法》第二条]):
a reader who may not see the complainant (:func:`core.tickets.complainant.level` is not
``full``) gets the file **with that metadata removed**; readers who may see the complainant
get the original bytes (the evidence as received; its sha256 is the stored one).

How each format is cleaned (the picture or text itself is never re-encoded where avoidable):

- JPEG: segment by segment, losslessly — every APP1…APP15 segment (EXIF with GPS, XMP,
  IPTC/Photoshop) and every comment is dropped, except an ICC colour profile (APP2
  ``ICC_PROFILE``) and Adobe's colour-transform flag (APP14 ``Adobe``) which say how to
  show the colours and nothing about anyone. The EXIF orientation alone is written back
  (a new EXIF block holding only it, by Pillow), so the photo still shows upright.
- PNG: chunk by chunk, losslessly — only the chunks that draw the image are kept (IHDR,
  PLTE, IDAT, IEND, transparency, colour and gamma, physical size, animation); text
  (tEXt, zTXt, iTXt), EXIF (eXIf), timestamps and unknown chunks are dropped.
- WebP: decoded and written again by Pillow (lossless), without EXIF or XMP.
- HEIC (an iPhone's photo): decoded and written again (``pillow-heif``, quality 95) without
  EXIF, XMP, thumbnails or auxiliary images — the one format re-encoded with a loss.
- PDF: ``pypdf`` rewrites the file without the document information dictionary and the
  XMP metadata stream (unreferenced objects are not written).
- DOCX (and the other Office Open XML files): ``docProps/core.xml``, ``app.xml`` and
  ``custom.xml`` are replaced by empty property sets; every other part is copied as is.

A file that cannot be cleaned (a damaged PDF or image, a type not listed) is refused to such
readers (:class:`NotCleanable` → 403 at the route): fail closed.
"""

from __future__ import annotations

import io
import struct
import zipfile

from core.errors import Forbidden

JPEG, PNG, WEBP, HEIC = "image/jpeg", "image/png", "image/webp", "image/heic"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OFFICE = (DOCX,)
MAX_SEGMENTS = 100_000
"""A JPEG or PNG with more segments than this is refused rather than walked."""


class NotCleanable(Forbidden):
    """403: the file's metadata cannot be removed for a reader who may not see the
    complainant, so it is not given to them."""


def _refuse(why: str) -> NotCleanable:
    return NotCleanable(
        "this file's metadata cannot be removed; it is not shown to you",
        field="attachment_id",
        rule="complainant confidentiality",
        reason=why,
    )


# ---------------------------------------------------------------- JPEG


def _jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise _refuse("not a JPEG")
    out, i = [data[:2]], 2
    for _ in range(MAX_SEGMENTS):
        if i + 4 > len(data) or data[i] != 0xFF:
            raise _refuse("damaged JPEG")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the entropy-coded picture follows, kept whole
            out.append(data[i:])
            orientation = _orientation_segment(data)
            if orientation:  # right after SOI (and a JFIF APP0), where readers look for it
                out.insert(2 if out[1].startswith(b"\xff\xe0") else 1, orientation)
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(data[i : i + 2])
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise _refuse("damaged JPEG")
        body = data[i + 4 : end]
        app = 0xE1 <= marker <= 0xEF
        keep = not (app or marker == 0xFE) or (
            (marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"))
            or (marker == 0xEE and body.startswith(b"Adobe"))
        )
        if keep:
            out.append(data[i:end])
        i = end
    raise _refuse("too many JPEG segments")


def _orientation_segment(data: bytes) -> bytes:
    """An APP1 EXIF segment holding only the photo's orientation (none when it is upright
    or unknown)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            value = img.getexif().get(0x0112)
    except Exception:  # an unreadable EXIF block says nothing worth keeping
        return b""
    if not isinstance(value, int) or not 2 <= value <= 8:
        return b""
    exif = Image.Exif()
    exif[0x0112] = value
    body = exif.tobytes()  # starts with the "Exif\0\0" identifier already
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


# ---------------------------------------------------------------- PNG

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = frozenset(
    b"IHDR PLTE IDAT IEND tRNS gAMA cHRM sRGB iCCP sBIT pHYs bKGD hIST acTL fcTL fdAT".split()
)
"""Chunks that draw the image (PNG 3rd ed. §5.6, APNG); everything else is dropped."""


def _png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise _refuse("not a PNG")
    out, i = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    for _ in range(MAX_SEGMENTS):
        if i + 12 > len(data):
            raise _refuse("damaged PNG")
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise _refuse("damaged PNG")
        if kind in _PNG_KEEP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            return b"".join(out)
    raise _refuse("too many PNG chunks")


# ---------------------------------------------------------------- WebP (Pillow)


def _webp(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            frames = getattr(img, "n_frames", 1)
            out = io.BytesIO()
            # no exif= / xmp= arguments: Pillow writes neither
            img.save(out, format="WEBP", lossless=True, save_all=frames > 1)
            return out.getvalue()
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise _refuse("damaged WebP") from exc


# ---------------------------------------------------------------- HEIC (pillow-heif)

_HEIF_EXTRAS = ("exif", "xmp", "metadata", "thumbnails", "depth_images", "aux")


def _heic(data: bytes) -> bytes:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()  # idempotent
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            for key in _HEIF_EXTRAS:
                img.info.pop(key, None)
            out = io.BytesIO()
            img.save(out, format="HEIF", quality=95, exif=None, xmp=None)
            return out.getvalue()
    except Exception as exc:  # libheif's errors have no common type: fail closed
        raise _refuse("damaged HEIC") from exc


# ---------------------------------------------------------------- PDF (pypdf)


def _pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise _refuse("encrypted PDF")
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None  # the document information dictionary (/Info)
        writer.xmp_metadata = None  # the catalogue's XMP stream (/Metadata)
        for page in writer.pages:  # pages may carry their own XMP
            if "/Metadata" in page:
                del page["/Metadata"]
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except NotCleanable:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _refuse("damaged PDF") from exc


# ---------------------------------------------------------------- Office Open XML

_EMPTY_PARTS = {
    "docProps/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'xmlns:dcterms="http://purl.org/dc/terms/" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    ),
    "docProps/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>'
    ),
    "docProps/custom.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'custom-properties"/>'
    ),
}
MAX_PARTS = 10_000


def _office(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            infos = src.infolist()
            if len(infos) > MAX_PARTS:
                raise _refuse("too many parts")
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
                for info in infos:
                    body = _EMPTY_PARTS.get(info.filename)
                    if body is None:
                        body = src.read(info)
                    # the parts' own timestamps say when someone edited: not copied
                    dst.writestr(zipfile.ZipInfo(info.filename), body, zipfile.ZIP_DEFLATED)
            return out.getvalue()
    except NotCleanable:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
        raise _refuse("damaged document") from exc


_CLEANERS = {JPEG: _jpeg, PNG: _png, WEBP: _webp, HEIC: _heic, PDF: _pdf} | {
    t: _office for t in OFFICE
}


def clean(content_type: str, data: bytes) -> bytes:
    """``data`` without identifying metadata (see the module text). Raises
    :class:`NotCleanable` (403, field ``attachment_id``) for a type that cannot be cleaned
    or a file that does not parse."""
    cleaner = _CLEANERS.get(content_type)
    if cleaner is None:
        raise _refuse(f"{content_type} files keep their metadata")
    return cleaner(data)
