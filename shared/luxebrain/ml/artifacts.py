"""Model artifacts: plain numpy arrays plus a JSON manifest with a sha256 of every file.

No pickle anywhere: arrays are written with ``np.savez`` (object arrays refused) and read back with
``allow_pickle=False``; everything else (id maps, parameters, metrics) lives in the JSON manifest.
An artifact is a directory-like mapping ``{file name: bytes}`` so the same code writes to a local
folder, to S3, or to memory.

numpy is imported where arrays are read or written, not with this module: the training dispatcher and the
API's model loader name artifacts without ever opening one on their cold path.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luxebrain import __version__

if TYPE_CHECKING:
    import numpy as np

MANIFEST_NAME = "manifest.json"
ARRAYS_NAME = "arrays.npz"
FORMAT_VERSION = 1
# What a version serves, as its training recorded it in ``extra["serves"]``: its model, or (a model no better
# than the kind's simplest baseline on its hold-out, see ``luxebrain.ml.kinds.baseline_verdict``) the baseline.
SERVES_MODEL = "model"
SERVES_BASELINE = "baseline"


class ArtifactError(ValueError):
    """An artifact is missing a file, fails its checksum, or holds something that is not plain data."""


@dataclass(frozen=True)
class ModelArtifact:
    """A trained model as plain data: named arrays and a JSON-serialisable manifest."""

    kind: str
    arrays: dict[str, np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    data_counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # id maps and other small JSON data

    @property
    def serves_baseline(self) -> bool:
        return self.extra.get("serves") == SERVES_BASELINE

    def to_files(self) -> dict[str, bytes]:
        """Serialise to ``{file name: bytes}``: the arrays file and the manifest that checksums it."""
        import numpy as np

        for name, array in self.arrays.items():
            if array.dtype == object:
                raise ArtifactError(f"array {name!r} has dtype object; artifacts hold plain arrays only")
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays)
        arrays_bytes = buffer.getvalue()
        manifest = {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "code_version": __version__,
            "params": self.params,
            "metrics": self.metrics,
            "data_counts": self.data_counts,
            "extra": self.extra,
            "files": {ARRAYS_NAME: {"sha256": sha256_hex(arrays_bytes), "bytes": len(arrays_bytes)}},
        }
        manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
        return {ARRAYS_NAME: arrays_bytes, MANIFEST_NAME: manifest_bytes}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> ModelArtifact:
        """Load from ``{file name: bytes}``, verifying every checksum the manifest names."""
        import numpy as np

        if MANIFEST_NAME not in files:
            raise ArtifactError(f"artifact has no {MANIFEST_NAME}")
        try:
            manifest = json.loads(files[MANIFEST_NAME])
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{MANIFEST_NAME} is not valid JSON: {exc}") from exc
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"unsupported artifact format {manifest.get('format_version')!r}")
        for name, meta in manifest.get("files", {}).items():
            if name not in files:
                raise ArtifactError(f"artifact is missing {name}")
            if sha256_hex(files[name]) != meta.get("sha256"):
                raise ArtifactError(f"checksum mismatch for {name}")
        try:
            with np.load(io.BytesIO(files[ARRAYS_NAME]), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except ValueError as exc:  # raised by numpy when an array would need pickle
            raise ArtifactError(f"{ARRAYS_NAME} holds non-plain data: {exc}") from exc
        return cls(
            kind=manifest["kind"],
            arrays=arrays,
            params=manifest.get("params", {}),
            metrics=manifest.get("metrics", {}),
            data_counts=manifest.get("data_counts", {}),
            extra=manifest.get("extra", {}),
        )

    def save_dir(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in self.to_files().items():
            (directory / name).write_bytes(content)

    @classmethod
    def load_dir(cls, directory: Path) -> ModelArtifact:
        return cls.from_files({path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()})


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
