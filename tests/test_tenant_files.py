"""Tenant files: idempotent sync, audited changes, clear errors (file, key, rule)."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from conftest import BACKENDS, TENANTS, database_url, drop_database
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.cli import _sync, main
from core.db import Database
from core.migrate import upgrade
from core.people.models import Department, Staff, Tenant, User
from core.provisioning.tenant_file import TenantFileError, load_dir, parse_tenant_file
from core.settings import load_settings


async def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.cross_tenant() as s:
            return {
                m.__name__: await s.scalar(select(func.count()).select_from(m))
                for m in (Tenant, Department, Staff, User, AuditEvent)
            }
    finally:
        await db.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path):
    url = database_url(request.param, tmp_path, name="tenant_files")
    upgrade(url)
    yield url
    drop_database(url)


def test_sync_twice_changes_nothing_the_second_time(empty_db):
    settings = load_settings({"DATABASE_URL": empty_db})
    asyncio.run(_sync(settings, TENANTS, quiet=True))
    first = asyncio.run(_counts(empty_db))
    assert first["Tenant"] == 3
    # every listed user, plus one "system" user per tenant for automated actions
    assert first["User"] == sum(len(tf.users) + 1 for _, tf in load_dir(TENANTS))
    asyncio.run(_sync(settings, TENANTS, quiet=True))
    assert asyncio.run(_counts(empty_db)) == first


def test_changed_file_updates_in_place_with_audit(empty_db, tmp_path):
    settings = load_settings({"DATABASE_URL": empty_db})
    folder = tmp_path / "t"
    folder.mkdir()
    src = TENANTS / "greenwood-property.toml"
    shutil.copy(src, folder / src.name)
    asyncio.run(_sync(settings, folder, quiet=True))
    before = asyncio.run(_counts(empty_db))
    text = (folder / src.name).read_text(encoding="utf-8")
    (folder / src.name).write_text(text.replace('name = "工程部"', 'name = "工程维修部"', 1),
                                   encoding="utf-8")
    asyncio.run(_sync(settings, folder, quiet=True))
    after = asyncio.run(_counts(empty_db))
    assert after["Department"] == before["Department"]
    assert after["AuditEvent"] == before["AuditEvent"] + 1


BASE = """
slug = "acme"
name = "Acme"
plugin = "property"
ticket_prefix = "AC"
[[departments]]
code = "eng"
name = "工程部"
"""


@pytest.mark.parametrize(
    ("extra", "key", "rule"),
    [
        ('\n[[users]]\nusername = "x"\nroles = ["janitor"]\n', "users[0].roles[0]", "Invalid enum value 'janitor'"),
        ('\n[[users]]\nusername = "x"\nroles = ["clerk"]\ndepartment = "qa"\n',
         "users[0].department", "unknown department 'qa'"),
        ('\n[[users]]\nusername = "x"\nroles = ["department_head"]\n',
         "users[0].department", "must name the department"),
        ('\n[[staff]]\ncode = "S1"\nname = "王"\ndepartment = "eng"\ncolour = "red"\n',
         "staff[0]", "unknown field `colour`"),
        ('\n[[departments]]\ncode = "eng"\nname = "重复"\n', "departments[1]", "duplicate"),
    ],
)
def test_bad_file_names_file_key_and_rule(tmp_path, extra, key, rule):
    path = tmp_path / "acme.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    with pytest.raises(TenantFileError) as err:
        parse_tenant_file(path)
    assert err.value.path == str(path)
    assert err.value.key.startswith(key)
    assert rule in err.value.rule


def test_unknown_plugin_and_bad_prefix(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_text(BASE.replace('"property"', '"bakery"'), encoding="utf-8")
    with pytest.raises(TenantFileError, match=r"plugin: unknown plugin 'bakery'"):
        parse_tenant_file(path)
    path.write_text(BASE.replace('"AC"', '"ac1"'), encoding="utf-8")
    with pytest.raises(TenantFileError, match=r"ticket_prefix"):
        parse_tenant_file(path)


def test_cli_check_rejects_bad_file_with_exit_2(tmp_path, capsys):
    (tmp_path / "acme.toml").write_text(BASE + "\nbogus = 1\n", encoding="utf-8")
    assert main(["tenants", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "acme.toml" in err and "bogus" in err


def test_cli_check_accepts_demo_tenants(capsys):
    assert main(["tenants", "check", str(TENANTS)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == 3
