"""The import layers of docs/architecture.md hold: every import of a project module, at the top
of a file or inside a function, goes to the same layer or one below, and no project import
hides inside a function body except in the command-line entry points (where it keeps
`purpbench --help` fast and never crosses a layer upward) and for modules that need an
optional extra."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "scorers", "benchmarks", "train", "leaderboard")

# Ground floor first; a module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("harness", "harness.core")),
    ("backends", ("harness.backends",)),
    ("scorers", ("scorers",)),
    ("benchmarks", ("benchmarks",)),
    ("store", ("harness.results",)),
    ("runner", ("harness.runner", "harness.config", "harness.summary")),
    (
        "top",
        (
            "harness.cli",
            "harness.gate",
            "harness.gate_cli",
            "harness.gate_report",
            "harness.paired",
            "leaderboard",
            "train",
        ),
    ),
]
RANK = {prefix: rank for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}
ENTRY_POINTS = {"harness.cli", "harness.gate_cli", "train.cli"}
# Modules that import an optional extra (torch, trl) when imported: loading them inside the
# function that needs them is the "optional third-party import" case, not a hidden cycle.
NEEDS_EXTRA = {"train.dynamic_sampling"}


def layer_of(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in RANK:
            return RANK[prefix]
    raise AssertionError(f"module {module} is in no layer of tests/test_layers.py")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def project_imports(path: Path, module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import of a project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            names = [base]
        for name in names:
            if name.split(".")[0] in PACKAGES:
                found.append((name, node.lineno, id(node) in inside))
    return found


def test_every_module_has_a_layer_and_imports_only_downward() -> None:
    upward, hidden = [], []
    for module, path in sorted(modules().items()):
        own = layer_of(module)
        for target, line, in_function in project_imports(path, module):
            if layer_of(target) > own:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
            if in_function and module not in ENTRY_POINTS and target not in NEEDS_EXTRA:
                hidden.append(f"{path.relative_to(ROOT)}:{line} imports {target} in a function")
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)
    assert not hidden, "project imports inside functions:\n" + "\n".join(hidden)


def test_core_imports_nothing_above_it() -> None:
    core = layer_of("harness.core")
    for module, path in modules().items():
        if layer_of(module) == core:
            for target, line, _ in project_imports(path, module):
                assert layer_of(target) == core, f"{module}:{line} imports {target}"


def test_no_import_cycle() -> None:
    tool = ROOT.parent / "shared" / "tools" / "import_cycles.py"
    done = subprocess.run(
        [sys.executable, str(tool), str(ROOT)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def test_layer_table_catches_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a core module that imports the runner is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from harness.runner import Runner\n")
    imports = project_imports(bad, "harness.core.bad")
    assert imports == [("harness.runner", 2, True)]
    assert layer_of("harness.runner") > layer_of("harness.core.bad")
