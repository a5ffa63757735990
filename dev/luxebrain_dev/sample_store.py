"""A deterministic sample luxury-fashion store in WooCommerce's own REST v3 JSON shapes.

Behaviour is simulated so the models have something true to find: customers buy at their own rate and
drop out (the BG/NBD story), favour categories (collaborative signal), re-buy consumables (fragrance),
respond to sale prices with a known elasticity, and the calendar has weekly and yearly seasonality
(weekends, November-December peak, summer and winter sales). The same seed and ``as_of`` give the same
store, byte for byte.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

CATEGORIES: dict[str, tuple[float, float, float]] = {
    # name: (median price EUR, elasticity, share of catalogue)
    "Handbags": (1450.0, -1.4, 0.16),
    "Shoes": (690.0, -1.8, 0.16),
    "Ready-to-wear": (890.0, -2.0, 0.20),
    "Jewellery": (2100.0, -1.2, 0.10),
    "Watches": (4200.0, -1.1, 0.06),
    "Accessories": (320.0, -2.2, 0.14),
    "Fragrance": (145.0, -2.5, 0.10),
    "Eyewear": (380.0, -2.0, 0.08),
}
ADJECTIVES = [
    "Riviera",
    "Soleil",
    "Noir",
    "Ivoire",
    "Opera",
    "Camellia",
    "Étoile",
    "Monogram",
    "Velours",
    "Saffiano",
    "Lune",
    "Atelier",
    "Palais",
    "Cuir",
    "Marbre",
    "Aurore",
    "Sable",
    "Vendôme",
]
NOUNS = {
    "Handbags": ["Tote", "Clutch", "Shoulder Bag", "Crossbody", "Top Handle", "Bucket Bag"],
    "Shoes": ["Pump", "Loafer", "Slingback", "Ankle Boot", "Sneaker", "Mule"],
    "Ready-to-wear": [
        "Trench Coat",
        "Silk Blouse",
        "Tweed Jacket",
        "Cashmere Sweater",
        "Midi Dress",
        "Blazer",
    ],
    "Jewellery": ["Necklace", "Bangle", "Hoop Earrings", "Signet Ring", "Pendant", "Cuff"],
    "Watches": ["Automatic 38mm", "Chronograph", "Tank", "Diver 40mm", "Moonphase"],
    # Ribbon is sold by the metre (fractional quantities); "&" arrives as "&amp;", as WooCommerce sends titles.
    "Accessories": ["Silk Ribbon per metre", "Leather Belt", "Card Holder", "Gloves", "Key Ring & Charm", "Hair Clip"],
    "Fragrance": ["Eau de Parfum 50ml", "Eau de Parfum 100ml", "Eau de Toilette", "Body Lotion", "Candle"],
    "Eyewear": ["Cat-eye Sunglasses", "Aviator", "Square Frames", "Oversized Sunglasses"],
}
COUNTRIES = ["FR", "GB", "DE", "IT", "US", "CH", "ES", "NL", "BE", "AE"]
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Sofia",
    "Amelia",
    "Charlotte",
    "Giulia",
    "Hannah",
    "Olivia",
    "Chloé",
    "Emma",
    "Louis",
    "Hugo",
    "Matteo",
    "James",
    "Noah",
    "Lucas",
    "Arthur",
    "Elena",
    "Isabel",
    "Mia",
]
LAST_NAMES = ["Martin", "Bernard", "Rossi", "Smith", "Müller", "Dubois", "Laurent", "Ricci", "Jones", "Weber"]
SIZES = ["36", "38", "40", "42"]
COST_META_KEY = "_wc_cog_cost"  # WooCommerce Cost of Goods' meta field


@dataclass
class SampleStore:
    as_of: datetime
    products: list[dict[str, Any]] = field(default_factory=list)  # simple and variable products
    variations: list[dict[str, Any]] = field(default_factory=list)  # "type": "variation", with parent_id
    customers: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "products": len(self.products),
            "variations": len(self.variations),
            "customers": len(self.customers),
            "orders": len(self.orders),
            "order_lines": sum(len(order["line_items"]) for order in self.orders),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _money(value: float) -> str:
    return f"{value:.2f}"


def _seasonality(moments: np.ndarray) -> np.ndarray:
    """Relative demand at each moment (epoch seconds): weekly and yearly cycles, peak in Nov-Dec."""
    days = moments / 86400.0
    weekday = (np.floor(days) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weekly = np.where(weekday >= 5, 1.35, 1.0) * np.where(weekday == 0, 1.1, 1.0)
    day_of_year = (days % 365.25) / 365.25
    yearly = 1.0 + 0.35 * np.cos(2 * np.pi * (day_of_year - 0.93)) + 0.15 * np.cos(4 * np.pi * (day_of_year - 0.5))
    return weekly * yearly


def _in_sale(moments: np.ndarray) -> np.ndarray:
    """Summer sale (late June - July) and winter sale (January): luxury's two markdown seasons."""
    day_of_year = (moments / 86400.0) % 365.25
    return ((day_of_year >= 176) & (day_of_year < 210)) | (day_of_year < 25)


def generate_sample_store(
    *,
    products: int = 300,
    customers: int = 6000,
    years: float = 2.0,
    seed: int = 7,
    as_of: datetime | None = None,
) -> SampleStore:
    """Generate the store. ``as_of`` (default: today at midnight UTC) is the end of its history."""
    if products < 8 or customers < 1 or years <= 0:
        raise ValueError("a sample store needs at least 8 products, 1 customer and some history")
    rng = np.random.default_rng(seed)
    end = (as_of or datetime.now(UTC)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=365.25 * years)
    store = SampleStore(as_of=end)

    # ------------------------------------------------------------------ catalogue
    names = list(CATEGORIES)
    shares = np.array([CATEGORIES[c][2] for c in names])
    product_category = rng.choice(len(names), size=products, p=shares / shares.sum())
    product_category[: len(names)] = np.arange(len(names))  # every category present
    base_price = np.array([CATEGORIES[names[c]][0] for c in product_category]) * rng.lognormal(0, 0.35, products)
    base_price = np.round(base_price / 5) * 5
    elasticity = np.array([CATEGORIES[names[c]][1] for c in product_category]) * rng.uniform(0.8, 1.2, products)
    popularity = rng.pareto(1.3, products) + 0.2
    launched_at = start.timestamp() + rng.uniform(0, 0.6, products) * (end - start).total_seconds()
    launched_at[rng.random(products) < 0.6] = start.timestamp()  # most of the catalogue is older
    next_variation_id = 5000
    product_ids = np.arange(100, 100 + products)
    product_variations: dict[int, list[int]] = {}
    for index, product_id in enumerate(product_ids):
        category = names[product_category[index]]
        name = f"{ADJECTIVES[index % len(ADJECTIVES)]} {NOUNS[category][index % len(NOUNS[category])]}"
        price = float(base_price[index])
        stock = int(rng.integers(0, 40)) if rng.random() < 0.9 else 0
        variable = category == "Shoes"
        payload: dict[str, Any] = {
            "id": int(product_id),
            "name": name.replace("&", "&amp;"),
            "slug": f"{name.lower().replace(' ', '-').replace('&', 'and')}-{product_id}",
            "type": "variable" if variable else "simple",
            "status": "publish" if rng.random() > 0.03 else "draft",
            "sku": f"LX-{product_id}",
            "price": _money(price),
            "regular_price": _money(price),
            "sale_price": "",
            "on_sale": False,
            "date_created_gmt": _iso(datetime.fromtimestamp(launched_at[index], UTC)),
            "date_modified_gmt": _iso(end - timedelta(days=int(rng.integers(1, 60)))),
            "manage_stock": True,
            "stock_quantity": stock,
            "stock_status": "instock" if stock > 0 else "outofstock",
            "categories": [{"id": 10 + product_category[index].item(), "name": category, "slug": category.lower()}],
            "tags": [{"id": 1, "name": "never-discount", "slug": "never-discount"}] if category == "Watches" else [],
            "meta_data": [{"id": int(product_id) * 10, "key": COST_META_KEY, "value": _money(price * 0.38)}],
            "variations": [],
        }
        if variable:
            ids = []
            for size in SIZES:
                size_stock = int(rng.integers(0, 10))
                store.variations.append(
                    {
                        "id": next_variation_id,
                        "parent_id": int(product_id),
                        "type": "variation",
                        "sku": f"LX-{product_id}-{size}",
                        "price": _money(price),
                        "regular_price": _money(price),
                        "sale_price": "",
                        "status": "publish",
                        "date_modified_gmt": payload["date_modified_gmt"],
                        "manage_stock": True,
                        "stock_quantity": size_stock,
                        "stock_status": "instock" if size_stock > 0 else "outofstock",
                        "attributes": [{"id": 1, "name": "Size", "option": size}],
                    }
                )
                ids.append(next_variation_id)
                next_variation_id += 1
            payload["variations"] = ids
            payload["stock_quantity"] = None
            payload["manage_stock"] = False
            product_variations[int(product_id)] = ids
        store.products.append(payload)

    # ------------------------------------------------------------------ customers
    taste = rng.dirichlet(np.full(len(names), 0.35), size=customers)
    rate_per_day = rng.gamma(0.9, 1 / 30.0, customers)  # heterogeneous purchase rates (BG/NBD's lambda)
    dropout = rng.beta(1.0, 7.0, customers)  # chance of leaving after each purchase (BG/NBD's p)
    span = (end - start).total_seconds()
    first_seen = start.timestamp() + span * rng.power(1.3, customers)  # the store grows over time
    registered = rng.random(customers) > 0.15
    for index in range(customers):
        first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        email = f"{first.lower()}.{last.lower()}.{index}@example.com".replace("é", "e").replace("ü", "u")
        country = COUNTRIES[int(rng.integers(0, len(COUNTRIES)))]
        store.customers.append(
            {
                "id": index + 1 if registered[index] else 0,
                "email": email,
                "first_name": first,
                "last_name": last,
                "role": "customer",
                "date_created_gmt": _iso(datetime.fromtimestamp(first_seen[index], UTC)),
                "date_modified_gmt": _iso(datetime.fromtimestamp(first_seen[index], UTC)),
                "billing": {
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "country": country,
                    "phone": f"+33{600000000 + index}",
                },
                "is_paying_customer": False,
            }
        )
    customers_in_order = list(store.customers)  # index -> customer, before guests are moved last
    store.customers = [c for c in store.customers if c["id"] != 0] + [c for c in store.customers if c["id"] == 0]

    # ------------------------------------------------------------------ orders
    category_of_product = product_category
    price_of_product = base_price
    order_id = 10000
    seasonal_peak = 1.6
    for index in range(customers):
        customer = customers_in_order[index]
        moment = first_seen[index]
        alive = True
        purchases = 0
        bought: list[int] = []
        while alive and moment < end.timestamp():
            if rng.random() * seasonal_peak <= _seasonality(np.array([moment]))[0]:
                on_sale = bool(_in_sale(np.array([moment]))[0])
                items = _choose_items(
                    rng,
                    taste[index],
                    category_of_product,
                    popularity,
                    price_of_product,
                    elasticity,
                    launched_at,
                    moment,
                    on_sale,
                    bought,
                )
                order_id += 1
                store.orders.append(
                    _order_payload(
                        rng,
                        order_id,
                        customer,
                        items,
                        moment,
                        end,
                        on_sale,
                        price_of_product,
                        product_ids,
                        product_variations,
                        store.products,
                    )
                )
                bought.extend(items)
                purchases += 1
                if purchases >= 1 and rng.random() < dropout[index]:
                    alive = False
            moment += rng.exponential(1.0 / max(rate_per_day[index], 1e-4)) * 86400.0
            moment += rng.uniform(0, 6) * 3600.0
    store.orders.sort(key=lambda order: order["date_created_gmt"])
    for position, order in enumerate(store.orders):  # ids ascend with time, as in WooCommerce
        order["id"] = 10001 + position
        order["number"] = str(order["id"])
    paying = {order["billing"]["email"] for order in store.orders if order["status"] in ("processing", "completed")}
    for customer in store.customers:
        customer["is_paying_customer"] = customer["email"] in paying
    return store


def _choose_items(
    rng: np.random.Generator,
    taste: np.ndarray,
    category_of_product: np.ndarray,
    popularity: np.ndarray,
    price: np.ndarray,
    elasticity: np.ndarray,
    launched_at: np.ndarray,
    moment: float,
    on_sale: bool,
    bought: list[int],
) -> list[int]:
    weights = taste[category_of_product] * popularity * (launched_at <= moment)
    if on_sale:  # 20 % off everything but watches; demand responds with the product's elasticity
        weights = weights * np.where(elasticity > -1.15, 1.0, 0.8**elasticity)
    if bought:
        # Fragrance is replenished: customers re-buy what they had.
        for product in set(bought):
            if category_of_product[product] == list(CATEGORIES).index("Fragrance"):
                weights[product] *= 25.0
    weights = weights / price**0.15
    total = weights.sum()
    if total <= 0:
        return [int(rng.integers(0, len(price)))]
    n_items = 1 + int(rng.random() < 0.35) + int(rng.random() < 0.1)
    return [int(i) for i in rng.choice(len(price), size=n_items, replace=False, p=weights / total)]


def _order_payload(
    rng: np.random.Generator,
    order_id: int,
    customer: dict[str, Any],
    items: list[int],
    moment: float,
    end: datetime,
    on_sale: bool,
    price: np.ndarray,
    product_ids: np.ndarray,
    product_variations: dict[int, list[int]],
    products: list[dict[str, Any]],
) -> dict[str, Any]:
    created = datetime.fromtimestamp(moment, UTC)
    age_days = (end - created).total_seconds() / 86400.0
    roll = rng.random()
    if age_days < 2 and roll < 0.35:
        status = "checkout-draft" if rng.random() < 0.5 else "pending"  # carts not (yet) paid
    elif age_days < 5 and roll < 0.6:
        status = "processing"
    elif roll < 0.03:
        status = "refunded"
    elif roll < 0.06:
        status = "cancelled"
    elif roll < 0.075:
        status = "failed"
    else:
        status = "completed"
    line_items = []
    total = 0.0
    for position, product_index in enumerate(items):
        product_id = int(product_ids[product_index])
        unit = float(price[product_index]) * (0.8 if on_sale and products[product_index]["tags"] == [] else 1.0)
        by_the_metre = "per metre" in products[product_index]["name"]
        quantity: float = (1.5 if by_the_metre else 1) + int(rng.random() < 0.05)
        variations = product_variations.get(product_id)
        line_total = unit * quantity
        total += line_total
        line_items.append(
            {
                "id": order_id * 10 + position,
                "name": products[product_index]["name"],
                "product_id": product_id,
                "variation_id": int(rng.choice(variations)) if variations else 0,
                "quantity": quantity,
                "subtotal": _money(line_total),
                "total": _money(line_total),
                "price": round(unit, 2),
                "sku": products[product_index]["sku"],
            }
        )
    paid = status in ("processing", "completed", "refunded")
    paid_at = created + timedelta(minutes=int(rng.integers(1, 30)))
    completed_at = paid_at + timedelta(days=int(rng.integers(1, 4)))
    if completed_at > end:
        completed_at = end
    modified = completed_at if status == "completed" else (paid_at if paid else created)
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "status": status,
        "currency": "EUR",
        "date_created_gmt": _iso(created),
        "date_modified_gmt": _iso(modified),
        "date_paid_gmt": _iso(paid_at) if paid else None,
        "date_completed_gmt": _iso(completed_at) if status == "completed" else None,
        "discount_total": "0.00",
        "total": _money(total),
        "customer_id": customer["id"],
        "order_key": "wc_order_" + hashlib.sha256(f"{order_id}".encode()).hexdigest()[:13],
        "billing": dict(customer["billing"]),
        "payment_method": "stripe",
        "line_items": line_items,
        "coupon_lines": [],
    }
