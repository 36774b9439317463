"""The contract suite every industry plugin must pass.

Ship-with-the-core pytest tests that check, for one plugin, every hook contract written in
:mod:`core.hookspecs`. A plugin author runs them from their own package's tests::

    # tests/test_contract.py in your plugin package
    import tousu_aviation
    from core.contract import IndustryPluginContract

    class TestAviation(IndustryPluginContract):
        plugin = tousu_aviation     # the module (or object) holding your @hookimpl functions
        name = "aviation"           # optional: the plugin name (default: the module's name)

and runs ``pytest tests/test_contract.py`` (with the core importable, e.g. installed in the
same virtualenv). pytest collects the inherited ``test_*`` methods for the subclass; the base
class itself is not collected (its name does not start with ``Test``).

Each test registers the plugin **alone** in a fresh :class:`pluggy.PluginManager` carrying
:mod:`core.hookspecs` (the application's manager in :mod:`core.plugins` is never touched),
calls the hooks on synthetic :class:`core.rules.TicketFacts` / :class:`core.rules.GradeFacts`
built from the plugin's own taxonomy, and fails with a message naming the plugin, the hook
and the rule broken. What is checked:

- registration: the hookimpls match the hookspecs (names and arguments), no unknown
  ``tousu_*`` hook, ``tousu_taxonomy`` implemented;
- ``tousu_taxonomy``: a :class:`core.taxonomy.Taxonomy`, the same on every call; codes unique
  per axis and lower snake case; at least one category group, category and severity; every
  category's group exists; grades among full/main/secondary/none, each with its criterion;
  capacities besides ``direct``; every Term and FactSpec cites its seed and has both labels;
  facets have values; choice facts have values;
- ``tousu_penalty_schedule`` (if implemented): rule codes unique and lower snake case; amounts
  int fen (never float), not negative, min ≤ default ≤ max where set; ``per`` person or
  unit; labels and seed present;
- ``tousu_check_grade``: None or a list of :class:`core.rules.Problem` (field and rule
  named), deterministic; every grade the taxonomy uses can be recorded by some line;
- ``tousu_propose_penalties``: for every accepted grade line (each grade × capacity ×
  pickable offence) on tickets of each severity, with the schedule's default amounts and
  with tenant-set amounts, it returns a list of :class:`core.rules.PenaltyProposal` whose rule
  exists in the schedule, whose staff/unit are among the graded staff and their departments,
  whose amounts are int fen or None and come from ``amounts`` (times the multiplier); it is
  deterministic and leaves its inputs alone; grade ``none`` produces no monetary penalty;
  nobody graded → nothing proposed;
- ``tousu_classify``: never raises on a minimal ticket; returns None or a
  :class:`core.rules.Classification` whose category and severity exist in the taxonomy;
  deterministic;
- ``tousu_approvers``: for each step (close, penalty, appeal, extension) and each severity,
  None or a non-empty list of core role codes.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any, ClassVar

import pluggy

from core import hookspecs
from core.rules import (
    Classification,
    Duties,
    FactSpec,
    Flag,
    GradeFacts,
    PenaltyProposal,
    PenaltyRule,
    PenaltySchedule,
    Problem,
    TicketFacts,
)
from core.taxonomy import Facet, Taxonomy, Term

CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
"""Lower snake case: stored on tickets, never translated."""

GRADES: frozenset[str] = frozenset({"full", "main", "secondary", "none"})
STEPS: tuple[str, ...] = (
    "close",
    "close_unresolvable",
    "penalty",
    "appeal",
    "extension",
    "reply_review",
)
ROLE_CODES: tuple[str, ...] = (
    "clerk",
    "supervisor",
    "department_head",
    "manager",
    "general_manager",
    "inspector",
    "staff",
    "tenant_admin",
)
"""The core's tenant roles (docs/plugins.md), the one list of their codes (the people area's
:class:`core.people.roles.Role`, the tenant files' role names); ``platform_operator``
belongs to no tenant."""
ROLES: frozenset[str] = frozenset(ROLE_CODES)
FACT_KINDS: frozenset[str] = frozenset({"bool", "int", "choice", "text", "datetime"})

CREATED = dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2024, 3, 4, 2, 0, tzinfo=dt.UTC)
VIOLATION = "乘客违反规则 (contract suite: the complainant's violation as recorded)"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class IndustryPluginContract:
    """Subclass in your tests and set ``plugin`` (and optionally ``name``); see the module."""

    plugin: ClassVar[Any] = None
    name: ClassVar[str | None] = None

    # ------------------------------------------------------------------ plumbing

    @property
    def plugin_name(self) -> str:
        if self.name:
            return self.name
        return str(getattr(self.plugin, "__name__", type(self.plugin).__name__))

    def message(self, hook: str, rule: str) -> str:
        """An assertion message naming the plugin, the hook and the rule broken."""
        return f"plugin {self.plugin_name!r}, {hook}: {rule}"

    @cached_property
    def pm(self) -> pluggy.PluginManager:
        """A fresh manager with the hookspecs and this plugin alone (one per test)."""
        assert self.plugin is not None, (
            f"{type(self).__name__}: set `plugin = <your plugin module>` on the class"
        )
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        try:
            pm.register(self.plugin, name=self.plugin_name)
        except pluggy.PluginValidationError as exc:
            raise AssertionError(
                self.message("registration", f"a hookimpl does not match core.hookspecs: {exc}")
            ) from exc
        return pm

    @cached_property
    def implemented(self) -> frozenset[str]:
        return frozenset(h.name for h in self.pm.get_hookcallers(self.plugin) or [])

    def call(self, hook: str, **kwargs: Any) -> Any:
        """Call one hook on this plugin alone; an exception becomes a failure naming it."""
        try:
            return getattr(self.pm.hook, hook)(**kwargs)
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(
                self.message(hook, f"raised {exc!r} (a hook must answer, not raise) on {kwargs!r}")
            ) from exc

    @cached_property
    def taxonomy(self) -> Taxonomy:
        result = self.call("tousu_taxonomy")
        assert isinstance(result, Taxonomy), self.message(
            "tousu_taxonomy", f"must return a core.taxonomy.Taxonomy, got {type(result).__name__}"
        )
        return result

    @cached_property
    def schedule(self) -> PenaltySchedule | None:
        if "tousu_penalty_schedule" not in self.implemented:
            return None
        result = self.call("tousu_penalty_schedule")
        assert result is None or isinstance(result, PenaltySchedule), self.message(
            "tousu_penalty_schedule",
            f"must return a core.rules.PenaltySchedule or None, got {type(result).__name__}",
        )
        return result

    # ------------------------------------------------------------------ synthetic values

    def fact_variants(self) -> list[dict[str, Any]]:
        """No facts; every fact set high/true; every fact set low/false."""
        high: dict[str, Any] = {}
        low: dict[str, Any] = {}
        for f in self.taxonomy.facts:
            if f.kind == "bool":
                high[f.code], low[f.code] = True, False
            elif f.kind == "int":
                high[f.code], low[f.code] = 100_000, 0
            elif f.kind == "choice" and f.values:
                high[f.code], low[f.code] = f.values[0], f.values[-1]
            elif f.kind == "text":
                high[f.code], low[f.code] = "contract suite", ""
            elif f.kind == "datetime":
                high[f.code], low[f.code] = NOW, CREATED
        return [{}, high, low]

    def ticket(
        self,
        severity: str | None = None,
        facts: dict[str, Any] | None = None,
        category: str | None = None,
        valid: bool | None = True,
        state: str = "graded",
        facets: dict[str, str] | None = None,
        now: dt.datetime | None = NOW,
    ) -> TicketFacts:
        return TicketFacts(
            number="CONTRACT-0001",
            state=state,
            channel="phone",
            category=category,
            severity=severity,
            facets=dict(facets or {}),
            facts=dict(facts or {}),
            created_at=CREATED,
            event_time=CREATED,
            valid=valid,
            now=now,
        )

    def minimal_ticket(self) -> TicketFacts:
        return self.ticket(valid=None, state="received", now=None)

    def tickets(self) -> Iterator[TicketFacts]:
        """A ticket of each severity (and none), with each fact variant, fully classified."""
        tax = self.taxonomy
        category = tax.categories[0].code if tax.categories else None
        facets = {f.code: f.values[0].code for f in tax.facets if f.values}
        for sev in [None, *(s.code for s in tax.severities)]:
            for facts in self.fact_variants():
                yield self.ticket(severity=sev, facts=facts, category=category, facets=facets)

    def offences(self) -> list[str | None]:
        schedule = self.schedule
        picks = [r.code for r in schedule.rules if r.pickable] if schedule else []
        return [None, *picks]

    def grade_lines(self) -> Iterator[GradeFacts]:
        """Every grade × capacity × offence × (violation recorded or not) the core lets through."""
        tax = self.taxonomy
        capacities = ["direct", *(c.code for c in tax.capacities)]
        for grade, capacity, offence, violation in itertools.product(
            [g.code for g in tax.grades], capacities, self.offences(), ["", VIOLATION]
        ):
            yield GradeFacts(
                staff="contract_staff",
                department="contract_dept",
                # a plugin's own grade codes: str, where GradeFacts names the core's Literal
                grade=grade,  # type: ignore[arg-type]
                capacity=capacity,
                offence=offence,
                findings="contract suite findings",
                complainant_violation=violation,
            )

    def check(self, ticket: TicketFacts, grade: GradeFacts) -> list[Problem]:
        if "tousu_check_grade" not in self.implemented:
            return []
        result = self.call("tousu_check_grade", ticket=ticket, grade=grade)
        hook = "tousu_check_grade"
        assert result is None or isinstance(result, list), self.message(
            hook, f"must return a list of Problem or None, got {type(result).__name__}"
        )
        for p in result or []:
            assert isinstance(p, Problem), self.message(
                hook, f"every item must be a core.rules.Problem, got {type(p).__name__}"
            )
            assert isinstance(p.field, str) and p.field, self.message(
                hook, f"a Problem must name the field ({p!r})"
            )
            assert isinstance(p.rule, str) and p.rule, self.message(
                hook, f"a Problem must state the rule ({p!r})"
            )
        return list(result or [])

    def accepted_lines(self, ticket: TicketFacts) -> list[GradeFacts]:
        return [g for g in self.grade_lines() if not self.check(ticket, g)]

    def tenant_amounts(self) -> dict[str, int | None]:
        """Amounts a tenant admin might set: inside each rule's range, unlike the defaults."""
        out: dict[str, int | None] = {}
        for r in self.schedule.rules if self.schedule else ():
            fen = (r.min_fen or 0) + 1_234
            if r.max_fen is not None:
                fen = min(fen, r.max_fen)
            out[r.code] = fen
        return out

    def default_amounts(self) -> dict[str, int | None]:
        return {r.code: r.default_fen for r in (self.schedule.rules if self.schedule else ())}

    # ------------------------------------------------------------------ registration

    def test_registers_alone_with_known_hooks(self) -> None:
        pm = self.pm
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise AssertionError(
                self.message(
                    "registration", f"implements a hook core.hookspecs does not define: {exc}"
                )
            ) from exc
        assert "tousu_taxonomy" in self.implemented, self.message(
            "registration", "must implement tousu_taxonomy (the core needs the taxonomy)"
        )

    # ------------------------------------------------------------------ taxonomy

    def test_taxonomy_is_a_stable_taxonomy(self) -> None:
        tax = self.taxonomy
        hook = "tousu_taxonomy"
        assert isinstance(tax.industry, str) and CODE.match(tax.industry), self.message(
            hook, f"industry must be a lower-snake-case code, got {tax.industry!r}"
        )
        assert tax.label and tax.label_zh, self.message(
            hook, "the taxonomy needs label and label_zh"
        )
        assert self.call("tousu_taxonomy") == tax, self.message(
            hook, "must return the same taxonomy on every call (codes are stored on tickets)"
        )
        assert tax.category_groups, self.message(hook, "needs at least one category group")
        assert tax.categories, self.message(hook, "needs at least one category")
        assert tax.severities, self.message(hook, "needs at least one severity")

    def _axes(self) -> list[tuple[str, tuple[Any, ...]]]:
        tax = self.taxonomy
        axes: list[tuple[str, tuple[Any, ...]]] = [
            ("category_groups", tax.category_groups),
            ("categories", tax.categories),
            ("severities", tax.severities),
            ("facets", tax.facets),
            ("grades", tax.grades),
            ("capacities", tax.capacities),
            ("facts", tax.facts),
        ]
        axes += [(f"facet {f.code!r} values", f.values) for f in tax.facets]
        return axes

    def test_taxonomy_codes_unique_lower_snake_case(self) -> None:
        for axis, items in self._axes():
            codes = [getattr(i, "code", None) for i in items]
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            assert not dupes, self.message("tousu_taxonomy", f"{axis}: duplicate codes {dupes}")
            for code in codes:
                assert isinstance(code, str) and CODE.match(code), self.message(
                    "tousu_taxonomy", f"{axis}: code {code!r} is not lower snake case"
                )

    def test_taxonomy_types(self) -> None:
        for axis, items in self._axes():
            want: type = Facet if axis == "facets" else FactSpec if axis == "facts" else Term
            for i in items:
                assert isinstance(i, want), self.message(
                    "tousu_taxonomy", f"{axis}: expected {want.__name__}, got {type(i).__name__}"
                )

    def test_taxonomy_every_category_group_exists(self) -> None:
        tax = self.taxonomy
        groups = {g.code for g in tax.category_groups}
        for c in tax.categories:
            assert c.group is not None, self.message(
                "tousu_taxonomy", f"category {c.code!r} names no group"
            )
            assert c.group in groups, self.message(
                "tousu_taxonomy",
                f"category {c.code!r} names group {c.group!r}, which is not among "
                f"category_groups {sorted(groups)}",
            )

    def test_taxonomy_grades_and_capacities(self) -> None:
        tax = self.taxonomy
        for g in tax.grades:
            assert g.code in GRADES, self.message(
                "tousu_taxonomy",
                f"grade {g.code!r} is not one of the core's grades {sorted(GRADES)}",
            )
            assert g.definition, self.message(
                "tousu_taxonomy", f"grade {g.code!r} needs its criterion (definition)"
            )
        for c in tax.capacities:
            assert c.code != "direct", self.message(
                "tousu_taxonomy", "capacities list those besides 'direct', which is implicit"
            )

    def test_taxonomy_labels_and_seed_citations(self) -> None:
        for axis, items in self._axes():
            for i in items:
                assert i.label and i.label_zh, self.message(
                    "tousu_taxonomy", f"{axis}: {i.code!r} needs label and label_zh"
                )
                if isinstance(i, Term | FactSpec):
                    assert isinstance(i.seed, str) and i.seed.strip(), self.message(
                        "tousu_taxonomy",
                        f"{axis}: {i.code!r} cites no seed (seed=...; write 'product default' "
                        "with the reason where the seeds are silent)",
                    )

    def test_taxonomy_facets_and_facts_have_values(self) -> None:
        tax = self.taxonomy
        for f in tax.facets:
            assert f.values, self.message("tousu_taxonomy", f"facet {f.code!r} has no values")
        for fact in tax.facts:
            assert fact.kind in FACT_KINDS, self.message(
                "tousu_taxonomy",
                f"fact {fact.code!r}: kind {fact.kind!r} not in {sorted(FACT_KINDS)}",
            )
            if fact.kind == "choice":
                assert fact.values, self.message(
                    "tousu_taxonomy", f"choice fact {fact.code!r} lists no values"
                )
                assert len(set(fact.values)) == len(fact.values), self.message(
                    "tousu_taxonomy", f"choice fact {fact.code!r} repeats a value"
                )

    # ------------------------------------------------------------------ penalty schedule

    def test_penalty_schedule(self) -> None:
        schedule = self.schedule
        if schedule is None:
            return  # optional hook: no schedule, nothing to check
        hook = "tousu_penalty_schedule"
        assert isinstance(schedule.carry_over, bool), self.message(
            hook, "carry_over must be a bool"
        )
        codes = [r.code for r in schedule.rules]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        assert not dupes, self.message(hook, f"duplicate rule codes {dupes}")
        for r in schedule.rules:
            assert isinstance(r, PenaltyRule), self.message(
                hook, f"rules must be core.rules.PenaltyRule, got {type(r).__name__}"
            )
            assert isinstance(r.code, str) and CODE.match(r.code), self.message(
                hook, f"rule code {r.code!r} is not lower snake case"
            )
            assert r.label and r.label_zh, self.message(
                hook, f"rule {r.code!r} needs label and label_zh"
            )
            assert r.seed.strip(), self.message(hook, f"rule {r.code!r} cites no seed")
            for attr in ("min_fen", "max_fen", "default_fen"):
                v = getattr(r, attr)
                assert v is None or _is_int(v), self.message(
                    hook,
                    f"rule {r.code!r}: {attr} must be int fen or None, got {v!r} "
                    "(money is integer fen, never float)",
                )
                assert v is None or v >= 0, self.message(hook, f"rule {r.code!r}: {attr} < 0")
            if r.min_fen is not None and r.max_fen is not None:
                assert r.min_fen <= r.max_fen, self.message(
                    hook, f"rule {r.code!r}: min_fen {r.min_fen} > max_fen {r.max_fen}"
                )
            if r.default_fen is not None:
                assert r.in_range(r.default_fen), self.message(
                    hook,
                    f"rule {r.code!r}: default_fen {r.default_fen} outside "
                    f"[{r.min_fen}, {r.max_fen}]",
                )
            assert r.per in ("person", "unit"), self.message(
                hook, f"rule {r.code!r}: per must be 'person' or 'unit', got {r.per!r}"
            )
            assert _is_int(r.appraisal_points) and r.appraisal_points >= 0, self.message(
                hook, f"rule {r.code!r}: appraisal_points must be an int >= 0"
            )
            assert all(isinstance(s, str) and s for s in r.sanctions), self.message(
                hook, f"rule {r.code!r}: sanctions must be non-empty strings"
            )

    # ------------------------------------------------------------------ grading

    def test_check_grade_returns_problems(self) -> None:
        if "tousu_check_grade" not in self.implemented:
            return
        for ticket in self.tickets():
            for line in self.grade_lines():
                first = self.check(ticket, line)
                assert first == self.check(copy.deepcopy(ticket), copy.deepcopy(line)), (
                    self.message("tousu_check_grade", f"not deterministic for {line!r}")
                )

    def test_every_grade_can_be_recorded(self) -> None:
        accepted: set[str] = set()
        for ticket in self.tickets():
            accepted |= {g.grade for g in self.accepted_lines(ticket)}
        for g in self.taxonomy.grades:
            assert g.code in accepted, self.message(
                "tousu_check_grade",
                f"rejects every line graded {g.code!r} (each capacity, offence, with and "
                "without the complainant's violation, on tickets of every severity): the grade "
                "can never be recorded",
            )

    # ------------------------------------------------------------------ penalties

    def _check_proposals(
        self,
        ticket: TicketFacts,
        grades: list[GradeFacts],
        amounts: dict[str, int | None],
    ) -> list[PenaltyProposal]:
        hook = "tousu_propose_penalties"
        kept = (copy.deepcopy(ticket), copy.deepcopy(grades), dict(amounts))
        result = self.call(hook, ticket=ticket, grades=grades, amounts=amounts)
        where = f"severity {ticket.severity!r}, facts {ticket.facts!r}, grades {grades!r}"
        assert result is None or isinstance(result, list), self.message(
            hook, f"must return a list of PenaltyProposal or None, got {type(result).__name__}"
        )
        assert (ticket, grades, amounts) == kept, self.message(
            hook, f"changed its inputs ({where})"
        )
        again = self.call(
            hook, ticket=copy.deepcopy(ticket), grades=copy.deepcopy(grades), amounts=dict(amounts)
        )
        assert (result or []) == (again or []), self.message(
            hook, f"not deterministic: same input, different proposals ({where})"
        )
        proposals = list(result or [])
        schedule = self.schedule
        by_staff = {g.staff: g for g in grades}
        departments = {g.department for g in grades if g.department is not None}
        for p in proposals:
            assert isinstance(p, PenaltyProposal), self.message(
                hook, f"items must be core.rules.PenaltyProposal, got {type(p).__name__}"
            )
            assert schedule is not None, self.message(
                hook, "proposes penalties but tousu_penalty_schedule gives no schedule"
            )
            rule = schedule.rule(p.rule)
            assert rule is not None, self.message(
                hook, f"proposes rule {p.rule!r}, which is not in the penalty schedule ({where})"
            )
            assert p.staff is None or p.staff in by_staff, self.message(
                hook, f"rule {p.rule!r} charged to staff {p.staff!r}, who was not graded"
            )
            assert p.unit is None or p.unit in departments, self.message(
                hook,
                f"rule {p.rule!r} charged to unit {p.unit!r}, not a department of the graded "
                f"staff {sorted(departments)}",
            )
            if rule.per == "person":
                assert p.staff is not None, self.message(
                    hook, f"rule {p.rule!r} is charged per person but names no staff ({where})"
                )
            else:
                assert p.unit is not None or not departments, self.message(
                    hook,
                    f"rule {p.rule!r} is charged per unit but names no unit although the "
                    f"graded staff's departments are known {sorted(departments)}",
                )
            for attr in ("amount_fen", "minimum_fen"):
                v = getattr(p, attr)
                assert v is None or (_is_int(v) and v >= 0), self.message(
                    hook, f"rule {p.rule!r}: {attr} must be int fen >= 0 or None, got {v!r}"
                )
            assert _is_int(p.multiplier) and p.multiplier >= 1, self.message(
                hook, f"rule {p.rule!r}: multiplier must be an int >= 1, got {p.multiplier!r}"
            )
            configured = amounts.get(p.rule)
            expected = None if configured is None else configured * p.multiplier
            assert p.amount_fen == expected, self.message(
                hook,
                f"rule {p.rule!r}: amount_fen {p.amount_fen!r} does not come from amounts "
                f"({configured!r} × multiplier {p.multiplier}) ({where})",
            )
            assert all(isinstance(s, str) for s in p.sanctions), self.message(
                hook, f"rule {p.rule!r}: sanctions must be strings"
            )
            assert isinstance(p.reason, str), self.message(hook, "reason must be a string")
            graded = by_staff.get(p.staff) if p.staff is not None else None
            if graded is not None and graded.grade == "none":
                assert p.amount_fen == 0 and not p.minimum_fen and not p.whole_month_pay, (
                    self.message(
                        hook,
                        f"grade 'none' must produce no monetary penalty, but staff "
                        f"{p.staff!r} gets rule {p.rule!r} (amount {p.amount_fen!r}, "
                        f"minimum {p.minimum_fen!r}, whole month pay {p.whole_month_pay})",
                    )
                )
        return proposals

    def test_propose_penalties(self) -> None:
        if "tousu_propose_penalties" not in self.implemented:
            return
        amount_sets = [self.default_amounts(), self.tenant_amounts()]
        for ticket in self.tickets():
            for amounts in amount_sets:
                self._check_proposals(ticket, [], amounts)
            lines = self.accepted_lines(ticket)
            # one staff member at a time
            for line in lines:
                for amounts in amount_sets:
                    self._check_proposals(ticket, [line], amounts)
            # everyone at once, each their own person and department (one without)
            many = [
                GradeFacts(
                    staff=f"contract_staff_{i}",
                    department=None if i == 0 else f"contract_dept_{i % 3}",
                    grade=g.grade,
                    capacity=g.capacity,
                    offence=g.offence,
                    findings=g.findings,
                    complainant_violation=g.complainant_violation,
                )
                for i, g in enumerate(lines)
            ]
            for amounts in amount_sets:
                self._check_proposals(ticket, many, amounts)

    # ------------------------------------------------------------------ classification

    def test_classify_minimal_ticket(self) -> None:
        if "tousu_classify" not in self.implemented:
            return
        # a ticket as it is at intake: no category, severity, facets, facts, triage or time
        result = self.call("tousu_classify", ticket=self.minimal_ticket())
        self._check_classification(result, self.minimal_ticket())

    def _check_classification(self, result: Any, ticket: TicketFacts) -> None:
        hook = "tousu_classify"
        tax = self.taxonomy
        assert result is None or isinstance(result, Classification), self.message(
            hook, f"must return a core.rules.Classification or None, got {type(result).__name__}"
        )
        if result is None:
            return
        where = f"(ticket severity {ticket.severity!r}, facts {ticket.facts!r})"
        assert result.category is None or tax.category(result.category), self.message(
            hook, f"suggests category {result.category!r}, not in the taxonomy {where}"
        )
        assert result.severity is None or tax.severity(result.severity), self.message(
            hook, f"suggests severity {result.severity!r}, not in the taxonomy {where}"
        )
        for attr in ("valid", "counts_as_complaint"):
            v = getattr(result, attr)
            assert v is None or isinstance(v, bool), self.message(
                hook, f"{attr} must be bool or None"
            )
        for f in result.flags:
            assert isinstance(f, Flag) and f.code and f.label, self.message(
                hook, f"flags must be core.rules.Flag with code and label, got {f!r}"
            )
        assert all(isinstance(r, str) for r in result.reasons), self.message(
            hook, "reasons must be strings"
        )

    def test_classify_every_ticket(self) -> None:
        if "tousu_classify" not in self.implemented:
            return
        for base in self.tickets():
            for valid, state in ((None, "received"), (True, "in_progress"), (False, "closed")):
                ticket = TicketFacts(**{**_fields(base), "valid": valid, "state": state})
                result = self.call("tousu_classify", ticket=ticket)
                self._check_classification(result, ticket)
                again = self.call("tousu_classify", ticket=copy.deepcopy(ticket))
                assert result == again, self.message("tousu_classify", "not deterministic")

    # ------------------------------------------------------------------ approvals

    def test_approvers(self) -> None:
        if "tousu_approvers" not in self.implemented:
            return
        hook = "tousu_approvers"
        for ticket in self.tickets():
            for step in STEPS:
                roles = self.call(hook, step=step, ticket=ticket)
                where = f"step {step!r}, severity {ticket.severity!r}"
                if roles is None:
                    continue
                assert isinstance(roles, list), self.message(
                    hook, f"must return a list of role codes or None, got {roles!r} ({where})"
                )
                assert roles, self.message(
                    hook,
                    f"an empty list lets nobody take the step ({where}); return None "
                    "for the core default",
                )
                unknown = sorted(set(map(str, roles)) - ROLES)
                assert not unknown and all(isinstance(r, str) for r in roles), self.message(
                    hook, f"unknown roles {unknown or roles} ({where}); roles are {sorted(ROLES)}"
                )

    def test_duties(self) -> None:
        if "tousu_duties" not in self.implemented:
            return
        hook = "tousu_duties"
        duties = self.call(hook)
        assert duties is None or isinstance(duties, Duties), self.message(
            hook, f"must return core.rules.Duties or None, got {type(duties).__name__}"
        )
        assert duties == self.call(hook), self.message(hook, "not deterministic")


def _fields(t: TicketFacts) -> dict[str, Any]:
    return {f: getattr(t, f) for f in t.__struct_fields__}


__all__ = ["CODE", "GRADES", "ROLES", "ROLE_CODES", "STEPS", "IndustryPluginContract"]
