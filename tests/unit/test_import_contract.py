"""The product (the Lambda layer's ``shared/luxebrain`` and the handlers in ``functions/``) never imports the
development package (``dev/luxebrain_dev``: demo, sample store, embedded AWS, fake WooCommerce, CLI), which is
not deployed. Read from the source, so a function-level import is caught too."""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCT_ROOTS = (REPO_ROOT / "shared" / "luxebrain", REPO_ROOT / "functions")
DEVELOPMENT_PACKAGE = "luxebrain_dev"


@cache  # every check of this file reads the same sources: parse each once per test process
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = parsed(path)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_product_code_never_imports_the_development_package() -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for root in PRODUCT_ROOTS
        for path in sorted(root.rglob("*.py"))
        for line, module in imported_modules(path)
        if module == DEVELOPMENT_PACKAGE or module.startswith(DEVELOPMENT_PACKAGE + ".")
    ]
    assert not offenders, "product code imports development code:\n" + "\n".join(offenders)


def test_the_contract_sees_imports() -> None:
    # Guard against a contract that passes because it reads nothing.
    modules = {module for root in PRODUCT_ROOTS for path in root.rglob("*.py") for _, module in imported_modules(path)}
    assert "luxebrain.settings" in modules
    assert len(list(PRODUCT_ROOTS[0].rglob("*.py"))) > 50


# The storage boundary: only luxebrain.storage knows pynamodb and the table's entities. The modules below still
# reach past it; each is taken off this list when it moves onto the repositories, and nothing may be added.
STORAGE_PACKAGE = REPO_ROOT / "shared" / "luxebrain" / "storage"
STORAGE_INTERNALS = ("pynamodb", "luxebrain.storage.items")
NOT_YET_BEHIND_THE_REPOSITORIES: set[str] = set()  # every product module is behind the repositories


def _reaches_past_storage(module: str) -> bool:
    return any(module == internal or module.startswith(internal + ".") for internal in STORAGE_INTERNALS)


def modules_reaching_past_storage() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for root in PRODUCT_ROOTS:
        for path in sorted(root.rglob("*.py")):
            if path.is_relative_to(STORAGE_PACKAGE):
                continue
            hits = [f"{line}: {module}" for line, module in imported_modules(path) if _reaches_past_storage(module)]
            if hits:
                found[str(path.relative_to(REPO_ROOT))] = hits
    return found


def test_only_storage_imports_pynamodb_and_the_entities() -> None:
    found = modules_reaching_past_storage()
    new = {path: hits for path, hits in found.items() if path not in NOT_YET_BEHIND_THE_REPOSITORIES}
    assert not new, "reaches past luxebrain.storage (use its repositories):\n" + "\n".join(
        f"{path}:{hit}" for path, hits in new.items() for hit in hits
    )


def test_the_storage_allowlist_only_shrinks() -> None:
    # A module that moved behind the repositories must leave the list, so the list cannot hide a relapse.
    clean = sorted(NOT_YET_BEHIND_THE_REPOSITORIES - set(modules_reaching_past_storage()))
    assert not clean, "no longer reaches past storage; remove from NOT_YET_BEHIND_THE_REPOSITORIES:\n" + "\n".join(
        clean
    )


# The repositories passed in: product code reaches the table through a repository it is given, never through a
# storage module's own functions. Excepted: the factories that build the repositories, the kernel's binding of
# the table, and pure id and key helpers.
STORAGE_FUNCTIONS_ALLOWED = {
    "luxebrain.storage.bind_table",
    "luxebrain.storage.training.new_run_id",
    "luxebrain.storage.training.new_version",
    "luxebrain.storage.privacy_jobs.job_key",
}


@cache
def storage_functions() -> dict[str, set[str]]:
    """Each storage module's top-level functions, by module name (from the source, as the imports are read)."""
    functions: dict[str, set[str]] = {}
    for path in STORAGE_PACKAGE.glob("*.py"):
        module = "luxebrain.storage" if path.stem == "__init__" else f"luxebrain.storage.{path.stem}"
        functions[module] = {node.name for node in parsed(path).body if isinstance(node, ast.FunctionDef)}
    return functions


def _storage_function_allowed(module: str, name: str) -> bool:
    full = f"{module}.{name}"
    return name.endswith("_repository") or full in STORAGE_FUNCTIONS_ALLOWED


def storage_functions_used(path: Path) -> list[str]:
    """``line: module.function`` for each storage function ``path`` imports by name, or reaches through an
    imported storage module (``from luxebrain.storage import training``, then ``training.get_pointer``)."""
    functions = storage_functions()
    modules: dict[str, str] = {}  # local name -> storage module
    used: list[str] = []
    tree = parsed(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in functions:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in functions:
                    modules[alias.asname or alias.name] = submodule
                elif alias.name in functions[node.module] and not _storage_function_allowed(node.module, alias.name):
                    used.append(f"{node.lineno}: {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in functions and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            module = modules[node.value.id]
            if node.attr in functions[module] and not _storage_function_allowed(module, node.attr):
                used.append(f"{node.lineno}: {module}.{node.attr}")
    return sorted(used, key=lambda hit: int(hit.split(":")[0]))


def test_product_code_reaches_the_table_through_repositories_passed_in() -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{hit}"
        for root in PRODUCT_ROOTS
        for path in sorted(root.rglob("*.py"))
        if not path.is_relative_to(STORAGE_PACKAGE)
        for hit in storage_functions_used(path)
    ]
    assert not offenders, "calls a storage module function (take its repository as a parameter):\n" + "\n".join(
        offenders
    )


def test_the_repository_check_sees_storage_functions(tmp_path: Path) -> None:
    # Guard against a check that passes because it reads nothing: both ways of reaching a function are seen.
    assert {"get_pointer", "training_repository"} <= storage_functions()["luxebrain.storage.training"]
    source = tmp_path / "module.py"
    source.write_text(
        "from luxebrain.storage import training\n"
        "from luxebrain.storage.ingest import forget_store_ingest, ingest_repository\n"
        "from luxebrain.storage.personal_data import customer_records\n"
        "training.get_pointer('t', 'forecast')\n"
        "training.new_run_id()\n"
    )
    assert storage_functions_used(source) == [
        "2: luxebrain.storage.ingest.forget_store_ingest",
        "3: luxebrain.storage.personal_data.customer_records",
        "4: luxebrain.storage.training.get_pointer",
    ]


# The model kinds: no import cycles among luxebrain.ml's modules (function-level imports included, so a cycle
# cannot hide inside a function), and what the API imports to serve a model stays numpy-only.
ML_PACKAGE = REPO_ROOT / "shared" / "luxebrain" / "ml"
SERVING_THIRD_PARTY = {"numpy", "pydantic"}  # the API's bundle has no pandas, scipy or scikit-learn


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT / "shared").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def luxebrain_modules() -> frozenset[str]:
    return frozenset(module_name(p) for p in (REPO_ROOT / "shared" / "luxebrain").rglob("*.py"))


def luxebrain_imports(path: Path) -> set[str]:
    """The luxebrain modules ``path`` imports (``from package import module`` resolved to the module)."""
    modules = luxebrain_modules()
    found: set[str] = set()
    tree = parsed(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in modules:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules
            found.update(submodules or {node.module})
    return found


def ml_import_graph() -> dict[str, set[str]]:
    return {
        module_name(path): {m for m in luxebrain_imports(path) if m.startswith("luxebrain.ml")}
        for path in sorted(ML_PACKAGE.rglob("*.py"))
    }


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, set()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, set()):
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycles_among_the_ml_modules() -> None:
    cycles = import_cycles(ml_import_graph())
    assert not cycles, "import cycles in luxebrain.ml:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_cycle() -> None:
    # Guard against a check that passes because it cannot see one.
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = ml_import_graph()
    assert "luxebrain.ml.customers.model" in graph["luxebrain.ml.customers.evaluation"]
    assert "luxebrain.ml.customers.evaluation" in graph["luxebrain.ml.customers.train"]


def third_party_imports(path: Path) -> set[str]:
    return {
        module.split(".")[0]
        for _, module in imported_modules(path)
        if module.split(".")[0] not in sys.stdlib_module_names and module.split(".")[0] != "luxebrain"
    }


def test_serving_modules_import_only_numpy_the_standard_library_and_serving_safe_luxebrain_modules() -> None:
    # Every */serving.py of a model kind, and every luxebrain module it reaches, transitively.
    offenders: list[str] = []
    seen: set[str] = set()
    pending = [module_name(path) for path in sorted(ML_PACKAGE.glob("*/serving.py"))]
    assert len(pending) == 4
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        relative = module.replace(".", "/")
        path = REPO_ROOT / "shared" / f"{relative}.py"
        if not path.is_file():
            path = REPO_ROOT / "shared" / relative / "__init__.py"
        if module.rsplit(".", 1)[-1] in ("train", "evaluation", "model"):
            offenders.append(f"{module} is a training module")
        offenders.extend(f"{module} imports {name}" for name in sorted(third_party_imports(path) - SERVING_THIRD_PARTY))
        pending.extend(luxebrain_imports(path))
    assert not offenders, "serving reaches past numpy:\n" + "\n".join(offenders)
