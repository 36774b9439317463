"""A plugin that implements a hook the core does not declare stops start-up, loudly.

The plugin here is installed the way any third-party plugin is: a distribution on the path
whose ``tousu.plugins`` entry point names its module (a ``*.dist-info`` folder, as pip
writes it). Its ``@hookimpl`` is misspelled ``tousu_clasify``: without pluggy's
``check_pending`` it would be registered and never called.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core import hookimpl, plugins

ROOT = Path(__file__).resolve().parent.parent


def install(site: Path, module: str, body: str) -> None:
    """A distribution ``tousu-<module>`` 0.1 in ``site`` with the entry point
    ``<module> = <module>`` in the group ``tousu.plugins``."""
    (site / f"{module}.py").write_text(textwrap.dedent(body))
    info = site / f"tousu_{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tousu-{module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[tousu.plugins]\n{module} = {module}\n")


def start(site: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """What ``tousu serve`` does first: build the app (plugins are loaded and checked)."""
    env = dict(os.environ)
    env.pop("TOUSU_DISABLE_PLUGIN_AUTOLOAD", None)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'start.db'}"
    return subprocess.run(
        [sys.executable, "-c", "from core.app import create_app; create_app(); print('started')"],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_misspelled_hook_of_an_installed_plugin_stops_start_up(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site, "typo", """
        from core import hookimpl

        @hookimpl
        def tousu_clasify(ticket):
            return None
    """)  # fmt: skip
    run = start(site, tmp_path)
    assert run.returncode != 0 and "started" not in run.stdout, run.stdout
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("core.plugins.PluginHookError: "), run.stderr
    assert "plugin 'typo'" in last  # the plugin,
    assert "tousu-typo 0.1" in last  # the distribution to fix or uninstall,
    assert "'tousu_clasify'" in last  # the hook,
    assert "did you mean 'tousu_classify'?" in last  # and what it was meant to be


def test_a_correct_plugin_installed_the_same_way_starts(tmp_path: Path) -> None:
    """The same installation with the hook spelled right: start-up goes on (the check
    refuses only what no hookspec declares)."""
    site = tmp_path / "site"
    site.mkdir()
    install(site, "fine", """
        from core import hookimpl

        @hookimpl
        def tousu_classify(ticket):
            return None

        @hookimpl(optionalhook=True)
        def tousu_hook_of_a_later_core():
            return None
    """)  # fmt: skip
    run = start(site, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "started" in run.stdout


def test_register_refuses_an_unknown_hook_and_leaves_no_trace() -> None:
    """``core.plugins.register`` (embedding apps, tests) checks the same way and does not
    keep the refused plugin."""

    class Typo:
        @hookimpl
        def tousu_taxonomi(self) -> None:
            return None

    with pytest.raises(plugins.PluginHookError) as caught:
        plugins.register(Typo(), name="typo-object")
    assert caught.value.plugin == "typo-object"
    assert caught.value.hooks == ["tousu_taxonomi"]
    assert "did you mean 'tousu_taxonomy'?" in str(caught.value)
    assert "typo-object" not in plugins.plugin_names()
    plugins.manager().check_pending()  # nothing pending is left behind
