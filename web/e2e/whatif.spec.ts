// "What if this price?": from a price suggestion to the product's forecast asked at the suggested price, then at a
// lower one (another unit total, said in a sentence), then at one out of the range the API answers for (its
// message inline, next to the input). axe on each, and the layout at a desktop and a phone's width.
import { expect, test, type APIRequestContext } from "@playwright/test";

import { checkAndShoot, logIn, ownerHeaders } from "./helpers";
import { stack } from "./local";

interface Forecast {
  units_p50: number[];
  drivers: { price?: { planned: number; asked: number; demand_multiplier: number } };
}

async function forecast(request: APIRequestContext, headers: Record<string, string>, product: string, price?: string): Promise<Forecast> {
  const query = `horizon_weeks=8&history_weeks=12${price === undefined ? "" : `&price=${price}`}`;
  const answer = await request.get(`${stack().api}/forecasts/products/${product}?${query}`, { headers });
  expect(answer.status()).toBe(200);
  return ((await answer.json()) as { forecast: Forecast }).forecast;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const SENTENCE = /^At (€[\d,.]+) instead of (€[\d,.]+): about ([\d,.]+) units over the next 8 weeks instead of ([\d,.]+) \(×\d\.\d\d\), revenue €[\d,]+ instead of €[\d,]+\.( This product never sold at such a price: the estimate carries on the response its own price changes show\.)?$/;

test("forecast at another price: a suggestion's price, a lower one, and one out of range", async ({ page, request }) => {
  const headers = await ownerHeaders(request);
  const suggestions = (
    (await (await request.get(`${stack().api}/prices/suggestions?limit=20`, { headers })).json()) as {
      suggestions: { product_id: string; variation_id: string | null; current_price: number; suggested_price: number }[];
    }
  ).suggestions.filter((suggestion) => suggestion.variation_id === null);
  expect(suggestions.length, "the demo store has product-level price suggestions").toBeGreaterThan(0);
  // The product whose units move most at 0.75 x its price: the sentence's two unit totals then differ on screen.
  let chosen = suggestions[0]!;
  let gain = -1;
  for (const suggestion of suggestions.slice(0, 8)) {
    const lower = (suggestion.current_price * 0.75).toFixed(2);
    const now = sum((await forecast(request, headers, suggestion.product_id)).units_p50);
    const then = sum((await forecast(request, headers, suggestion.product_id, lower)).units_p50);
    if (now >= 10 && then - now > gain) [chosen, gain] = [suggestion, then - now];
  }
  const product = chosen.product_id;
  const current = chosen.current_price;

  await logIn(page, stack().owner, "/login?next=/app/prices");
  await expect(page.locator(".loading")).toHaveCount(0);
  await page.getByRole("link", { name: `Forecast at this price for product ${product}`, exact: true }).click();
  await expect(page.getByRole("heading", { name: `Forecast of product #${product}` })).toBeVisible();
  const panel = page.locator("section", { has: page.getByRole("heading", { name: `Forecast of product #${product}` }) });
  const said = panel.locator(".whatif-said");
  const input = panel.getByLabel("What if this price? (EUR)");
  const money = (value: number) => value.toLocaleString("en-GB", { style: "currency", currency: "EUR", minimumFractionDigits: 2 });
  // Asked at the suggested price straight away; the current price comes back in the answer.
  await expect(said).toHaveText(SENTENCE);
  await expect(said).toContainText(`At ${money(chosen.suggested_price)} instead of ${money(current)}:`);
  await expect(panel.getByRole("img", { name: new RegExp(`fan at ${money(chosen.suggested_price).replace(".", "\\.")}$`) })).toBeVisible();
  await checkAndShoot(page, "06c-inventory-price-from-suggestion");

  const lower = (current * 0.75).toFixed(2);
  await input.fill(lower);
  await panel.getByRole("button", { name: "Apply" }).click();
  await expect(said).toContainText(`At ${money(Number(lower))} instead of ${money(current)}:`);
  const [, , , asked, now] = SENTENCE.exec((await said.textContent()) ?? "") ?? [];
  expect(asked, "the sentence names the units at the asked price").toBeDefined();
  expect(asked, "another unit total at a lower price").not.toBe(now);
  expect(Number(asked!.replace(/,/g, ""))).toBeGreaterThan(Number(now!.replace(/,/g, "")));
  await panel.getByText("The numbers of this chart").click();
  await expect(panel.getByRole("columnheader", { name: `forecast at ${money(current)} (P50)` })).toBeVisible();
  await checkAndShoot(page, "06d-inventory-price-lower");

  await input.fill((current * 2).toFixed(2));
  await panel.getByRole("button", { name: "Apply" }).click();
  await expect(said).toContainText(/^⚠ Price must be between [\d.]+ and [\d.]+ \(/);
  await expect(input).toHaveAttribute("aria-invalid", "true");
  await expect(panel.getByRole("img", { name: /units sold per week and the forecast's P10–P90 fan$/ })).toBeVisible();
  await checkAndShoot(page, "06e-inventory-price-out-of-range");
  await page.setViewportSize({ width: 400, height: 900 });
  await panel.scrollIntoViewIfNeeded();
  await checkAndShoot(page, "06f-inventory-price-narrow");

  await panel.getByRole("button", { name: "Current price" }).click();
  await expect(input).toHaveValue(current.toFixed(2));
  await expect(said).toHaveText(`The forecast below is at the current price, ${money(current)}.`);
});
