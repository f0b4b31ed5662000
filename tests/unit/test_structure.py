"""The shape of the package, enforced: every module imports on its own, the modules import each
other without a cycle, and the pure modules (model in, decision or text out) never reach for the
kubernetes client or click — the boundary a sub-package per stage would draw, without the folders."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kubectl_harness_rollback

PACKAGE = Path(kubectl_harness_rollback.__file__).parent
PURE = ("model", "assemble", "planner", "bluegreen", "history_codec", "pod_template", "views", "render",
        "outcome", "harness_names", "modes", "reapply_scope", "declarative", "rbac", "kubeconfig", "fleet",
        "fleet_render", "owners", "object_diff", "last_applied")


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def imported_modules(name: str) -> set[str]:
    """What a module imports anywhere in it (at the top or inside a function), as module names."""
    path = PACKAGE.parent / (name.replace(".", "/") + ".py")
    if not path.exists():
        path = PACKAGE.parent / name.replace(".", "/") / "__init__.py"
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    known = set(module_names())
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            found |= submodules
            if len(submodules) < len(node.names):  # names defined in `base` itself
                found.add(base)
    return found


def test_every_module_imports_on_its_own():
    probe = (
        "import importlib, sys\n"
        f"for name in {module_names()!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('kubectl_harness_rollback')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_no_import_cycle():
    known = set(module_names())
    graph = {name: {m for m in imported_modules(name) if m in known and m != name} for name in known}

    def cycle_from(start: str, path: list[str], seen: set[str]) -> list[str] | None:
        for nxt in sorted(graph[start]):
            if nxt in path:
                return path[path.index(nxt):] + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                found = cycle_from(nxt, path + [nxt], seen)
                if found:
                    return found
        return None

    for name in sorted(known):
        assert cycle_from(name, [name], set()) is None, " -> ".join(cycle_from(name, [name], set()))


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_neither_kubernetes_nor_click(name):
    module = f"kubectl_harness_rollback.{name}"
    # Directly, anywhere in the module (a lazy import inside a function counts too) ...
    assert {m.split(".")[0] for m in imported_modules(module)} & {"kubernetes", "click"} == set()
    # ... and through whatever it imports.
    probe = (f"import sys, {module}\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes', 'click'}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(set(module_names()) - {
    "kubectl_harness_rollback.cli", "kubectl_harness_rollback.connection", "kubectl_harness_rollback.completion"}))
def test_only_the_command_line_imports_click(name):
    assert "click" not in {m.split(".")[0] for m in imported_modules(name)}
