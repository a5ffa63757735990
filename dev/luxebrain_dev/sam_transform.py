"""infra/template.yaml after the real SAM transform: the document CloudFormation (and so API Gateway, Lambda
and IAM) receives, which the local runtime reads instead of re-implementing SAM's rules.

The transform runs in the SAM CLI tool environment (``make sam-tools``; aws-sam-translator is SAM CLI's own
dependency) through ``infra/translate.py``. Its output is cached in ``.aws-sam/translated/`` under a hash of
the template, the translator's requirements, the script and the parameters, so it runs once per change.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from luxebrain.errors import ConfigurationError
from luxebrain_dev.infra_template import DEFAULT_TEMPLATE_PATH, REPO_ROOT

SAM_REQUIREMENTS = REPO_ROOT / "infra" / "sam-requirements.txt"
TRANSLATE_SCRIPT = REPO_ROOT / "infra" / "translate.py"
CACHE_DIR = REPO_ROOT / ".aws-sam" / "translated"
LOCAL_PARAMETERS = {"AppEnv": "local"}


def sam_tool_python() -> Path:
    """The SAM CLI tool environment's interpreter, at the path the Makefile creates it."""
    override = os.environ.get("LUXEBRAIN_SAM_PYTHON")
    if override:
        return Path(override)
    cache = Path(os.environ.get("TOOLS_CACHE") or Path.home() / ".cache" / "luxebrain-tools")
    digest = hashlib.sha256(SAM_REQUIREMENTS.read_bytes()).hexdigest()[:12]
    return cache / f"sam-{digest}" / "bin" / "python"


def translated_template(
    template_path: Path = DEFAULT_TEMPLATE_PATH, parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    parameters = dict(LOCAL_PARAMETERS if parameters is None else parameters)
    return json.loads(_translated_text(template_path.resolve(), tuple(sorted(parameters.items()))))


@lru_cache(maxsize=8)
def _translated_text(template_path: Path, parameters: tuple[tuple[str, str], ...]) -> str:
    try:
        template_bytes = template_path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read template {template_path}: {exc.strerror}") from None
    digest = hashlib.sha256()
    for part in (template_bytes, SAM_REQUIREMENTS.read_bytes(), TRANSLATE_SCRIPT.read_bytes()):
        digest.update(part)
    digest.update(json.dumps(parameters).encode())
    cached = CACHE_DIR / f"{template_path.stem}-{digest.hexdigest()[:16]}.json"
    if cached.exists():
        return cached.read_text()
    # The same bytes are refused the same way: a refusal is kept too, so a template's checks do not start the
    # translator's interpreter again for it.
    refusal = cached.with_suffix(".refused")
    if refusal.exists():
        raise ConfigurationError(f"the SAM transform refused {template_path.name}:\n{refusal.read_text()}")
    python = sam_tool_python()
    if not python.exists():
        raise ConfigurationError(
            f"the SAM transform needs the SAM CLI tool environment ({python} is missing): run `make sam-tools`"
        )
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    arguments = [f"{name}={value}" for name, value in parameters]
    completed = subprocess.run(  # noqa: S603 - our own script in our own tool environment
        [str(python), str(TRANSLATE_SCRIPT), str(template_path), str(partial), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        detail = completed.stderr.strip() or completed.stdout.strip()
        refusal_partial = refusal.with_suffix(f".{os.getpid()}.tmp")
        refusal_partial.write_text(detail)
        refusal_partial.replace(refusal)
        raise ConfigurationError(f"the SAM transform refused {template_path.name}:\n{detail}")
    partial.replace(cached)  # atomic: parallel test processes never read half a file
    return cached.read_text()
