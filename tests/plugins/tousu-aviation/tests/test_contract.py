"""Run the tousu core's contract suite on this plugin: ``pytest tests/`` from this folder
(or ``tests/plugins/tousu-aviation/tests`` from the tousu repository), with the core and this
package installed in the same environment."""

from __future__ import annotations

import tousu_aviation

from core.contract import IndustryPluginContract


class TestAviationContract(IndustryPluginContract):
    plugin = tousu_aviation
    name = "aviation"


def test_found_through_the_entry_point():
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="tousu.plugins") if e.name == "aviation"]
    assert ep.value == "tousu_aviation"
    assert ep.load() is tousu_aviation
