"""Helpers of the API tests: the app, merchants with real Cognito logins, model artifacts published the way
the training pipeline publishes them, tokens signed with the pool's own key (for expiry/issuer cases), and a
count of the AWS requests a piece of code makes."""

from __future__ import annotations

import gzip
import json
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt

REPO = Path(__file__).resolve().parents[2]


class ApiModule:
    """functions/api/app.py with its apps served as ApiFunction: their AWS calls are authorized against that
    function's role, as in Lambda."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    @property
    def app(self) -> Any:
        from luxebrain_dev.local.functions import FunctionApp

        return FunctionApp("ApiFunction", self.module.app)

    @property
    def handler(self) -> Any:
        from luxebrain_dev.local.functions import as_function

        return as_function("ApiFunction", self.module.handler)

    def create_app(self) -> Any:
        from luxebrain_dev.local.functions import FunctionApp

        return FunctionApp("ApiFunction", self.module.create_app())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def api_app_module() -> ApiModule:
    """functions/api/app.py imported the way Lambda imports it (``api.app`` with functions/ on the path)."""
    functions_dir = str(REPO / "functions")
    if functions_dir not in sys.path:
        sys.path.append(functions_dir)
    import api.app

    return ApiModule(api.app)


@contextmanager
def counted_aws_requests() -> Iterator[Counter[str]]:
    """Every AWS request made inside, by ``service:Operation`` (botocore's one entry point for them all)."""
    import botocore.client

    counts: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: Any) -> Any:
        counts[f"{client.meta.service_model.service_name}:{operation}"] += 1
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = counting
    try:
        yield counts
    finally:
        botocore.client.BaseClient._make_api_call = original


@contextmanager
def counted_dynamodb_items_read() -> Iterator[Counter[str]]:
    """Every DynamoDB item read inside (returned by GetItem, BatchGetItem, Query or Scan), by its entity."""
    import botocore.client

    counts: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: Any) -> Any:
        response = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            items = [response["Item"]] if response.get("Item") else list(response.get("Items", ()))
            items += [item for found in response.get("Responses", {}).values() for item in found]
            counts.update(item.get("entity", {}).get("S", "?") for item in items)
        return response

    botocore.client.BaseClient._make_api_call = counting
    try:
        yield counts
    finally:
        botocore.client.BaseClient._make_api_call = original


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
    from luxebrain.adapters.aws import user_directory
    from luxebrain.auth.accounts import create_demo_login
    from luxebrain.billing.usage import plan_usage
    from luxebrain.storage.members import member_repository
    from luxebrain.storage.tenants import tenant_repository

    login = create_demo_login(
        email=f"owner-{uuid.uuid4().hex[:10]}@shop.example",
        company_name=company,
        users=user_directory(),
        members=member_repository(),
        tenants=tenant_repository(),
        usage=plan_usage(),
    )
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
    from luxebrain.serving.loader import artifact_prefix
    from luxebrain.storage.training import get_pointer, switch_pointer

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


def small_order_lines(
    customers: int = 12, products: int = 8, seed: int = 7, customer_prefix: str = "c", product_prefix: str = ""
) -> Any:
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
                        "customer_id": f"{customer_prefix}{c}",
                        "product_id": f"{product_prefix}{100 + int(product)}",
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


def add_tenant_user(tenant_id: str, role: str) -> Merchant:
    """Another user of an existing tenant (staff, read-only...), logged in."""
    from luxebrain.adapters.aws import user_directory
    from luxebrain.auth.accounts import admin_confirm, demo_password, login
    from luxebrain.auth.members import add_member
    from luxebrain.auth.principal import Role
    from luxebrain.billing.usage import plan_usage
    from luxebrain.runtime import aws_client, configured_settings
    from luxebrain.storage.members import member_repository

    settings = configured_settings()
    email = f"{role}-{uuid.uuid4().hex[:10]}@shop.example"
    password = demo_password()
    response = aws_client("cognito-idp").sign_up(
        ClientId=settings.require("user_pool_client_id"),
        Username=email,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    admin_confirm(email, users=user_directory())
    add_member(tenant_id, response["UserSub"], Role(role), email=email, members=member_repository(), usage=plan_usage())
    tokens = login(email, password, users=user_directory(), members=member_repository(), remember_me=True)
    return Merchant(email, password, tenant_id, tokens.access_token, tokens.id_token, tokens.refresh_token or "")


def priced_store(products: int = 6, weeks: int = 40, seed: int = 3) -> tuple[Any, Any]:
    """Order lines with price variation (so elasticities can be fitted) and the catalogue, as frames."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    start = datetime(2025, 6, 2, tzinfo=UTC)
    lines, catalogue = [], []
    for k in range(products):
        product_id = str(200 + k)
        base = float(rng.uniform(40, 120))
        for week in range(weeks):
            factor = float(rng.choice([0.8, 0.9, 1.0, 1.0, 1.1]))
            units = int(rng.poisson(10.0 * factor**-2.0))
            if units:
                lines.append(
                    {
                        "order_id": f"o{product_id}-{week}",
                        "customer_id": f"c{week % 7}",
                        "product_id": product_id,
                        "ordered_at": start + timedelta(weeks=week, days=1),
                        "quantity": float(units),
                        "unit_price": round(base * factor, 2),
                        "line_total": round(base * factor, 2) * units,
                    }
                )
        catalogue.append(
            {
                "product_id": product_id,
                "name": f"Sac {product_id}",
                "category": "Bags",
                "price": round(base, 2),
                "regular_price": round(base, 2),
                "stock_quantity": 500.0,
                "in_stock": True,
                "published": True,
                "cost": round(base * 0.35, 2),
            }
        )
    frame = pd.DataFrame(lines)
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    return frame, pd.DataFrame(catalogue)


def save_products(tenant_id: str, catalogue: Any) -> None:
    """The catalogue as the ingest pipeline stores it (ProductItem per product)."""
    from luxebrain.storage.items.catalogue import ProductItem, key_product

    for row in catalogue.to_dict("records"):
        pk, sk = key_product(tenant_id, row["product_id"])
        ProductItem(
            pk,
            sk,
            entity="product",
            tenant_id=tenant_id,
            product_id=row["product_id"],
            name=row["name"],
            categories=[row["category"]],
            price=row["price"],
            regular_price=row["regular_price"],
            cost=row["cost"],
            stock_quantity=row["stock_quantity"],
        ).save()


class InMemoryWooCommerce:
    """The two calls luxebrain.ml.pricing.apply makes (GET and PUT of a product), on a dict of products.
    Stands in for a shop's REST API; the merchant's own price changes are simulated with ``set_price``."""

    def __init__(self, catalogue: Any) -> None:
        self.products = {
            f"products/{row['product_id']}": {
                "id": int(row["product_id"]),
                "price": f"{row['price']:.2f}",
                "regular_price": f"{row['regular_price']:.2f}",
                "sale_price": "",
                "date_on_sale_from_gmt": None,
                "date_on_sale_to_gmt": None,
            }
            for row in catalogue.to_dict("records")
        }
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def get(self, endpoint: str, **_: Any) -> dict[str, Any]:
        return dict(self.products[endpoint])

    def put(self, endpoint: str, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.writes.append((endpoint, dict(data)))
        product = self.products[endpoint]
        product.update(data)
        product["price"] = product["sale_price"] or product["regular_price"]
        return dict(product)

    def set_price(self, product_id: str, price: str) -> None:
        product = self.products[f"products/{product_id}"]
        product.update({"regular_price": price, "sale_price": "", "price": price})
