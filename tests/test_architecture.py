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


def _target(node: ast.ImportFrom, path: Path, module: str) -> str:
    """The absolute module a ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path, module: str, modules: dict[str, Path]) -> set[str]:
    """The ecg_core modules a file imports (top-level and function-local, relative or absolute)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            target = _target(node, path, module)
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


#: function-local imports kept, each with its reason: a heavy package (or the torch stack) that only one path
#: of the module needs, kept out of the modules that light callers import. cli.py imports each subcommand's
#: code when that subcommand runs (`--help` and `data list` load no torch) and is not listed.
LOCAL_IMPORTS = {
    ("data/augment.py", "neurokit2"): "ECG simulation for one augmentation (neurokit2 takes about 1 s to import)",
    ("data/augment.py", "torch"): "the on-device batch path only; the module is numpy and the CLI's parser reads it",
    ("data/ludb.py", "pandas"): "the conclusions table only",
    ("data/ptbxl.py", "pandas"): "the PTB-XL index only",
    ("pipeline.py", "ecg_core.predict"): "torch, for the learned delineator, beat classes and learned statements "
                                         "only: `analyse` and the classical method never load it",
    ("evaluate.py", "ecg_core.pipeline"): "torch loads with the first delineation scored (the CLI's parser reads "
                                          "this module's constants)",
    ("evaluate.py", "ecg_core.predict"): "as above",
    ("evaluate.py", "sklearn"): "the learned statements' AUC only",
    ("explain.py", "captum"): "attribution only when asked for",
    ("io/edf_io.py", "edfio"): "EDF files only",
    ("io/image_io.py", "pypdfium2"): "PDF pages only",
    ("io/wfdb_io.py", "soundfile"): "FLAC-compressed WFDB formats 508/516 only",
    ("models/detr.py", "timm"): "the ViT backbone, built only with this model",
    ("models/multimodal.py", "timm"): "the image branch, built only when the model has one",
    ("models/panels.py", "torchvision"): "Mask R-CNN's detection package, built only with this model",
    ("quantize/variants.py", "torch"): "torch.ao.quantization, for the int8 variants only",
    ("quantize/variants.py", "onnx"): "the ONNX variants only",
    ("quantize/variants.py", "onnxruntime"): "the ONNX variants only",
    ("report.py", "fpdf"): "the PDF report only (HTML needs none)",
    ("signal/delineation.py", "neurokit2"): "the NeuroKit2 delineator, one method of several",
    ("signal/rpeaks.py", "neurokit2"): "the NeuroKit2 peer detector, one method of several",
    ("testing/fuzzing.py", "edfio"): "EDF seeds only",
    ("train/loop.py", "torch"): "torch.distributed, DistributedDataParallel and TensorBoard: multi-process and "
                                "logged runs only",
    ("train/multimodal.py", "sklearn"): "the AUC of the PTB-XL report only",
    ("viz/paper.py", "plotly"): "plotly.subplots for the multi-lead figures only",
}


def _local_imports() -> set[tuple[str, str]]:
    """(file under ecg_core/, imported package: the top-level name, or ``ecg_core.<room>`` for the project's
    own) of every import inside a function, cli.py aside."""
    found = set()
    for m, p in _modules().items():
        rel = str(p.relative_to(PKG))
        if rel == "cli.py":
            continue
        for fn in ast.walk(ast.parse(p.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    name = _target(node, p, m) if isinstance(node, ast.ImportFrom) else node.names[0].name
                    found.add((rel, ".".join(name.split(".")[:2]) if name.startswith("ecg_core") else
                               name.split(".")[0]))
    return found


def test_function_local_imports_are_only_the_listed_heavy_ones():
    found = _local_imports()
    unlisted, gone = sorted(found - set(LOCAL_IMPORTS)), sorted(set(LOCAL_IMPORTS) - found)
    assert not unlisted, f"function-local imports without a reason: {unlisted}"
    assert not gone, f"listed but gone (remove them): {gone}"
