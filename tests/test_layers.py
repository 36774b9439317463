"""One direction of dependence between core's areas (issue 10, item 6; docs/architecture.md).

An *area* is a folder under ``core/`` (people, tasks, tickets, …). The areas import each
other without cycles, of any length. Top-level modules ``core/*.py`` are either *kernel* (imported by any area; import no
area and no composition module) or *composition* (import anything; imported by no area). The
composition areas (:data:`COMPOSITION_AREAS`: the command line, the background jobs) are
areas on top: they may import composition modules, and no other area imports them.

Every import counts: module level, inside a function, under ``if TYPE_CHECKING:`` — moving
an import into a function hides a cycle from Python, not from the design. Failures name the
file and line of each offending import.
"""

from __future__ import annotations

import ast
import collections
import itertools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"

KERNEL = frozenset({
    "__init__", "audit", "cache", "channel_types", "client_address", "clock", "contract",
    "egress", "db", "db_security",
    "decisions", "error_text", "errors", "hookspecs", "logs", "metrics", "migrate", "plugins",
    "query_params", "redis_clients", "rules", "settings", "strict", "taxonomy",
    "context", "principal",
})  # fmt: skip
"""Below every area: the database and its tenant scope, errors, settings, logs and metrics,
the plugin contract (hook specs, the values plugins exchange), the app clock, audit rows."""

COMPOSITION = frozenset({
    "app", "confidential", "conflict_of_interest", "health", "models", "openapi", "routers",
})  # fmt: skip
"""Above every area: the app factory and the app-wide hooks and guards that read several
areas' rows, the health/metrics routes, the model registry for migrations, the OpenAPI
document."""

COMPOSITION_AREAS = frozenset({"cli", "jobs"})


def areas() -> set[str]:
    return {d.name for d in CORE.iterdir() if d.is_dir() and any(d.rglob("*.py"))}


def top_level() -> set[str]:
    return {f.stem for f in CORE.glob("*.py")}


def unit_of(module: str) -> str | None:
    """``core.flow.service`` → ``tickets`` (an area); ``core.db`` → ``db`` (a top-level
    module); anything outside core → None."""
    parts = module.split(".")
    if parts[0] != "core" or len(parts) < 2:
        return None
    if parts[1] in areas() or parts[1] in top_level():
        return parts[1]
    return None


def imports() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) → ``file:line`` of every such import in core/."""
    found: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        here = unit_of(".".join(rel.with_suffix("").parts))
        if here is None:  # core/__init__.py
            here = "__init__"
        for node in ast.walk(ast.parse(path.read_text(), str(rel))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from core import cache` imports core.cache; `from core.x import y` core.x
                names = [f"core.{a.name}" for a in node.names] if node.module == "core" else []
                names = names or [node.module]
            else:
                continue
            for name in names:
                there = unit_of(name)
                if there is not None and there != here:
                    found[(here, there)].append(f"{rel}:{node.lineno}")
    return found


def area_graph(edges: dict[tuple[str, str], list[str]]) -> dict[str, set[str]]:
    known = areas()
    graph: dict[str, set[str]] = collections.defaultdict(set)
    for a, b in edges:
        if a in known and b in known:
            graph[a].add(b)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle ``[a, b, …, a]`` of the graph, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def where(edges: dict[tuple[str, str], list[str]], a: str, b: str) -> str:
    """``a → b: file:line, …`` (the first five imports, and how many more)."""
    sites = edges[(a, b)]
    more = f" (+{len(sites) - 5} more)" if len(sites) > 5 else ""
    return f"{a} → {b}: " + ", ".join(sites[:5]) + more


EDGES = imports()


def test_every_top_level_module_is_kernel_or_composition() -> None:
    assert not KERNEL & COMPOSITION, KERNEL & COMPOSITION
    unclassified = top_level() - KERNEL - COMPOSITION
    assert not unclassified, (
        f"core/{sorted(unclassified)[0]}.py is neither KERNEL nor COMPOSITION in "
        "tests/test_layers.py: say which (and why in docs/architecture.md)"
    )
    gone = (KERNEL | COMPOSITION) - top_level()
    assert not gone, f"no core/<name>.py for {sorted(gone)}: remove them from the lists"


def test_areas_import_each_other_without_cycles() -> None:
    cycle = find_cycle(area_graph(EDGES))
    assert cycle is None, "areas import each other in a cycle:\n" + "\n".join(
        where(EDGES, a, b) for a, b in itertools.pairwise(cycle)
    )


def test_the_cycle_finder_sees_a_cycle_through_three_areas() -> None:
    """The check above is only as good as this: a → b → c → a is found, a chain is not."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_kernel_modules_import_no_area_and_no_composition() -> None:
    below = KERNEL
    bad = [where(EDGES, a, b) for (a, b) in sorted(EDGES) if a in below and b not in below]
    assert not bad, "a kernel module imports an area or a composition module:\n" + "\n".join(bad)


def test_no_area_imports_composition() -> None:
    """Composition modules and composition areas are imported only by composition."""
    ordinary = areas() - COMPOSITION_AREAS
    bad = [
        where(EDGES, a, b)
        for (a, b) in sorted(EDGES)
        if a in ordinary and b in COMPOSITION | COMPOSITION_AREAS
    ]
    assert not bad, "an area imports a composition module or area:\n" + "\n".join(bad)


def test_the_architecture_page_names_every_area_and_top_level_module() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [f"core/{a}/" for a in sorted(areas())]
    missing += [f"core/{m}.py" for m in sorted(top_level() - {"__init__"})]
    missing = [m for m in missing if f"`{m}`" not in page]
    assert not missing, f"docs/architecture.md does not mention {missing}"
