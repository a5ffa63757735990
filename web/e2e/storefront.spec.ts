// The storefront placements' results screen against `luxebrain local`: the widget's events for a day of
// visitors, sent the way the widget sends them (storefront key, the shop's own origin), then read on screen.
import { expect, test, type APIRequestContext } from "@playwright/test";

import { checkAndShoot, logIn } from "./helpers";
import { stack } from "./local";

async function ownerToken(request: APIRequestContext): Promise<string> {
  const login = await request.post(`${stack().api}/auth/login`, { data: stack().owner });
  expect(login.status()).toBe(200);
  return ((await login.json()) as { access_token: string }).access_token;
}

test("storefront: placement results with the hold-out's honest 'no decision yet'", async ({ page, request }) => {
  const headers = { Authorization: `Bearer ${await ownerToken(request)}` };
  const key = ((await (await request.post(`${stack().api}/tenant/storefront-key`, { headers })).json()) as { key: string }).key;
  const stores = (await (await request.get(`${stack().api}/stores`, { headers })).json()) as { items: { url: string }[] };
  const origin = new URL(stores.items[0]!.url).origin;
  const popular = (await (await request.get(`${stack().api}/recommendations/popular?k=3`, { headers })).json()) as {
    model_version: string;
    response_id: string;
    items: { product_id: string }[];
  };
  const productIds = popular.items.map((item) => item.product_id);
  const run = Date.now().toString(36);
  const visitors = 24;
  for (let n = 0; n < visitors; n++) {
    const visitor = `e2e${run}visitor${String(n).padStart(4, "0")}`;
    const event = (type: string, suffix: string, ids: string[]) => ({
      id: `${visitor}-${suffix}`.slice(0, 64),
      type,
      placement: "related",
      product_ids: ids,
      model_version: popular.model_version,
      response_id: popular.response_id,
    });
    const events = [event("impression", "i", productIds)];
    if (n % 3 === 0) events.push(event("click", "c", [productIds[0]!]));
    if (n % 6 === 0) events.push(event("add_to_cart", "a", [productIds[0]!]));
    const sent = await request.post(`${stack().api}/events`, {
      headers: { "X-Storefront-Key": key, Origin: origin },
      data: { visitor_id: visitor, events },
    });
    expect(sent.status(), await sent.text()).toBe(202);
  }
  // Another site carrying the key is refused
  const foreign = await request.post(`${stack().api}/events`, {
    headers: { "X-Storefront-Key": key, Origin: "https://elsewhere.example" },
    data: { visitor_id: `e2e${run}foreign000000`, events: [{ id: `e2e${run}foreign-i`, type: "impression", placement: "related", product_ids: productIds }] },
  });
  expect(foreign.status()).toBe(403);

  await logIn(page, stack().owner, "/login?next=/app/storefront");
  const related = page.locator("section", { has: page.getByRole("heading", { name: "“related”" }) });
  await expect(related).toBeVisible();
  await expect(related.getByText("● No decision yet")).toBeVisible();
  const shown = Number((await related.locator("table").first().locator("tbody td").first().textContent())?.replace(/,/g, ""));
  expect(shown).toBeGreaterThanOrEqual(visitors); // one impression per slot shown, whatever it holds
  await expect(related.getByRole("rowheader", { name: "Hold-out" })).toBeVisible();
  await checkAndShoot(page, "19-storefront-placements");
});
