// A price suggestion approved on the Prices screen is written to the (fake) WooCommerce store, where shoppers see
// it through the public Store API; rolled back from the history, the store's price is the old one again.
import { expect, test, type APIRequestContext } from "@playwright/test";

import { checkAndShoot, logIn, ownerHeaders } from "./helpers";
import { stack } from "./local";

interface Suggestion {
  product_id: string;
  variation_id: string | null;
  kind: string;
  current_price: number;
  suggested_price: number;
}

/** What a shopper sees: the store's public Store API (prices in minor units). */
async function shopperPrice(request: APIRequestContext, shop: string, productId: string): Promise<number> {
  const answer = await request.get(`${shop}/wp-json/wc/store/v1/products?include=${productId}`);
  expect(answer.status()).toBe(200);
  const [product] = (await answer.json()) as { prices: { price: string } }[];
  return Number(product!.prices.price);
}

test("prices: approve a suggestion, see the store's price change, roll it back", async ({ page, request }) => {
  const headers = await ownerHeaders(request);
  const shop = ((await (await request.get(`${stack().api}/stores`, { headers })).json()) as { items: { url: string }[] }).items[0]!.url;
  const answer = (await (await request.get(`${stack().api}/prices/suggestions?limit=20`, { headers })).json()) as {
    suggestions: Suggestion[];
  };
  // A product-level suggestion: the Store API shows products, not their variations
  const chosen = answer.suggestions.find((suggestion) => suggestion.variation_id === null);
  expect(chosen, "the demo store has a product-level price suggestion").toBeDefined();
  const product = chosen!.product_id;
  const before = await shopperPrice(request, shop, product);
  expect(before).toBe(Math.round(chosen!.current_price * 100));

  await logIn(page, stack().owner, "/login?next=/app/prices");
  const history = page.locator("section", { has: page.getByRole("heading", { name: "History" }) });
  await expect(page.locator(".loading")).toHaveCount(0);
  try {
    await page.getByRole("button", { name: `Approve the price of product ${product}`, exact: true }).click();
    await expect(page.getByText(`Price of #${product} changed in the store (applied).`)).toBeVisible();
    const applied = history.getByRole("row", { name: new RegExp(`#${product} applied `) }).first();
    await expect(applied).toBeVisible();
    expect(await shopperPrice(request, shop, product)).toBe(Math.round(chosen!.suggested_price * 100));
    await checkAndShoot(page, "27-price-approved");

    await applied.getByRole("button", { name: `Roll back the price of product ${product}` }).click();
    await expect(page.getByText(`Price of #${product} put back (rolled_back).`)).toBeVisible();
    await expect(history.getByRole("row", { name: new RegExp(`#${product} rolled back `) }).first()).toBeVisible();
    expect(await shopperPrice(request, shop, product)).toBe(before);
    await checkAndShoot(page, "28-price-rolled-back");
  } finally {
    // The demo tenant is shared: a change left applied (a failed step above) is put back through the API.
    const decisions = (await (await request.get(`${stack().api}/prices/decisions?limit=20`, { headers })).json()) as {
      items: { decision_id: string; product_id: string; status: string }[];
    };
    for (const decision of decisions.items.filter((item) => item.product_id === product && item.status === "applied")) {
      await request.post(`${stack().api}/prices/decisions/${decision.decision_id}/rollback`, { headers, data: { force: true } });
    }
  }
});
