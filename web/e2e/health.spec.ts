// Store health against `luxebrain local`: webhook status per topic, and "check and re-enable now" run by the
// back-fill function.
import { expect, test } from "@playwright/test";

import { checkAndShoot, logIn } from "./helpers";
import { stack } from "./local";

test("store health: webhooks per topic, and a check run now from the screen", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/connect");
  const topics = page.getByRole("table", { name: "Webhooks per topic" });
  await expect(topics).toBeVisible();
  const created = topics.getByRole("row", { name: /^order\.created/ });
  await expect(created.getByRole("cell").nth(0)).toHaveText("✔ active");
  // One row per topic LuxeBrain registered on the demo store (orders, products, customers, coupons)
  expect(await topics.locator("tbody tr").count()).toBeGreaterThanOrEqual(12);
  // The demo store's records were all stored: the rejected records say so (GET /stores/{id}/rejected)
  await expect(page.getByText("No record was rejected in the last 7 days.")).toBeVisible();
  const before = await page.getByText(/^Last checked: /).textContent();
  await page.getByRole("button", { name: "Check and re-enable now" }).click();
  await expect(page.getByRole("button", { name: "Checking…" })).toBeDisabled();
  await expect(page.getByText("Webhooks checked: every topic is set right.")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText(/^Last checked: /)).not.toHaveText(before ?? "");
  await checkAndShoot(page, "20-store-health-webhooks");
  // Asked again at once: the API's refusal says when to retry
  await page.getByRole("button", { name: "Check and re-enable now" }).click();
  await expect(page.getByText(/too many webhook checks/)).toBeVisible();
});

test("store health: a read-only member sees no check button, and the API refuses it if forced", async ({ page, request }) => {
  await logIn(page, stack().read_only, "/login?next=/app/connect");
  await expect(page.getByRole("table", { name: "Webhooks per topic" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Check and re-enable now" })).toHaveCount(0);
  const token = ((await (await request.post(`${stack().api}/auth/login`, { data: stack().read_only })).json()) as { access_token: string })
    .access_token;
  const headers = { Authorization: `Bearer ${token}` };
  const stores = (await (await request.get(`${stack().api}/stores`, { headers })).json()) as { items: { store_id: string }[] };
  const forced = await request.post(`${stack().api}/stores/${stores.items[0]!.store_id}/webhooks/check`, { headers });
  expect(forced.status()).toBe(403);
});
