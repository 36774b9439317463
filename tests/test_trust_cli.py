"""Operator commands refuse nonsense (issue 21 item 6): exit 2 with one clear line naming
what is wrong, before any work — never a raw DBAPIError, never a server that starts and
answers 500."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from conftest import TENANTS
from opskit.procs import TOUSU, env_with

from core import clock
from core.cli import main


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["tenants", "sync", str(TENANTS)]) == 0
    return str(tmp_path / "cli.db")


def one_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "DBAPIError" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59+14:00", "9999-12-31T23:59:59-14:00", "2099-01-01T10:00+08:00"]
)
def test_a_sweep_far_in_the_future_is_refused(
    db: str, moment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--at", moment]) == 2
    out = capsys.readouterr()
    one_error(out.err, "--at", "more than a day from now")
    assert "breached" not in out.out  # nothing swept


def test_a_sweep_within_a_day_runs(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    soon = (clock.now() + dt.timedelta(hours=20)).isoformat()
    assert main(["sweep", "--at", soon]) == 0
    assert capsys.readouterr().out.startswith("warned ")


@pytest.mark.parametrize(
    "name",
    ["", " ", "bell\x07", "tab\tname", "new\nline", "x" * 5000, "Upper", ".dot", "张三"],
)
def test_users_create_refuses_a_name_that_is_not_one(
    db: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "create", name]) == 2
    err = capsys.readouterr().err
    one_error(err, "not a user name", "a-z 0-9")
    assert len(err) < 300  # a 5,000-character name is not echoed back whole
    assert main(["users", "create", name, "--tenant", "greenwood", "--role", "clerk"]) == 2


def test_an_empty_tenant_is_not_the_platform(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "create", "amy", "--tenant", "", "--role", "clerk"]) == 2
    one_error(capsys.readouterr().err, "not a tenant slug")
    assert main(["users", "key", "nobody", "--label", "x" * 500]) == 2
    one_error(capsys.readouterr().err, "at most 64")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TOUSU_WEBHOOK_ALLOW_NETS", "10.0.0/33"),
        ("TOUSU_WEBHOOK_ALLOW_NETS", "10.0.0.0/8,intranet"),
        ("TOUSU_TRUSTED_PROXIES", "the-balancer"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("TOUSU_PORT", "eighty"),
    ],
)
def test_check_and_serve_refuse_a_bad_setting_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = env_with(DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}", **{variable: value})
    for argv in (["check"], ["serve", "--no-sync", "--port", "0"]):
        done = subprocess.run(
            [TOUSU, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        one_error(done.stderr, variable)
        assert not (tmp_path / "s.db").exists()  # refused before any work


def test_check_passes_good_settings(tmp_path: Path) -> None:
    env = env_with(
        DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}",
        TOUSU_WEBHOOK_ALLOW_NETS="10.20.0.0/16, 192.168.7.8",
        TOUSU_TRUSTED_PROXIES="10.0.0.5,fd00::/8",
    )
    done = subprocess.run(
        [TOUSU, "check"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "settings ok" in done.stdout
