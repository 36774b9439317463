"""``deploy/local/``: the one-machine reference deployment's files hold together — haproxy
accepts its configuration, pgbouncer's has no placeholder left unrendered, the scripts parse,
and the settings ``up`` writes are settings tousu accepts. (``deploy/local/up`` itself was
run by hand: docs/deployment.md; the behaviours it shows are tested on private servers in
tests/test_pgbouncer.py, test_failover.py, test_redis_outage.py, test_reports_replica.py.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.settings import load_settings

LOCAL = Path(__file__).resolve().parent.parent / "deploy" / "local"


def test_haproxy_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.fail("haproxy is needed (Debian's haproxy)")
    text = (LOCAL / "haproxy.cfg").read_text()
    servers = "".join(f"    server api{i} 127.0.0.1:5800{i} check\n" for i in (1, 2))
    text = text.replace("@RUN@", str(tmp_path)).replace("@P_LB@", "58000")
    text = text.replace("@SERVERS@\n", servers)
    assert "@" not in re.sub(r"#.*", "", text)
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    out = subprocess.run([haproxy, "-c", "-f", str(cfg)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "option httpchk GET /ready?scope=host" in text  # the host-scoped check


def test_pgbouncer_configuration_is_transaction_mode_with_known_placeholders() -> None:
    text = (LOCAL / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = transaction$", text, re.M)
    assert set(re.findall(r"@(\w+)@", text)) == {"RUN", "PORT", "PG_PORT"}


def test_scripts_parse_and_write_settings_tousu_accepts() -> None:
    for name in ("up", "down", "failover"):
        out = subprocess.run(["bash", "-n", str(LOCAL / name)], capture_output=True, text=True)
        assert out.returncode == 0, (name, out.stderr)
    up = (LOCAL / "up").read_text()
    block = up.split('cat > "$RUN/tousu.env" <<ENV\n', 1)[1].split("\nENV\n", 1)[0]
    ports = {"$P_BOUNCER1": "56432", "$P_BOUNCER2": "56433", "$P_PRIMARY": "55432",
             "$P_STANDBY": "55433", "$REDIS_URL": "redis://127.0.0.1:56379/0"}  # fmt: skip
    env = {}
    for line in block.splitlines():
        if "=" not in line or line.startswith("$"):
            continue
        key, _, value = line.partition("=")
        for var, port in ports.items():
            value = value.replace(var, port)
        if "$(" not in value:
            env[key] = value
    settings = load_settings(env)
    assert settings.db_pooler == "transaction"
    assert "host=127.0.0.1:56432&host=127.0.0.1:56433" in settings.database_url
    assert settings.reports_database_url.endswith("127.0.0.1:56433/tousu")
