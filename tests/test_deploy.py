"""``deploy/``: each systemd unit parses and runs a command the CLI has (issue 14 item 8)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SERVICES = sorted(DEPLOY.glob("*.service"))
INSTALLED = "/srv/tousu/.venv/bin/tousu"


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """systemd's INI dialect: sections, repeatable keys, ``#``/``;`` comments."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path.name}:{number}: {raw!r}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_units_exist() -> None:
    names = {p.name for p in SERVICES}
    assert names == {"tousu-api.service", "tousu-scheduler.service", "tousu-worker@.service"}
    assert (DEPLOY / "tousu.target").exists()


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_unit_runs_a_command_the_cli_has(unit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sections = parse_unit(unit)
    assert {"Unit", "Service", "Install"} <= set(sections)
    service = sections["Service"]
    assert service["EnvironmentFile"] == ["/etc/tousu/tousu.env"]
    assert service["Restart"] == ["on-failure"]
    commands = service.get("ExecStartPre", []) + service["ExecStart"]
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == INSTALLED, command
        # --help is eager: the command and every option must exist for it to answer 0.
        assert main([*argv[1:], "--help"]) == 0, command
    capsys.readouterr()
    if "worker" in unit.name:
        assert service["KillMode"] == ["mixed"]  # SIGTERM to dramatiq's main process only
        assert shlex.split(service["ExecStart"][0])[1] == "worker"


def test_units_verify_with_systemd(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed; the INI checks above still ran")
    tousu = str(Path(sys.executable).with_name("tousu"))
    files = []
    for path in [*SERVICES, DEPLOY / "tousu.target"]:
        name = path.name.replace("@.service", "@1.service")
        text = path.read_text().replace(INSTALLED, tousu)
        (tmp_path / name).write_text(text)
        files.append(f"./{name}")
    proc = subprocess.run(
        [analyze, "verify", "--man=no", *files],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if any(Path(f).name.split("@")[0].split(".")[0] in line for f in files)
    ]
    assert proc.returncode == 0 and not ours, proc.stdout + proc.stderr
