"""The benchmark's entry command exists and explains itself (the bench itself is not a test:
it takes minutes and its figures are ratios, never assertions)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_run_help() -> None:
    out = subprocess.run(
        ["sh", str(ROOT / "bench" / "run"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
        check=True,
    ).stdout
    assert "--quick" in out
    assert "bare" in out
