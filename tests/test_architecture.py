"""The import rules of docs/architecture.md, checked on the source: no import cycle inside ecg_core, the
ground floor and the signal and io rooms never reach up, pages never reach into training code, and the 12
standard leads are written in one place."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PKG = ROOT / "ecg_core"
GROUND = {"ecg_core.record", "ecg_core.errors", "ecg_core.atomic", "ecg_core.waves", "ecg_core.recipes"}
LOW_ROOMS = ("ecg_core.signal", "ecg_core.io")



def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(path: Path, module: str, modules: dict[str, Path]) -> set[str]:
    """The ecg_core modules a file imports (top-level and function-local, relative or absolute)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                name = f"{target}.{alias.name}"
                found.add(name if name in modules else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in modules and m != module}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(p, m, modules) for m, p in modules.items()}


def _drop_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges to a package's ``__init__`` stand for the modules it re-exports; a package importing its own
    modules is not a cycle through them."""
    return {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}


def test_no_import_cycle_inside_ecg_core():
    graph = _drop_packages(_graph())
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                cycle = visit(t)
                if cycle:
                    return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_ground_floor_and_low_rooms_never_reach_up():
    bad = []
    for m, targets in _graph().items():
        if m in GROUND:
            bad += [(m, t) for t in targets if t not in GROUND]
        for room in LOW_ROOMS:
            if m == room or m.startswith(room + "."):
                bad += [(m, t) for t in targets if t not in GROUND and not (t == room or t.startswith(room + "."))]
    assert not bad, "imports that climb: " + ", ".join(f"{a} -> {b}" for a, b in bad)


def test_pages_do_not_import_training_code():
    found = set()
    for p in sorted((ROOT / "app_pages").glob("*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            found.update((f"app_pages/{p.name}", n) for n in names if n.startswith("ecg_core.train"))
    assert not found, f"pages import training code: {sorted(found)}"


def test_the_twelve_standard_leads_are_written_once():
    twelve = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    where = []
    for p in [*PKG.rglob("*.py"), *(ROOT / "app_pages").glob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == 12 and all(
                    isinstance(e, ast.Constant) for e in node.elts):
                if tuple(str(e.value).upper() for e in node.elts) == tuple(n.upper() for n in twelve):
                    where.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert where == ["ecg_core/record.py:" + str(_line_of_standard())], where


def _line_of_standard() -> int:
    for i, line in enumerate((PKG / "record.py").read_text().splitlines(), 1):
        if line.startswith("STANDARD_12_LEADS = ("):
            return i
    raise AssertionError("STANDARD_12_LEADS is not defined in record.py")


def test_the_rules_catch_what_they_forbid():
    """The checks are not vacuous: the graph sees function-local and relative imports."""
    graph = _graph()
    assert "ecg_core.predict.delineation" in graph["ecg_core.pipeline"]  # a function-local import
    assert "ecg_core.record" in graph["ecg_core.signal.delineation"]  # a relative one
