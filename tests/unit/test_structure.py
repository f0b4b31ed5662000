"""The shape of the package, enforced: every module imports on its own, imports point down the
layers (README: "The code"), there is no cycle, only cluster/ reaches for the kubernetes client and
only cli/ for click, and the decision (model in, plan or text out) sends no request."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kubectl_harness_rollback

PACKAGE = Path(kubectl_harness_rollback.__file__).parent
# The package's layers, lowest first: a module imports only from its own layer or a lower one, so
# every arrow of the import graph points down. A top-level module not named in FOUNDATION is a
# read/decide/act module (the "core" layer); each folder is a layer of its own.
FOUNDATION = {"errors", "model", "modes", "dryrun", "outcome", "digits", "harness_names", "data_class",
              "display", "kinds", "did_you_mean", "audit_record", "block_yaml", "block_yaml_dump",
              "stand_ins"}
LAYERS = ("foundation", "cluster", "workloads", "records", "apply", "strategies", "core", "output", "fleet", "cli")
# The decision is pure: the planner and everything it imports, however indirectly, send no request.
DECISION = ("planner", "views", "rbac", "output.render", "records.assemble", "records.declarative",
            "records.history_codec", "strategies.bluegreen", "apply.object_diff", "apply.last_applied",
            "apply.reapply_scope", "apply.prune", "workloads.pod_template", "workloads.owners", "fleet.contexts")


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under `if TYPE_CHECKING:`: imports for annotations, which run nothing."""
    return {node for block in ast.walk(tree) if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
            for statement in block.body for node in ast.walk(statement)}


def imported_modules(name: str, runtime_only: bool = False) -> set[str]:
    """What a module imports anywhere in it (at the top or inside a function), as module names;
    with `runtime_only`, not what it imports for its annotations only."""
    path = PACKAGE.parent / (name.replace(".", "/") + ".py")
    if not path.exists():
        path = PACKAGE.parent / name.replace(".", "/") / "__init__.py"
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    known = set(module_names())
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    skipped = _type_checking_only(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
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


def layer_of(name: str) -> str:
    parts = name.split(".")[1:]  # without the package's own name
    if not parts or (len(parts) == 1 and parts[0] in FOUNDATION | {"__main__"}):
        return "foundation" if parts and parts[0] != "__main__" else "cli"
    return parts[0] if len(parts) > 1 or parts[0] in LAYERS else "core"


def test_every_folder_is_a_layer():
    folders = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert folders <= set(LAYERS), f"a new folder needs its place in LAYERS: {sorted(folders - set(LAYERS))}"


def test_imports_point_down_the_layers():
    known = set(module_names())
    upward = []
    for name in sorted(known):
        for imported in sorted(m for m in imported_modules(name, runtime_only=True) if m in known and m != name):
            if LAYERS.index(layer_of(imported)) > LAYERS.index(layer_of(name)):
                upward.append(f"{name} ({layer_of(name)}) imports {imported} ({layer_of(imported)})")
    assert upward == []


def closure(name: str) -> set[str]:
    known, seen, todo = set(module_names()), set(), [name]
    while todo:
        current = todo.pop()
        for imported in imported_modules(current, runtime_only=True):
            if imported in known and imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return seen


@pytest.mark.parametrize("name", DECISION)
def test_the_decision_sends_no_request(name):
    module = f"kubectl_harness_rollback.{name}"
    assert {m for m in closure(module) if layer_of(m) == "cluster"} == set()
    assert {m.split(".")[0] for m in imported_modules(module)} & {"kubernetes", "click", "urllib3"} == set()


@pytest.mark.parametrize("name", module_names())
def test_only_the_cluster_layer_imports_the_kubernetes_client_and_only_the_cli_imports_click(name):
    third_party = {m.split(".")[0] for m in imported_modules(name)}
    if layer_of(name) != "cluster":
        assert third_party & {"kubernetes", "urllib3"} == set()
    if layer_of(name) != "cli":
        assert "click" not in third_party


def test_every_module_says_its_job_in_one_line():
    unsaid = [str(path.relative_to(PACKAGE)) for path in sorted(PACKAGE.rglob("*.py"))
              if not (ast.get_docstring(ast.parse(path.read_text())) or "").split("\n")[0].endswith(".")]
    assert unsaid == [], "each module's docstring opens with a one-line summary (README's layout shows it)"


def test_the_readme_map_is_the_tree():
    done = subprocess.run([sys.executable, str(PACKAGE.parent / "hack" / "layout"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_lint_is_clean():
    """ruff with the rules pyproject.toml selects: no unused or undefined name, imports in order."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", str(PACKAGE.parent)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
