"""Reading an upload off the wire: multipart, streamed, limited, hashed, sniffed.

The body is parsed as it arrives (``multipart``'s push parser, the one Litestar uses) into a
spooled temporary file — in memory up to 1 MB, on disk beyond — while the SHA-256 and the
size are computed; the tenant's size limit stops the transfer as soon as it is passed
(413), and a ``Content-Length`` already over it is refused before a byte is read. The media
type is sniffed from the bytes (``filetype``); the client's word is only checked against it.
"""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
from dataclasses import dataclass, field
from typing import IO, Any

import filetype
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser

from core.attachments.kinds import KINDS, canonical
from core.errors import N_, ApiError, Invalid

SPOOL = 1024 * 1024
HEAD = 8192
"""Bytes the sniffer reads."""
FORM_SLACK = 64 * 1024
"""Room for the boundaries, part headers and the ``kind`` field beyond the file itself."""
TEXT_LIMIT = 1024
"""Largest non-file form field."""
GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
"""What a client sends when it does not know a file's type: nothing to check against."""


class TooLarge(ApiError):
    status, code = 413, "too_large"


@dataclass
class Received:
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    file: IO[bytes] = field(repr=False)


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        "the file is larger than this tenant's limit of {mb} MB",
        field="file",
        params={"mb": limit // (1024 * 1024)},
        rule=f"at most {limit} bytes (tenant setting attachment_max_mb)",
        limit_bytes=limit,
    )


def _clean_name(raw: str) -> str:
    """The uploader's file name without any directory part or control characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return unicodedata.normalize("NFC", name)


async def receive(request: Any, limit: int) -> Received:
    """Parse ``request``'s multipart body (fields ``kind`` and ``file``) within ``limit``
    bytes of file. Raises 413 :class:`TooLarge` over the limit and 422 naming the field for
    a body that is not such a form; the caller closes ``Received.file``."""
    content_type, options = request.content_type
    boundary = options.get("boundary")
    if content_type != "multipart/form-data" or not boundary:
        raise Invalid(
            "send the file as multipart/form-data (fields kind and file)",
            field="body",
            rule="multipart/form-data with a boundary",
        )
    announced = request.content_length
    if announced is not None and announced > limit + FORM_SLACK:
        raise too_large(limit)
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL)
    hasher, size, head = hashlib.sha256(), 0, bytearray()
    texts: dict[str, bytearray] = {}
    segment: MultipartSegment | None = None
    filename: str | None = None
    declared = ""
    files = 0
    try:
        with PushMultipartParser(boundary.encode(), max_segment_count=8) as parser:
            async for chunk in request.stream():
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        segment = part
                        if part.name == "file":
                            files += 1
                            filename = part.filename or ""
                            declared = (part.content_type or "").lower()
                        elif part.filename is not None:
                            raise Invalid(
                                "unexpected file field {name}",
                                field=part.name,
                                params={"name": repr(part.name)},
                                rule="the file goes in the field named file",
                            )
                    elif part and segment is not None:
                        if segment.name == "file":
                            if files > 1:
                                raise Invalid(
                                    "one file per upload", field="file", rule="exactly one file"
                                )
                            size += len(part)
                            if size > limit:
                                raise too_large(limit)
                            hasher.update(part)
                            spool.write(part)
                            if len(head) < HEAD:
                                head.extend(part[: HEAD - len(head)])
                        else:
                            buf = texts.setdefault(segment.name, bytearray())
                            buf.extend(part)
                            if len(buf) > TEXT_LIMIT:
                                raise Invalid(
                                    "field {name} is too long",
                                    field=segment.name,
                                    params={"name": repr(segment.name)},
                                    rule=f"at most {TEXT_LIMIT} bytes",
                                )
                    elif not part:
                        segment = None
            if not parser.closed:
                raise Invalid("the form ended early", field="body", rule="complete multipart")
        kind = texts.get("kind", bytearray()).decode("utf-8", "replace").strip()
        return Received(
            kind=_check_kind(kind),
            filename=_check_filename(filename, files),
            content_type=sniff(kind, bytes(head), declared, size),
            size=size,
            sha256=hasher.hexdigest(),
            file=spool,
        )
    except (ParserError, ParserLimitReached) as exc:
        spool.close()
        raise Invalid(
            "the body is not a valid multipart form", field="body", rule="multipart/form-data"
        ) from exc
    except BaseException:  # refused: nothing is kept
        spool.close()
        raise


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid(
            f"unknown attachment kind {kind!r}" if kind else "say what the file is",
            field="kind",
            rule=f"one of {', '.join(KINDS)}",
        )
    return kind


NAME_LIMIT = 200
"""The longest file name taken, in characters (after the directory part is dropped). A
longer one is refused rather than cut: a cut name would lose its extension or change
meaning without the uploader seeing it."""


def _check_filename(filename: str | None, files: int) -> str:
    if files == 0 or filename is None:
        raise Invalid("no file in the form", field="file", rule="exactly one file")
    name = _clean_name(filename)
    if not name:
        raise Invalid("the file has no name", field="file", rule="a file name is required")
    if len(name) > NAME_LIMIT:
        raise Invalid(
            "the file name is longer than {limit} characters",
            field="file",
            params={"limit": NAME_LIMIT},
            rule=f"file name at most {NAME_LIMIT} characters",
            length=len(name),
        )
    return name


def sniff(kind: str, head: bytes, declared: str, size: int) -> str:
    """The media type of the bytes, if the kind accepts it. 422 naming ``file`` when the
    bytes are empty, of no recognised type, of a type the kind does not take, or of another
    type than the client declared (an executable called ``photo.jpg``)."""
    if size == 0:
        raise Invalid("the file is empty", field="file", rule="at least 1 byte")
    accepted = KINDS[kind].content_types
    found = filetype.guess_mime(head)
    if found is None or found not in accepted:
        raise Invalid(
            N_("a {found} file cannot be attached as {kind}")
            if found
            else N_("a file of no recognised type cannot be attached as {kind}"),
            field="file",
            params={"found": found, "kind": kind},
            rule=f"{kind} accepts {', '.join(accepted)} (sniffed from the bytes)",
            sniffed=found,
        )
    if declared.split(";")[0].strip() not in GENERIC and canonical(declared) != canonical(found):
        raise Invalid(
            "the file says it is {declared} but its bytes are {found}",
            field="file",
            params={"declared": declared, "found": found},
            rule="the declared content type must match the bytes",
            sniffed=found,
        )
    return found
