import numpy as np
import pytest

from luxebrain.ml.artifacts import ARRAYS_NAME, ArtifactError, ModelArtifact


def make_artifact() -> ModelArtifact:
    return ModelArtifact(
        kind="recommend",
        arrays={"scores": np.arange(6, dtype=np.float32).reshape(2, 3)},
        params={"lambda": 500},
        extra={"item_ids": ["a", "b", "c"]},
    )


def test_round_trip_keeps_arrays_and_manifest() -> None:
    loaded = ModelArtifact.from_files(make_artifact().to_files())
    assert loaded.kind == "recommend"
    np.testing.assert_array_equal(loaded.arrays["scores"], make_artifact().arrays["scores"])
    assert loaded.extra["item_ids"] == ["a", "b", "c"]


def test_tampered_arrays_fail_checksum() -> None:
    files = make_artifact().to_files()
    corrupted = bytearray(files[ARRAYS_NAME])
    corrupted[-1] ^= 0xFF
    files[ARRAYS_NAME] = bytes(corrupted)
    with pytest.raises(ArtifactError, match="checksum"):
        ModelArtifact.from_files(files)


def test_object_arrays_are_refused() -> None:
    artifact = ModelArtifact(kind="x", arrays={"bad": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ArtifactError, match="plain arrays"):
        artifact.to_files()
