"""The layout rules of docs/architecture.md, checked: no import circles among the shipped modules (imports under
TYPE_CHECKING count: they are the same coupling), plugins share code only through the core, and no module is
longer than ~400 lines without a stated reason."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {  # import package -> its folder
    "billbee_wemalo": ROOT / "core" / "billbee_wemalo",
    "tap_billbee": ROOT / "tap-billbee" / "tap_billbee",
    "target_wemalo": ROOT / "target-wemalo" / "target_wemalo",
    "tap_wemalo_shipments": ROOT / "tap-wemalo-shipments" / "tap_wemalo_shipments",
    "target_billbee": ROOT / "target-billbee" / "target_billbee",
    "billbee_wemalo_reconcile": ROOT / "reconcile" / "billbee_wemalo_reconcile",
    "billbee_wemalo_events": ROOT / "events" / "billbee_wemalo_events",
}
PLUGINS = {"tap_billbee", "target_wemalo", "tap_wemalo_shipments", "target_billbee"}
MAX_LINES = 400
LONGER_ON_PURPOSE = {  # path -> why it is one module
    "sandbox/demo_data.py": "the demo world's data tables and its one generator, read together",
    "bench/run.py": "the benchmark's scenarios as one script, read top to bottom (not shipped)",
}


def module_name(package: str, path: Path) -> str:
    parts = [package, *path.relative_to(PACKAGES[package]).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(package, path): path for package, folder in PACKAGES.items()
            for path in folder.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The shipped modules `name` imports (`from x import y` counts y when y is a module)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *filter(None, [base])])
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {target for target in targets if target in known and target != name}
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def cycle_from(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        node, path = stack.pop()
        for nxt in edges[node]:
            if nxt == start:
                return [*path, start]
            if nxt not in path:
                stack.append((nxt, [*path, nxt]))
    return None


def test_the_import_graph_is_read_correctly() -> None:
    edges = graph()
    assert "target_wemalo.run" in edges["target_wemalo.sinks"]
    assert "billbee_wemalo.sdk.hooks" in edges["tap_billbee.tap"]


def test_no_import_circles_among_the_shipped_modules() -> None:
    edges = graph()
    circles = [c for name in sorted(edges) if (c := cycle_from(name, edges))]
    assert circles == [], "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_plugins_share_code_only_through_the_core() -> None:
    edges = graph()
    crossing = sorted(f"{name} -> {target}" for name, targets in edges.items() for target in targets
                      if name.split(".")[0] in PLUGINS and target.split(".")[0] in PLUGINS
                      and target.split(".")[0] != name.split(".")[0])
    assert crossing == []


@pytest.mark.parametrize("folder", ["core", "tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee",
                                    "reconcile", "events", "sandbox", "bench", "scripts"])
def test_no_module_is_over_400_lines_without_a_reason(folder: str) -> None:
    long = {str(path.relative_to(ROOT)): n for path in (ROOT / folder).rglob("*.py")
            if "tests" not in path.parts and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert {path: n for path, n in long.items() if path not in LONGER_ON_PURPOSE} == {}
