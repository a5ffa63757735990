"""The API's OpenAPI document as the dashboard's typed client is generated from (web/openapi.json).

``python -m luxebrain_dev.openapi_export`` writes it; ``--check`` exits 1 when the committed file differs from
the app's routes (a test runs the same comparison, so a changed route fails CI until the file is refreshed and
the dashboard is rebuilt against it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "web" / "openapi.json"


def current_document() -> str:
    functions_dir = str(REPO / "functions")
    if functions_dir not in sys.path:
        sys.path.append(functions_dir)
    from api.app import openapi_document

    return openapi_document() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    document = current_document()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != document:
            print(f"{DOCUMENT} is out of date: run python -m luxebrain_dev.openapi_export", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(document, encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
