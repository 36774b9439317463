"""The kinds of evidence a ticket carries, as data: what each accepts and who may see it.

[002 《客户投诉管理考核办法》第十四条] "录音信息可根据需要进行传递": the call recording may travel
with the ticket. [000 §篇1 5(5)2①a]: a registered case closes once the complainant has signed
the 《维修服务单》 (service slip). Photos and letters are the rest of the evidence (domain §1).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.error_text import label_codes

IMAGES = ("image/jpeg", "image/png", "image/webp", "image/heic")
PDF = ("application/pdf",)
OFFICE = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)
"""A typed letter or statement (DOCX); its document properties are removed for readers who
may not see the complainant (core.attachments.scrub)."""
AUDIO = ("audio/mpeg", "audio/x-wav", "audio/ogg", "audio/mp4", "audio/amr", "audio/x-flac")


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    label_zh: str
    content_types: tuple[str, ...]
    """Media types the bytes may be (sniffed from the bytes, never taken from the client)."""
    identifies_complainant: bool
    """Refused to readers who may not see the complainant: the staff member complained about
    and roles without the need (domain §7, [002 《供电局客户投诉举报管理办法》第二条])."""


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        # The caller's voice and number are on the recording [002 第十四条].
        Kind("call_recording", "Call recording", "通话录音", AUDIO, True),
        # Decision: the signed slip carries the complainant's signature and address
        # [000 §篇1 5(5)2①a], so it identifies them like the recording and the letter do
        # (domain §9: where the seeds are silent, protect the complainant).
        Kind("service_slip", "Signed service slip", "维修服务单", IMAGES + PDF, True),
        Kind("letter", "Complainant's letter", "投诉信函", IMAGES + PDF + OFFICE, True),
        Kind("photo", "Photo", "现场照片", IMAGES, False),
        # Decision: no audio as "other" — a recording carries a voice, most often the
        # complainant's [002 第十四条], and "other" is shown to the accused; audio goes in as
        # call_recording (domain §9: where the seeds are silent, protect the complainant).
        Kind("other", "Other evidence", "其他材料", IMAGES + PDF + OFFICE, False),
    )
}

DEFAULT_MAX_MB = 20
"""A tenant's largest attachment unless its tenant file says ``attachment_max_mb``."""

ALIASES: dict[str, str] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/jpe": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-citrix-png": "image/png",
    "image/x-citrix-jpeg": "image/jpeg",
    "image/x-webp": "image/webp",
    "image/heif": "image/heic",
    "image/heic-sequence": "image/heic",
    "application/x-pdf": "application/pdf",
    "application/acrobat": "application/pdf",
    "text/pdf": "application/pdf",
    "audio/mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-mpeg-3": "audio/mpeg",
    "audio/mpg": "audio/mpeg",
    "audio/wav": "audio/x-wav",
    "audio/wave": "audio/x-wav",
    "audio/vnd.wave": "audio/x-wav",
    "audio/x-pn-wav": "audio/x-wav",
    "audio/flac": "audio/x-flac",
    "audio/x-ogg": "audio/ogg",
    "application/ogg": "audio/ogg",
    "audio/m4a": "audio/mp4",
    "audio/x-m4a": "audio/mp4",
    "audio/aac": "audio/mp4",
    "audio/amr-wb": "audio/amr",
    "audio/x-amr": "audio/amr",
}
"""Other names clients (browsers, phones, recorders) give the media types above: a declared
type is compared with the sniffed one through this table (issue 21 item 7: WAV declared
``audio/wav``, JPEG ``image/jpg``, MP3 ``audio/mp3`` were refused)."""


def canonical(media_type: str) -> str:
    """A declared media type as :mod:`filetype` names it (lower case, parameters dropped,
    aliases resolved: ``Audio/WAV; codecs=1`` → ``audio/x-wav``)."""
    bare = media_type.split(";")[0].strip().lower()
    return ALIASES.get(bare, bare)


label_codes("kind", {code: k.label_zh for code, k in KINDS.items()})
