"""Where attachments' bytes live: an object store through ``obstore``.

``TOUSU_STORAGE_URL`` picks it (:mod:`core.settings`):

- unset, a path, or ``file:///path``: a local directory (the embedded default is
  ``./var/attachments``, beside the default SQLite file);
- ``s3://bucket/prefix``: S3 or an S3-compatible server (``TOUSU_S3_ENDPOINT``, region and
  keys from the settings, else the usual ``AWS_*`` environment).

Keys are ``t<tenant>/ticket-<ticket>/<random>``: no uploader-chosen text reaches a path.
The database holds only metadata (:class:`core.attachments.models.Attachment`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import obstore
from obstore.store import LocalStore, S3Store

from core.errors import ApiError
from core.settings import Settings

DEFAULT_DIR = Path("var/attachments")


class StorageUnavailable(ApiError):
    """The object store did not answer (503: the request may be sent again)."""

    status, code = 503, "storage_unavailable"


def open_store(settings: Settings) -> Any:
    """The store ``settings`` name. Raises ``ValueError`` for a URL of another scheme."""
    url = settings.storage_url.strip()
    if url.startswith(("s3://", "s3a://")):
        config: dict[str, Any] = {"region": settings.s3_region}
        if settings.s3_endpoint:
            config["endpoint"] = settings.s3_endpoint
        if settings.s3_access_key_id:
            config["access_key_id"] = settings.s3_access_key_id
            config["secret_access_key"] = settings.s3_secret_access_key
        client = {"allow_http": settings.s3_endpoint.startswith("http://")}
        # obstore's stubs type config and client options as TypedDicts of literal keys
        return S3Store.from_url(url, config=config, client_options=client)  # type: ignore[arg-type]
    if "://" in url and not url.startswith("file://"):
        raise ValueError(f"TOUSU_STORAGE_URL: unsupported scheme in {url!r} (file or s3)")
    path = Path(url.removeprefix("file://")) if url else DEFAULT_DIR
    path.mkdir(parents=True, exist_ok=True)
    return LocalStore(path.resolve(), mkdir=True)


def new_key(tenant_id: int, ticket_id: int) -> str:
    return f"t{tenant_id}/ticket-{ticket_id}/{uuid.uuid4().hex}"


async def put(store: Any, key: str, file: IO[bytes]) -> None:
    """Store the whole of ``file`` under ``key`` (large files go up in parts)."""
    file.seek(0)
    try:
        await obstore.put_async(store, key, file)
    except Exception as exc:  # the store's own errors: network, permissions, disk
        raise StorageUnavailable(
            "could not store the file: {error}", params={"error": type(exc).__name__}
        ) from exc


async def delete(store: Any, key: str) -> None:
    """Best effort: remove an object whose metadata row was never committed."""
    try:
        await obstore.delete_async(store, key)
    except Exception:  # nothing to tell the client: the row was never written
        pass


async def open_stream(store: Any, key: str) -> AsyncIterator[bytes]:
    """The object's bytes as an async stream; the object is opened (and a missing one
    refused with 503) before this returns, so a caller can commit only once it exists."""
    try:
        result = await obstore.get_async(store, key)
    except Exception as exc:
        raise StorageUnavailable(
            "could not read the file: {error}", params={"error": type(exc).__name__}
        ) from exc

    async def body() -> AsyncIterator[bytes]:
        async for buf in result.stream(min_chunk_size=256 * 1024):
            yield bytes(buf)

    return body()
