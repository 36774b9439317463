"""Attachments on S3-compatible object storage: a local moto server started here, the app
pointed at it through TOUSU_STORAGE_URL / TOUSU_S3_*, upload, list and download through
HTTP; the bytes are in the bucket and only metadata is in the database (issue 12 §6)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import BACKENDS, Api, database_url, drop_database, prepare, run_db
from litestar.testing import TestClient
from moto.server import ThreadedMotoServer
from serverkit import free_port
from sqlalchemy import select

from core.app import create_app
from core.attachments.models import Attachment
from core.settings import load_settings

T = "greenwood"
BUCKET = "tousu-evidence"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, Any]]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, client
    finally:
        server.stop()


def _env(app_db: str, endpoint: str, bucket: str, prefix: str) -> dict[str, str]:
    return {
        "DATABASE_URL": app_db,
        "TOUSU_STORAGE_URL": f"s3://{bucket}/{prefix}",
        "TOUSU_S3_ENDPOINT": endpoint,
        "TOUSU_S3_REGION": "us-east-1",
        "TOUSU_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "TOUSU_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
    }


@pytest.fixture(scope="module", params=BACKENDS)
def s3_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, s3: Any
) -> Iterator[Api]:
    url = database_url(request.param, tmp_path_factory.mktemp("s3"), name="s3")
    app_db = prepare(url)
    app = create_app(load_settings(_env(app_db, s3[0], BUCKET, f"tousu-{request.param}")))
    with TestClient(app) as client:
        yield Api(client, request.param, app_db, url)
    drop_database(url)


def test_upload_list_download_through_s3(s3_api: Api, s3: Any) -> None:
    api, (_, client) = s3_api, s3
    t = api.create(T)
    r = api.client.post(
        f"/api/tickets/{t['id']}/attachments",
        data={"kind": "service_slip"},
        files={"file": ("维修服务单.pdf", PDF, "application/pdf")},
        headers=api.headers(T, "clerk"),
    )
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["sha256"] == hashlib.sha256(PDF).hexdigest() and a["size"] == len(PDF)

    # the object is in the bucket, under the configured prefix, named by no user text
    prefix = f"tousu-{api.backend}/"
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]
    ours = [o["Key"] for o in listed if f"/ticket-{t['id']}/" in o["Key"]]
    assert len(ours) == 1
    assert client.get_object(Bucket=BUCKET, Key=ours[0])["Body"].read() == PDF

    # the database holds its metadata only
    async def row(db: Any) -> dict[str, Any]:
        async with db.cross_tenant() as session:
            got = await session.scalar(select(Attachment).where(Attachment.id == a["id"]))
            return {c.key: getattr(got, c.key) for c in Attachment.__table__.columns}

    found = run_db(api, row)
    assert found["storage_key"] == ours[0].removeprefix(prefix)
    assert not any(isinstance(v, bytes) for v in found.values())
    assert sum(len(str(v)) for v in found.values()) < 1000 < len(PDF)

    assert [
        x["id"] for x in api.get(T, "manager", f"/api/tickets/{t['id']}/attachments").json()
    ] == [a["id"]]
    d = api.get(T, "manager", f"/api/tickets/{t['id']}/attachments/{a['id']}")
    assert d.status_code == 200 and d.content == PDF
    assert d.headers["content-type"].startswith("application/pdf")
    actions = [e["action"] for e in api.get(T, "manager", f"/api/tickets/{t['id']}/history").json()]
    assert actions[-2:] == ["attach", "download_attachment"]


def test_storage_down_leaves_no_row_and_no_event(s3_api: Api, s3: Any) -> None:
    """A bucket that does not answer: 503, and neither metadata nor history is written."""
    broken = create_app(load_settings(_env(s3_api.url, s3[0], "no-such-bucket", "tousu")))
    with TestClient(broken) as client:
        api = Api(client, s3_api.backend, s3_api.url)
        t = api.create(T)
        r = client.post(
            f"/api/tickets/{t['id']}/attachments",
            data={"kind": "photo"},
            files={"file": ("p.pdf", PDF)},
            headers=api.headers(T, "clerk"),
        )
        assert r.status_code == 422  # a PDF is no photo: refused before storage
        r = client.post(
            f"/api/tickets/{t['id']}/attachments",
            data={"kind": "letter"},
            files={"file": ("p.pdf", PDF)},
            headers=api.headers(T, "clerk"),
        )
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "storage_unavailable"
        assert api.get(T, "clerk", f"/api/tickets/{t['id']}/attachments").json() == []
        events = api.get(T, "clerk", f"/api/tickets/{t['id']}/history").json()
        assert [e["action"] for e in events] == ["intake"]
