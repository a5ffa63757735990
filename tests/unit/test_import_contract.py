"""The product (the Lambda layer's ``shared/luxebrain`` and the handlers in ``functions/``) never imports the
development package (``dev/luxebrain_dev``: demo, sample store, embedded AWS, fake WooCommerce, CLI), which is
not deployed. Read from the source, so a function-level import is caught too."""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCT_ROOTS = (REPO_ROOT / "shared" / "luxebrain", REPO_ROOT / "functions")
DEVELOPMENT_PACKAGE = "luxebrain_dev"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
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
STORAGE_INTERNALS = ("pynamodb", "luxebrain.storage.items", "luxebrain.storage.models")
NOT_YET_BEHIND_THE_REPOSITORIES = {
    "functions/api/routers/account.py",
    "functions/api/routers/admin.py",
    "functions/api/routers/prices.py",
    "functions/api/routers/stores.py",
    "shared/luxebrain/auth/accounts.py",
    "shared/luxebrain/auth/members.py",
    "shared/luxebrain/auth/sessions.py",
    "shared/luxebrain/auth/storefront.py",
    "shared/luxebrain/ingest/backfill.py",
    "shared/luxebrain/ingest/mapping.py",
    "shared/luxebrain/ingest/processor.py",
    "shared/luxebrain/ingest/status.py",
    "shared/luxebrain/ingest/store_sync.py",
    "shared/luxebrain/plans.py",
    "shared/luxebrain/price_decisions.py",
    "shared/luxebrain/serving/loader.py",
    "shared/luxebrain/training/dispatch.py",
    "shared/luxebrain/training/snapshot.py",
    "shared/luxebrain/training/state.py",
    "shared/luxebrain/woocommerce/connection.py",
    "shared/luxebrain/woocommerce/webhooks.py",
}


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
