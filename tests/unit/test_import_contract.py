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
