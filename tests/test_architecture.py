"""The house rules: one import root, layers that import downwards only, and no import cycles.

Every import counts, at module level or inside a function, under TYPE_CHECKING or not: a cycle
held apart by a lazy import is still a cycle.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = (ROOT / "src", ROOT / "gateway", ROOT / "firmware_sim")

# The shared vocabulary every layer may import: the wire contract, the MQTT client, the embedded
# broker, the floor plan, the band identity (EID) computation.
BASE = ("maitre.wire", "maitre.mqtt", "maitre.broker", "maitre.floorplan", "maitre.identity.eid")
TOOLS = ("maitre.cli", "maitre.demo", "maitre.evaluation")


def module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for root in SOURCE_ROOTS:
        for path in sorted((root / "maitre").rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules a module imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imports_of(path, name, known) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str:
    def under(prefixes: tuple[str, ...]) -> bool:
        return any(module == p or module.startswith(p + ".") for p in prefixes)

    if under(BASE) or module in ("maitre", "maitre.identity"):
        return "base"
    if under(("maitre.gateway",)):
        return "gateway"
    if under(("maitre.sim",)):
        return "sim"
    if under(TOOLS):
        return "tools"
    return "service"


# What each layer may import besides itself.
ALLOWED = {
    "base": {"base"},
    "gateway": {"base"},
    "sim": {"base", "gateway"},
    "service": {"base"},
    "tools": {"base", "gateway", "sim", "service"},
}
# The one door upwards: `maitre-gateway run --simulate` hears the simulated crowd, so the
# gateway's command (not the agent) loads the simulator when asked to.
EXCEPTIONS = {("maitre.gateway.cli", "maitre.sim.demo_evening"), ("maitre.gateway.cli", "maitre.sim.source")}


def test_the_import_graph_is_read_from_every_source_folder() -> None:
    graph = import_graph()
    assert {"maitre.wire", "maitre.gateway.agent", "maitre.sim.air", "maitre.presence.engine"} <= set(graph)
    # The reader sees lazy imports too: the gateway command's embedded broker is one.
    assert "maitre.broker" in graph["maitre.gateway.cli"]


def test_there_are_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_layers_import_only_downwards() -> None:
    wrong = [
        f"{module} ({layer(module)}) imports {target} ({layer(target)})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer(target) != layer(module)
        and layer(target) not in ALLOWED[layer(module)]
        and (module, target) not in EXCEPTIONS
    ]
    assert wrong == []


def test_there_is_one_import_root() -> None:
    for root in SOURCE_ROOTS:
        assert [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))] == [
            "maitre"
        ], root
        # A namespace package: the three folders merge into one `maitre`.
        assert not (root / "maitre" / "__init__.py").exists()


def _fresh_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "module",
    ["maitre.gateway.agent", "maitre.gateway.cli", "maitre.gateway.sources.ble", "maitre.gateway.doctor"],
)
def test_a_gateway_device_imports_the_agent_without_the_service_stack(module: str) -> None:
    loaded = _fresh_import(module)
    heavy = {"numpy", "numba", "sqlalchemy", "sqlmodel", "fastapi", "pydantic", "cryptography", "uvicorn"}
    assert module in loaded
    assert sorted(heavy & {m.split(".")[0] for m in loaded}) == []


def test_the_compiled_loops_still_import_and_run_with_numba_switched_off() -> None:
    # NUMBA_DISABLE_JIT=1 (debugging, profiling the Python) hands back plain functions.
    code = (
        "import numpy as np; from maitre.presence.key_index import KeyIndex; k = KeyIndex(); "
        "k.add(np.array([5, 7], dtype=np.uint64), np.array([0, 1])); "
        "print(k.lookup(np.array([7, 9, 5], dtype=np.uint64))[0].tolist())"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[1,", "-1,", "0]"]
