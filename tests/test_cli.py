"""The ``tousu`` command as a user meets it: help, version, one-line errors, exit codes.

Exit codes (``core.cli.base``): 0 done, 1 failure, 2 usage, 130 interrupted. Each failure
the issue found is a test here; most run ``main()`` in-process, the ones about processes
(import time, ``worker``, Ctrl-C on ``scheduler``) run the installed command.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serverkit
from serverkit import free_port

from core.cli import app, main

ROOT = Path(__file__).resolve().parent.parent
TOUSU = str(Path(sys.executable).with_name("tousu"))
# A PostgreSQL nobody listens on: a command that touches the database fails loudly here.
NOWHERE_DB = "postgresql://postgres@127.0.0.1:9/none"


def one_error_line(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def command_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env["PATH"] = "/usr/bin:/bin"  # no venv on PATH: the command must not need one
    return env


# -- help and version ------------------------------------------------------------------------


def test_help_lists_every_command_with_a_description_and_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from core.cli import main\n"
        "rc = main(['--help'])\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'litestar', 'dramatiq', 'alembic', "
        "'matplotlib', 'core.db', 'core.plugins') if m in sys.modules)\n"
        "print('HEAVY', heavy, rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    ).stdout
    assert "HEAVY [] 0" in out, out
    for name in (
        "serve",
        "migrate",
        "tenants",
        "users",
        "worker",
        "scheduler",
        "sweep",
        "ledger",
        "reports",
        "config",
    ):
        assert name in out
    assert "Exit codes" in out


def _commands() -> Iterator[tuple[str, object]]:
    import typer

    def walk(cmd: object, path: str) -> Iterator[tuple[str, object]]:
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{path} {name}".strip())

    yield from walk(typer.main.get_command(app), "")


def test_every_command_and_option_has_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # no wrapping inside the choices
    seen = 0
    for path, cmd in _commands():
        assert (cmd.help or "").strip(), f"`tousu {path}` has no description"  # type: ignore[attr-defined]
        assert ":class:" not in (cmd.help or "") and "``" not in (cmd.help or "")  # type: ignore[attr-defined]
        for param in cmd.params:  # type: ignore[attr-defined]
            assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name}"
        assert main([*path.split(), "--help"]) == 0
        seen += 1
    assert seen >= 15
    out = capsys.readouterr().out
    assert "tenant_admin" in out and "department_head" in out  # --role shows its choices


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tousu {version('tousu')}"


# -- usage errors: exit 2, one line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["sweep", "--at", "tomorrow"], ["--at", "tomorrow", "ISO"]),
        (["sweep", "--at", "2026-03-05T10:00"], ["--at", "time zone"]),
        (["tenants", "check", "/nonexistent"], ["/nonexistent", "no such folder"]),
        (["tenants", "sync", "/nonexistent"], ["/nonexistent", "no such folder"]),
        (["ledger", "run", "--tenant", "greenwood", "--period", "2026-13"], ["--period"]),
        (
            ["reports", "pack", "--tenant", "greenwood", "--period", "2026-13", "--out", "x"],
            ["--period"],
        ),
        (
            ["reports", "pack", "--tenant", "greenwood", "--period", "2026/03", "--out", "x"],
            ["--period", "YYYY-MM"],
        ),
        (
            ["users", "create", "amy", "--tenant", "greenwood", "--role", "boss"],
            ["--role", "boss", "clerk"],
        ),
        (["users", "create", "amy", "--tenant", "greenwood"], ["--role"]),
        (["users", "create", "amy", "--role", "clerk"], ["clerk", "without --tenant"]),
        (["serve", "--port", "70000"], ["--port"]),
        (["nonsense"], ["nonsense"]),
        (["users", "create"], ["USERNAME".lower()]),
    ],
)
def test_usage_errors_are_one_line_exit_2_before_any_work(
    argv: list[str],
    needles: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # The database is unreachable: were any work attempted, the error would say so.
    monkeypatch.setenv("DATABASE_URL", NOWHERE_DB)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    one_error_line(captured.err.lower(), *[n.lower() for n in needles])
    assert not (tmp_path / "x").exists()


def test_empty_tenant_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tenants", "check", str(tmp_path)]) == 2
    one_error_line(capsys.readouterr().err, "no tenant files")


def test_unwritable_out_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", NOWHERE_DB)
    started = time.monotonic()
    argv = [
        "reports",
        "pack",
        "--tenant",
        "greenwood",
        "--period",
        "2026-03",
        "--out",
        "/proc/nope",
    ]
    assert main(argv) == 2
    assert time.monotonic() - started < 5
    one_error_line(capsys.readouterr().err, "--out /proc/nope", "cannot write")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TOUSU_PORT", "eighty"),
        ("TOUSU_PORT", "0"),
        ("TOUSU_SWEEP_SECONDS", "-1"),
        ("TOUSU_TRACE_HOOKS", "maybe"),
        ("TOUSU_REDIS_MAINTENANCE_CHANCE", "2000000"),
    ],
)
def test_bad_environment_variable_is_named(
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["config"]) == 2
    one_error_line(capsys.readouterr().err, f"error: {variable}:", repr(value))


def test_config_prints_every_variable_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.settings import variables

    monkeypatch.setenv("DATABASE_URL", "postgresql://tousu:s3cret-pw@db.internal/tousu")
    monkeypatch.setenv("REDIS_URL", "redis://:r3dis-pw@cache.internal:6379/0")
    assert main(["config", "--source"]) == 0
    out = capsys.readouterr().out
    assert "s3cret-pw" not in out and "r3dis-pw" not in out
    assert "postgresql+asyncpg://tousu:***@db.internal/tousu" in out
    for _, _, env in variables():
        assert env.name in out
    assert "[env]" in out and "[default]" in out


def test_readme_lists_every_setting() -> None:
    from core.settings import variables

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [env.name for _, _, env in variables() if f"| `{env.name}` |" not in readme]
    assert not missing, f"README settings table lacks {missing}"


# -- failures: exit 1, one line --------------------------------------------------------------


def test_unreachable_database_is_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", NOWHERE_DB)
    assert main(["migrate"]) == 1
    one_error_line(capsys.readouterr().err, "cannot reach the database")


def test_serve_on_a_busy_port_fails_before_migrating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "serve.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 1
    one_error_line(capsys.readouterr().err, f"127.0.0.1:{port}")
    assert not db.exists()  # nothing migrated, synced or started


def test_existing_user_is_a_failure_and_unknown_tenant_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'u.db'}")
    assert main(["migrate"]) == 0
    assert main(["users", "create", "ops1"]) == 0
    capsys.readouterr()
    assert main(["users", "create", "ops1"]) == 1
    one_error_line(capsys.readouterr().err, "already exists")
    assert main(["users", "create", "amy", "--tenant", "nope", "--role", "clerk"]) == 2
    one_error_line(capsys.readouterr().err, "unknown tenant 'nope'")
    assert main(["users", "key", "ghost"]) == 2
    one_error_line(capsys.readouterr().err, "no user 'ghost'")


def test_tenants_sync_and_sweep_and_ledger_and_pack_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
    assert main(["tenants", "sync", str(ROOT / "tenants")]) == 0
    assert capsys.readouterr().out.count("created") == 3
    assert main(["sweep", "--at", "2026-03-05T10:00+08:00"]) == 0
    assert capsys.readouterr().out.startswith("warned 0, breached 0")
    assert main(["ledger", "run", "--tenant", "greenwood", "--period", "2026-02"]) == 0
    assert main(["ledger", "run", "--tenant", "greenwood", "--period", "2026-02"]) == 0
    out = capsys.readouterr().out
    assert "greenwood 2026-02: run" in out and "already run" in out
    assert main(["ledger", "run", "--tenant", "nope", "--period", "2026-02"]) == 2
    one_error_line(capsys.readouterr().err, "unknown tenant 'nope'")
    assert (
        main(
            [
                "reports",
                "pack",
                "--tenant",
                "greenwood",
                "--period",
                "2026-02",
                "--out",
                str(tmp_path / "pack"),
            ]
        )
        == 0
    )
    written = capsys.readouterr().out.split()
    assert written and all(Path(p).exists() for p in written)


# -- processes -------------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    with serverkit.private_redis(tmp_path) as server:
        yield server.url


def _wait_for(proc: subprocess.Popen[bytes], log: Path, needle: str, timeout: float = 60) -> str:
    """Poll the process's stderr (a file) until ``needle`` shows up."""
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        seen = log.read_text(errors="replace") if log.exists() else ""
        if needle in seen or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert needle in seen, f"{needle!r} not seen; output:\n{seen}"
    return seen


def test_worker_runs_dramatiq_without_the_venv_on_path(tmp_path: Path, private_redis: str) -> None:
    env = command_env(DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}", REDIS_URL=private_redis)
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [TOUSU, "worker", "--processes", "1", "--threads", "1"],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    try:
        seen = _wait_for(proc, log, "is ready for action")
        # Stop it the way deploy/tousu-worker@.service does (KillMode=mixed): SIGTERM to the
        # dramatiq master only, which forwards it once to its workers. Signalling the whole
        # group delivers it twice, and dramatiq's child answers a second SIGTERM with
        # sys.exit() in its main thread while its worker threads keep the process alive.
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    rest = log.read_text(errors="replace")
    assert "Traceback" not in seen
    assert rc == 0, rest
    assert "Worker has been shut down" in rest


def test_worker_without_redis_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["worker"]) == 2
    one_error_line(capsys.readouterr().err, "REDIS_URL")
    assert main(["scheduler"]) == 2
    one_error_line(capsys.readouterr().err, "REDIS_URL")


def test_ctrl_c_stops_the_scheduler_cleanly(tmp_path: Path, private_redis: str) -> None:
    env = command_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}",
        REDIS_URL=private_redis,
        TOUSU_RELAY_SECONDS="0.05",
    )
    subprocess.run(
        [TOUSU, "migrate"], env=env, cwd=tmp_path, check=True, timeout=120, capture_output=True
    )
    log = tmp_path / "scheduler.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [TOUSU, "scheduler"], env=env, cwd=tmp_path, stdout=sink, stderr=sink
        )
    try:
        _wait_for(proc, log, "Ctrl-C to stop")
        time.sleep(1.0)  # let the relay run a few passes, so the interrupt lands mid-work
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
        rest = log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 0, rest
    assert "Traceback" not in rest and "scheduler stopped" in rest


def test_serve_workers_refuses_sqlite_and_a_missing_redis(tmp_path: Path) -> None:
    env = command_env(DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}")
    env.pop("REDIS_URL", None)
    run = subprocess.run(
        [TOUSU, "serve", "--port", "0", "--workers", "2"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "--workers" in run.stderr and "PostgreSQL" in run.stderr
    env["DATABASE_URL"] = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    run = subprocess.run(
        [TOUSU, "serve", "--port", "0", "--workers", "2"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "REDIS_URL" in run.stderr


def test_serve_workers_runs_several_processes_on_one_port(
    tmp_path: Path, private_redis: str
) -> None:
    """`tousu serve --workers 2` on PostgreSQL: two API processes answer on one port, both
    logging (each line names its pid), and SIGTERM stops them all."""
    import re

    import httpx
    from conftest import database_url, drop_database

    url = database_url("postgres", tmp_path, "serve_workers")
    port = free_port()
    env = command_env(
        DATABASE_URL=url,
        REDIS_URL=private_redis,
        TOUSU_LOG_FORMAT="json",
        TOUSU_TENANTS_DIR=str(Path(__file__).resolve().parent.parent / "tenants"),
    )
    log = tmp_path / "serve.log"
    try:
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [TOUSU, "serve", "--port", str(port), "--workers", "2"],
                env=env, cwd=tmp_path, stdout=sink, stderr=sink, start_new_session=True,
            )  # fmt: skip
        try:
            _wait_for(proc, log, "Started parent process", timeout=120)
            token = "gw-clerk-demo-7521564b74"
            pids: set[str] = set()
            deadline = time.monotonic() + 60
            while len(pids) < 2 and time.monotonic() < deadline:
                try:
                    with httpx.Client(timeout=10) as client:  # a new connection each time
                        r = client.get(
                            f"http://127.0.0.1:{port}/api/me",
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    assert r.status_code == 200, r.text
                except httpx.TransportError:
                    time.sleep(0.2)
                    continue
                text = log.read_text(errors="replace")
                pids |= set(re.findall(r'"route": "/api/me".*?"pid": (\d+)', text))
            assert len(pids) == 2, log.read_text(errors="replace")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        text = log.read_text(errors="replace")
        assert rc == 0, text
        assert "Traceback" not in text
        assert text.count("Terminated child process") == 2
    finally:
        drop_database(url)
