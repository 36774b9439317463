"""The contract suite (:mod:`core.contract`) run on every plugin this repository knows:
the three built-in industries and the example external package ``tousu_aviation``
(``tests/plugins/tousu-aviation``, installed into the venv by the test command with
``pip install -e tests/plugins/tousu-aviation``) — plus proof that the suite catches a
broken plugin.
"""

from __future__ import annotations

import types

import msgspec
import pytest
import tousu_aviation

import plugins.property
import plugins.transit
import plugins.utility
from core import Taxonomy, Term, hookimpl
from core.contract import IndustryPluginContract
from core.rules import Classification, PenaltyProposal, PenaltyRule, PenaltySchedule


class TestProperty(IndustryPluginContract):
    plugin = plugins.property
    name = "property"


class TestUtility(IndustryPluginContract):
    plugin = plugins.utility
    name = "utility"


class TestTransit(IndustryPluginContract):
    plugin = plugins.transit
    name = "transit"


class TestAviation(IndustryPluginContract):
    plugin = tousu_aviation
    name = "aviation"


# --- the suite catches broken plugins ------------------------------------------------------

_TERM = {"label": "x", "label_zh": "x", "seed": "contract test"}


def _taxonomy(**changes: object) -> Taxonomy:
    base = Taxonomy(
        industry="broken",
        label="Broken",
        label_zh="坏",
        category_groups=(Term(code="group_a", **_TERM),),
        categories=(Term(code="cat_a", group="group_a", **_TERM),),
        severities=(Term(code="general", **_TERM),),
        grades=(Term(code="main", definition="criterion", **_TERM),),
    )
    return msgspec.structs.replace(base, **changes)


def _plugin(taxonomy: Taxonomy, **hooks: object) -> types.SimpleNamespace:
    @hookimpl
    def tousu_taxonomy() -> Taxonomy:
        return taxonomy

    return types.SimpleNamespace(tousu_taxonomy=tousu_taxonomy, **hooks)


def _contract(plugin: object) -> IndustryPluginContract:
    cls = type("TestBroken", (IndustryPluginContract,), {"plugin": plugin, "name": "broken"})
    return cls()


def test_suite_passes_a_well_formed_minimal_plugin():
    contract = _contract(_plugin(_taxonomy()))
    for name in dir(contract):
        if name.startswith("test_"):
            getattr(contract, name)()


def test_suite_catches_a_category_naming_a_missing_group():
    broken = _taxonomy(categories=(Term(code="cat_a", group="no_such_group", **_TERM),))
    with pytest.raises(AssertionError, match=r"'broken'.*'no_such_group'.*not among"):
        _contract(_plugin(broken)).test_taxonomy_every_category_group_exists()


def test_suite_catches_a_bad_code_and_a_missing_citation():
    broken = _taxonomy(severities=(Term(code="Major", label="x", label_zh="x"),))
    contract = _contract(_plugin(broken))
    with pytest.raises(AssertionError, match="not lower snake case"):
        contract.test_taxonomy_codes_unique_lower_snake_case()
    with pytest.raises(AssertionError, match="cites no seed"):
        contract.test_taxonomy_labels_and_seed_citations()


def test_suite_catches_float_money_and_a_proposal_outside_the_schedule():
    rule = PenaltyRule(code="fine", label="Fine", label_zh="罚款", default_fen=12.5, seed="x")  # type: ignore[arg-type]

    @hookimpl
    def tousu_penalty_schedule() -> PenaltySchedule:
        return PenaltySchedule(rules=(rule,))

    @hookimpl
    def tousu_propose_penalties(ticket, grades, amounts):
        return [PenaltyProposal(rule="not_in_schedule", staff=g.staff) for g in grades]

    contract = _contract(
        _plugin(
            _taxonomy(),
            tousu_penalty_schedule=tousu_penalty_schedule,
            tousu_propose_penalties=tousu_propose_penalties,
        )
    )
    with pytest.raises(AssertionError, match="never float"):
        contract.test_penalty_schedule()
    with pytest.raises(AssertionError, match="'not_in_schedule', which is not in the penalty"):
        contract.test_propose_penalties()


def test_suite_catches_a_fine_for_grade_none_and_unknown_roles():
    rule = PenaltyRule(code="fine", label="Fine", label_zh="罚款", default_fen=100, seed="x")

    @hookimpl
    def tousu_penalty_schedule() -> PenaltySchedule:
        return PenaltySchedule(rules=(rule,))

    @hookimpl
    def tousu_propose_penalties(ticket, grades, amounts):
        return [
            PenaltyProposal(rule="fine", staff=g.staff, amount_fen=amounts.get("fine"))
            for g in grades
        ]

    @hookimpl
    def tousu_approvers(step, ticket):
        return ["boss"]

    tax = _taxonomy(grades=(Term(code="none", definition="criterion", **_TERM),))
    contract = _contract(
        _plugin(
            tax,
            tousu_penalty_schedule=tousu_penalty_schedule,
            tousu_propose_penalties=tousu_propose_penalties,
            tousu_approvers=tousu_approvers,
        )
    )
    with pytest.raises(AssertionError, match="grade 'none' must produce no monetary penalty"):
        contract.test_propose_penalties()
    with pytest.raises(AssertionError, match=r"unknown roles \['boss'\]"):
        contract.test_approvers()


def test_suite_catches_a_hook_core_does_not_define():
    @hookimpl
    def tousu_close_roles(severity):
        return None

    contract = _contract(_plugin(_taxonomy(), tousu_close_roles=tousu_close_roles))
    with pytest.raises(AssertionError, match="does not define"):
        contract.test_registers_alone_with_known_hooks()


def test_suite_leaves_the_application_manager_alone():
    from core.plugins import manager

    before = sorted(n for n, _ in manager().list_name_plugin())
    _contract(_plugin(_taxonomy())).test_registers_alone_with_known_hooks()
    assert sorted(n for n, _ in manager().list_name_plugin()) == before
    assert manager().get_plugin("broken") is None


def test_suite_catches_classify_raising_on_a_minimal_ticket():
    @hookimpl
    def tousu_classify(ticket):
        return Classification(severity="major" if ticket.facts["injury"] else None)

    contract = _contract(_plugin(_taxonomy(), tousu_classify=tousu_classify))
    with pytest.raises(AssertionError, match=r"'broken', tousu_classify: raised KeyError"):
        contract.test_classify_minimal_ticket()
