// A new merchant's first hour against `luxebrain local`: sign up, connect the fake WooCommerce store through its
// own wc-auth approval page, watch the back-fill, train, and read the forecast chart. The tenant is this test's
// own; its store is removed at the end (LuxeBrain's webhooks deleted from the shared fake store).
import { expect, test, type APIRequestContext } from "@playwright/test";

import { checkAndShoot, timed } from "./helpers";
import { stack } from "./local";

async function tokenOf(request: APIRequestContext, who: { email: string; password: string }): Promise<string> {
  const login = await request.post(`${stack().api}/auth/login`, { data: who });
  expect(login.status()).toBe(200);
  return ((await login.json()) as { access_token: string }).access_token;
}

/** The fake WooCommerce the local stack serves: the demo tenant's store. */
async function fakeStoreUrl(request: APIRequestContext): Promise<string> {
  const headers = { Authorization: `Bearer ${await tokenOf(request, stack().owner)}` };
  const stores = (await (await request.get(`${stack().api}/stores`, { headers })).json()) as { items: { url: string }[] };
  return stores.items[0]!.url;
}

test("a new merchant signs up, connects a store with the wc-auth button, and sees the forecast chart", async ({ page, request }) => {
  test.setTimeout(10 * 60_000); // a back-fill of the sample store and a training run, on the embedded AWS
  const merchant = { email: `connect-${Date.now()}@shop.example`, password: "Correct-Horse-7" };
  const shop = await fakeStoreUrl(request);

  await page.goto(stack().dashboard + "/signup");
  await page.getByLabel("Company name").fill(`Maison Connectée ${Date.now() % 100000}`);
  await page.getByLabel("E-mail").fill(merchant.email);
  await page.getByLabel("Password").fill(merchant.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByLabel("Code from the e-mail").fill("123456"); // the embedded Cognito accepts any code
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByLabel("Password").fill(merchant.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByText("Waiting for the first forecast model.")).toBeVisible();

  let storeId: string | undefined;
  try {
    await page.getByRole("link", { name: "Store & health" }).click();
    await expect(page.getByText("No store connected yet.")).toBeVisible();
    await page.getByLabel("Shop address").fill(shop);
    await page.getByRole("button", { name: "Connect with WooCommerce" }).click();
    // The store's own approval page (WooCommerce's /wc-auth/v1/authorize), then back to the dashboard
    await expect(page).toHaveURL(new RegExp(`^${shop}/wc-auth/v1/authorize`));
    await page.getByRole("link", { name: "Approve" }).click();
    await expect(page).toHaveURL(/\/app\/connect\?connecting=s-[0-9a-f]+&success=1/);
    storeId = new URL(page.url()).searchParams.get("connecting") ?? undefined;
    await expect(page.getByText(/^✔ Store connected\./)).toBeVisible();

    const section = page.getByRole("region", { name: `Store ${shop}` });
    const progress = section.getByRole("table").filter({ has: page.getByRole("columnheader", { name: "Back-fill of" }) });
    await expect(progress).toBeVisible({ timeout: 60_000 }); // the first page has been fetched
    await checkAndShoot(page, "24-connect-backfill-progress");
    // The screen follows the back-fill by itself until every resource is done
    await timed("connect_backfill_ms", async () => {
      for (const resource of ["products", "customers", "orders"]) {
        await expect(progress.getByRole("row", { name: new RegExp(`^${resource} done `) })).toBeVisible({ timeout: 5 * 60_000 });
      }
    });
    const orders = progress.getByRole("row", { name: /^orders / });
    await expect(orders.getByRole("cell").nth(1)).toHaveText(/^[1-9][\d,]* of [1-9][\d,]*$/);
    await expect(section.getByText(/^Stored: [1-9]/)).toBeVisible();
    await expect(section.getByRole("table", { name: "Webhooks per topic" }).getByRole("row", { name: /^order\.created/ })).toBeVisible();
    await checkAndShoot(page, "25-connect-backfilled");

    // The first model: trained now on demand instead of waiting for the nightly schedule
    await page.getByRole("link", { name: "Models" }).click();
    await expect(page.getByRole("cell", { name: "not trained yet" }).first()).toBeVisible();
    await timed("connect_first_training_ms", async () => {
      await page.getByRole("button", { name: "Retrain now" }).click();
      await expect(page.getByRole("button", { name: "Training…" })).toBeDisabled();
      await expect(page.getByText("Training finished: the runs and the versions serving now are below.")).toBeVisible({ timeout: 5 * 60_000 });
    });
    const forecast = page.getByRole("row", { name: /^forecast / }).first();
    await expect(forecast.getByRole("cell").first()).not.toHaveText("not trained yet");

    await page.getByRole("link", { name: "Overview" }).click();
    const chart = page.getByRole("img", { name: /Weekly revenue/ });
    await expect(chart).toBeVisible();
    await page.getByText("The numbers of this chart").first().click();
    await expect(page.getByRole("table", { name: /Weekly revenue/ })).toBeVisible();
    await checkAndShoot(page, "26-connect-first-forecast");
  } finally {
    // The fake store is shared with the demo tenant: this tenant's webhooks and keys go with its store.
    if (storeId) {
      const headers = { Authorization: `Bearer ${await tokenOf(request, merchant)}` };
      const removed = await request.delete(`${stack().api}/stores/${storeId}`, { headers });
      expect(removed.status(), await removed.text()).toBe(200);
      expect(((await removed.json()) as { webhooks_left: unknown[] }).webhooks_left).toEqual([]);
    }
  }
});
