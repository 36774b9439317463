"""The kinds of evidence a ticket carries, as data: what each accepts and who may see it.

[002 《客户投诉管理考核办法》第十四条] "录音信息可根据需要进行传递": the call recording may travel
with the ticket. [000 §篇1 5(5)2①a]: a registered case closes once the complainant has signed
the 《维修服务单》 (service slip). Photos and letters are the rest of the evidence (domain §1).
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGES = ("image/jpeg", "image/png", "image/webp", "image/heic")
PDF = ("application/pdf",)
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
        Kind("letter", "Complainant's letter", "投诉信函", IMAGES + PDF, True),
        Kind("photo", "Photo", "现场照片", IMAGES, False),
        # Decision: no audio as "other" — a recording carries a voice, most often the
        # complainant's [002 第十四条], and "other" is shown to the accused; audio goes in as
        # call_recording (domain §9: where the seeds are silent, protect the complainant).
        Kind("other", "Other evidence", "其他材料", IMAGES + PDF, False),
    )
}

DEFAULT_MAX_MB = 20
"""A tenant's largest attachment unless its tenant file says ``attachment_max_mb``."""
