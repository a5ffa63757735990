"""Helpers of the API tests: the app, merchants with real Cognito logins, model artifacts published the way
the training pipeline publishes them, and tokens signed with the pool's own key (for expiry/issuer cases)."""

from __future__ import annotations

import gzip
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt

REPO = Path(__file__).resolve().parents[2]


def api_app_module() -> ModuleType:
    """functions/api/app.py imported the way Lambda imports it (``api.app`` with functions/ on the path)."""
    functions_dir = str(REPO / "functions")
    if functions_dir not in sys.path:
        sys.path.append(functions_dir)
    import api.app

    return api.app


@dataclass
class Merchant:
    email: str
    password: str
    tenant_id: str
    access_token: str
    id_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def new_merchant(company: str = "Maison Test") -> Merchant:
    from luxebrain.auth.accounts import create_demo_login

    login = create_demo_login(email=f"owner-{uuid.uuid4().hex[:10]}@shop.example", company_name=company)
    return Merchant(
        email=login.email,
        password=login.password,
        tenant_id=login.tenant_id,
        access_token=login.tokens.access_token,
        id_token=login.tokens.id_token,
        refresh_token=login.tokens.refresh_token or "",
    )


def publish_artifact(tenant_id: str, artifact: Any, version: str | None = None) -> str:
    """Write an artifact to S3 and make it current, exactly as the training pipeline does."""
    from luxebrain.runtime import aws_client, configured_settings
    from luxebrain.serving import artifact_prefix
    from luxebrain.training.state import get_pointer, switch_pointer

    version = version or datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    prefix = artifact_prefix(tenant_id, artifact.kind, version)
    files = artifact.to_files()
    s3 = aws_client("s3")
    for name in sorted(files, key=lambda name: name == "manifest.json"):
        s3.put_object(Bucket=configured_settings().models_bucket, Key=prefix + name, Body=files[name])
    current = get_pointer(tenant_id, artifact.kind)
    switch_pointer(
        tenant_id,
        artifact.kind,
        expected_version=current.version if current else None,
        version=version,
        artifact_prefix=prefix,
        run_id="test-" + uuid.uuid4().hex[:6],
        holdout_metric=None,
        now=datetime.now(UTC),
    )
    return version


def small_order_lines(customers: int = 12, products: int = 8, seed: int = 7) -> Any:
    """A small, deterministic order history: each customer buys from two overlapping product groups."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    rows = []
    order = 0
    for c in range(customers):
        group = c % 2
        for visit in range(3):
            order += 1
            picks = rng.choice(np.arange(group * 3, group * 3 + 5) % products, size=2, replace=False)
            for product in picks:
                rows.append(
                    {
                        "order_id": f"o{order}",
                        "customer_id": f"c{c}",
                        "product_id": f"{100 + int(product)}",
                        "ordered_at": pd.Timestamp(start + timedelta(days=7 * visit + c)),
                        "quantity": 1.0,
                        "unit_price": 20.0 + int(product),
                        "line_total": 20.0 + int(product),
                    }
                )
    frame = pd.DataFrame(rows)
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    return frame


# ----------------------------------------------------------------------------- crafted tokens
def _pool_private_key() -> dict[str, Any]:
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))


def signed_token(claims: dict[str, Any], *, key: Any | None = None, kid: str = "dummy") -> str:
    """A JWT signed with the user pool's own signing key (moto's), or with ``key`` when given."""
    signing_key = key or jwt.PyJWK(_pool_private_key()).key
    return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": kid})


def access_claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
