// The dashboard in headless Chromium against `luxebrain local` with the demo store: each screen's real data,
// an axe-core check with no serious or critical violation, and a screenshot under test-results/screens/.
import { expect, test } from "@playwright/test";

import { checkAndShoot, logIn, timed } from "./helpers";
import { stack } from "./local";

test("public landing shows the plans from the API", async ({ page }) => {
  await page.goto(stack().dashboard + "/");
  await expect(page.getByRole("heading", { name: "Plans" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "growth" })).toBeVisible();
  await expect(page.getByText("€49 / month")).toBeVisible();
  await checkAndShoot(page, "01-landing");
});

test("sign up, confirm, and log in to the new tenant", async ({ page }) => {
  const email = `owner-${Date.now()}@shop.example`;
  await page.goto(stack().dashboard + "/signup");
  await page.getByLabel("Company name").fill("Maison Nouvelle");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByText("at least 10 characters")).toBeVisible(); // checked before the round trip
  await checkAndShoot(page, "02-signup-invalid");
  await page.getByLabel("Password").fill("Correct-Horse-7");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByRole("heading", { name: "Confirm your e-mail" })).toBeVisible();
  // The embedded Cognito accepts any code (the real one e-mails it).
  await page.getByLabel("Code from the e-mail").fill("123456");
  await checkAndShoot(page, "03-confirm");
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await page.getByLabel("Password").fill("Correct-Horse-7");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  // A new tenant has no model yet: the screen says what it waits for instead of failing.
  await expect(page.getByText("Waiting for the first forecast model.")).toBeVisible();
});

test("log-in errors from the API are shown on the form", async ({ page }) => {
  await logIn(page, { email: stack().owner.email, password: "Not-the-password-1" });
  await expect(page.getByRole("alert")).toBeVisible();
  await checkAndShoot(page, "04-login-refused");
});

test("overview: actual vs forecast with its band, and the week's alerts", async ({ page }) => {
  await timed("login_to_overview_ms", async () => {
    await logIn(page, stack().owner);
    await expect(page.getByRole("img", { name: /Weekly revenue/ })).toBeVisible();
  });
  await expect(page.getByRole("heading", { name: "Stock-outs ahead" })).toBeVisible();
  const chart = page.getByRole("img", { name: /Weekly revenue/ });
  await chart.focus();
  await page.keyboard.press("End");
  await expect(page.getByText(/forecast .* EUR \(P10 .* to P90 .*\)/).first()).toBeVisible();
  await page.getByText("The numbers of this chart").first().click();
  await expect(page.getByRole("table", { name: /Weekly revenue/ })).toBeVisible();
  await checkAndShoot(page, "05-overview");
});

test("inventory: the reorder list and a product's fan chart", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/inventory");
  await expect(page.getByRole("heading", { name: "Inventory" })).toBeVisible();
  const first = page.getByRole("button", { name: /^Forecast of product/ }).first();
  await timed("inventory_fan_chart_ms", async () => {
    await first.click();
    await expect(page.getByRole("img", { name: /units sold per week and the forecast/ })).toBeVisible();
  });
  await checkAndShoot(page, "06-inventory");
});

test("customers: segments, a segment's members, one customer's scores, the at-risk list", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/customers");
  await expect(page.getByRole("heading", { name: /Segments \(RFM\)/ })).toBeVisible();
  await page.locator(".segment").first().click();
  await expect(page.getByRole("heading", { name: /members, highest/ })).toBeVisible();
  await page.getByRole("heading", { name: /Valuable customers at risk/ }).scrollIntoViewIfNeeded();
  const customer = page.locator("table button.link").first();
  await customer.click();
  await expect(page.getByRole("term").filter({ hasText: "12-month value" })).toBeVisible();
  await checkAndShoot(page, "07-customers");
});

test("prices: suggestions with reasons and the decision history", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/prices");
  await expect(page.getByRole("heading", { name: "Suggestions waiting for a decision" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "History" })).toBeVisible();
  await expect(page.locator(".loading")).toHaveCount(0);
  await checkAndShoot(page, "08-prices");
});

test("a read-only member sees no write buttons, and the API refuses them if forced", async ({ page, request }) => {
  await logIn(page, stack().read_only, "/login?next=/app/prices");
  await expect(page.getByText("Your role is read-only")).toBeVisible();
  await expect(page.locator(".loading")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Approve/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Roll back/ })).toHaveCount(0);
  const login = await request.post(`${stack().api}/auth/login`, { data: stack().read_only });
  const token = (await login.json()).access_token as string;
  const forced = await request.post(`${stack().api}/prices/suggestions/1/approve`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { model_version: "x" },
  });
  expect(forced.status()).toBe(403);
  await checkAndShoot(page, "09-prices-read-only");
  await page.getByRole("link", { name: "Inventory" }).click();
  await expect(page.getByRole("heading", { name: /Reorder now/ })).toBeVisible();
  await expect(page.getByRole("button", { name: /^Supply of product/ })).toHaveCount(0);
  const product = ((await page.locator("tbody tr").first().getByRole("rowheader").textContent()) ?? "").replace("#", "").trim();
  const supply = `${stack().api}/inventory/products/${product}/supply`;
  expect((await request.get(supply, { headers: { Authorization: `Bearer ${token}` } })).status()).toBe(200);
  const forcedSupply = await request.put(supply, { headers: { Authorization: `Bearer ${token}` }, data: { lead_time_days: 90 } });
  expect(forcedSupply.status()).toBe(403);
});

test("a session ended on the server returns to log-in, then back to where the merchant was", async ({ page, request }) => {
  await logIn(page, stack().owner, "/login?next=/app/customers");
  await expect(page.getByRole("heading", { name: "Customers", exact: true })).toBeVisible();
  // The screen's own requests finish first: one of them answered 401 after the revocation would end the session
  // on this screen before the click, and the test would race the screen instead of testing the navigation.
  await page.waitForLoadState("networkidle");
  await expect(page.locator(".loading")).toHaveCount(0);
  // "Sign out everywhere" from another device: the server revokes every session of the user.
  const other = await request.post(`${stack().api}/auth/login`, { data: stack().owner });
  const token = (await other.json()).access_token as string;
  const out = await request.post(`${stack().api}/auth/logout`, { headers: { Authorization: `Bearer ${token}` } });
  expect(out.status()).toBe(204);
  await page.getByRole("link", { name: "Prices" }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fapp%2Fprices/);
  await page.getByLabel("E-mail").fill(stack().owner.email);
  await page.getByLabel("Password").fill(stack().owner.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/app\/prices$/);
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page).toHaveURL(/\/login/);
});

test("models, store health and team & plan screens", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/models");
  await expect(page.getByRole("heading", { name: "Serving now" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "forecast" }).first()).toBeVisible();
  await expect(page.locator(".loading")).toHaveCount(0);
  await checkAndShoot(page, "10-models");
  await page.getByRole("link", { name: "Store & health" }).click();
  await expect(page.getByRole("heading", { name: "Connect a WooCommerce store" })).toBeVisible();
  await expect(page.getByText(/Stored: /)).toBeVisible();
  await page.getByLabel("Shop address").fill("ftp://nope");
  await page.getByRole("button", { name: "Connect with WooCommerce" }).click();
  await expect(page.getByText("must start with https://")).toBeVisible();
  await checkAndShoot(page, "11-store-health");
  await page.getByRole("link", { name: "Team & plan" }).click();
  await expect(page.getByRole("rowheader", { name: stack().owner.email })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "API calls" })).toBeVisible();
  await checkAndShoot(page, "12-team-plan");
});

test("a platform admin suspends a tenant, whose owner is then signed out", async ({ browser, request }) => {
  const email = `suspended-${Date.now()}@shop.example`;
  const name = `Maison Suspendue ${Date.now() % 100000}`;
  const password = "Correct-Horse-7";
  const signUp = await request.post(`${stack().api}/auth/signup`, { data: { email, password, company_name: name } });
  expect(signUp.status()).toBe(202); // accepted: the account exists once the e-mailed code confirms it
  await request.post(`${stack().api}/auth/confirm`, { data: { email, code: "123456" } });
  const owner = await (await browser.newContext()).newPage();
  await logIn(owner, { email, password });
  await expect(owner.getByRole("heading", { name: "Overview" })).toBeVisible();

  const admin = await (await browser.newContext()).newPage();
  await logIn(admin, stack().admin);
  await expect(admin.getByRole("heading", { name: "Tenants" })).toBeVisible();
  await admin.getByLabel(/^Reason/).fill("chargeback under review");
  await checkAndShoot(admin, "13-admin-console");
  await admin.getByRole("button", { name: `Suspend ${name}` }).click();
  await expect(admin.getByRole("button", { name: `Reactivate ${name}` })).toBeVisible();
  await admin.getByRole("button", { name: `Audit of ${name}` }).click();
  await expect(admin.getByRole("rowheader", { name: "tenant.suspended" })).toBeVisible();

  // The owner's next request is refused: the session ends and the log-in page says why.
  await owner.getByRole("link", { name: "Prices" }).click();
  await expect(owner).toHaveURL(/\/login/);
  await expect(owner.getByText(/this tenant is suspended/).first()).toBeVisible();
  await checkAndShoot(owner, "14-suspended-owner-signed-out");
});

test("inventory: a longer lead time raises the reorder quantities", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/inventory");
  const quantities = async () => {
    await expect(page.locator(".loading")).toHaveCount(0);
    return page.getByTestId("reorder-quantity").allTextContents();
  };
  const before = await quantities();
  await page.getByLabel("Default lead time (days)").fill("60");
  await expect(page.getByRole("heading", { name: /Reorder now/ })).toBeVisible();
  await expect.poll(async () => (await quantities()).join(",")).not.toBe(before.join(","));
  const after = (await quantities()).map((text) => Number(text.replace(/,/g, "")));
  expect(after.reduce((a, b) => a + b, 0)).toBeGreaterThan(before.map((text) => Number(text.replace(/,/g, ""))).reduce((a, b) => a + b, 0));
});

test("inventory: edit a product's lead time and supplier, and see its reorder quantity change", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/inventory");
  await expect(page.getByRole("heading", { name: /Reorder now/ })).toBeVisible();
  const row = page.locator("tbody tr").first();
  const product = ((await row.getByRole("rowheader").textContent()) ?? "").replace("#", "").trim();
  const rowOf = () => page.getByRole("row", { name: new RegExp(`^#${product} `) });
  const quantity = async () => Number(((await rowOf().getByTestId("reorder-quantity").textContent()) ?? "").replace(/,/g, ""));
  const before = await quantity();
  await expect(rowOf().getByRole("cell", { name: "14 d, default" })).toBeVisible();
  await rowOf().getByRole("button", { name: `Supply of product ${product}` }).click();
  const editor = page.getByRole("region", { name: `Supply of product #${product}` });
  await editor.getByLabel("Lead time of this product (days)").fill("400");
  await editor.getByRole("button", { name: "Save the supply terms" }).click();
  await expect(editor.getByText("from 1 to 365")).toBeVisible(); // checked before the round trip
  await editor.getByLabel("Lead time of this product (days)").fill("42");
  await editor.getByLabel("Supplier").fill("Atelier Lumière, Lyon");
  try {
    await timed("inventory_supply_saved_ms", async () => {
      await editor.getByRole("button", { name: "Save the supply terms" }).click();
      await expect(rowOf().getByRole("cell", { name: "42 d, own" })).toBeVisible();
    });
    await expect(rowOf().getByRole("cell", { name: "Atelier Lumière, Lyon" })).toBeVisible();
    expect(await quantity()).toBeGreaterThan(before);
    await checkAndShoot(page, "06b-inventory-supply");
  } finally {
    // The demo tenant is shared by every spec: its product goes back to the default lead time.
    await editor.getByLabel("Lead time of this product (days)").fill("");
    await editor.getByLabel("Supplier").fill("");
    await editor.getByRole("button", { name: "Save the supply terms" }).click();
    await expect(rowOf().getByRole("cell", { name: "14 d, default" })).toBeVisible();
  }
  expect(await quantity()).toBe(before);
});

test("recommendations: preview for a product and the storefront key", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/recommendations");
  await expect(page.getByRole("heading", { name: "Trending now" })).toBeVisible();
  const trending = page.locator("section", { has: page.getByRole("heading", { name: "Trending now" }) });
  const first = (await trending.locator("tbody th").first().textContent())?.replace("#", "").replace(" (pinned)", "").trim() ?? "";
  await page.getByLabel("Product, customer or basket ids").fill(first);
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByRole("heading", { name: "What the storefront would show" })).toBeVisible();
  await page.getByRole("button", { name: /Create a key|Rotate the key/ }).click();
  await expect(page.getByLabel(/Copy it now/)).toHaveValue(/^lbpk_/);
  await checkAndShoot(page, "15-recommendations");
});

test("campaigns: the one-off campaigns and the flows", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/campaigns");
  await expect(page.getByRole("heading", { name: "One-off campaigns" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "abandoned cart" })).toBeVisible();
  // A flow's results (GET /campaigns/flows/{flow}/results) read every order since its first send: minutes on
  // the embedded AWS under load, so this run does not open them.
  await expect(page.locator(".loading")).toHaveCount(0, { timeout: 60_000 });
  await checkAndShoot(page, "16-campaigns");
});

test("campaigns: a flow's template edited with its live preview, saved, and put back", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/campaigns");
  const row = page.getByRole("row", { name: /^welcome / });
  await expect(row.getByRole("cell", { name: "default", exact: true })).toBeVisible();
  await row.getByRole("button", { name: "Template of the welcome flow" }).click();
  const editor = page.getByRole("form", { name: "Template of the welcome flow" });
  await editor.getByLabel("Subject").fill("Bienvenue chez {{ store.store_name }}, {{ customer.first_name }}");
  await expect(editor.getByTestId("preview-subject")).toHaveText(/^Bienvenue chez .*, Camille$/);
  // The e-mail in its own frame, its inline styles applied (the app's policy does not reach it)
  const email = editor.frameLocator('iframe[title="E-mail preview"]');
  await expect(email.locator("body")).toHaveCSS("background-color", "rgb(247, 245, 242)");
  await expect(email.getByText("Discover the house and its collections.")).toBeVisible();
  await checkAndShoot(page, "17-flow-template");
  // A full-page shot leaves a sandboxed (out-of-process) frame blank: the e-mail gets a shot of its own.
  await page.locator('iframe[title="E-mail preview"]').screenshot({ path: "test-results/screens/17b-flow-template-email.png" });
  try {
    await editor.getByRole("button", { name: "Save the welcome flow" }).click();
    await expect(row.getByRole("cell", { name: "changed (subject)" })).toBeVisible();
  } finally {
    // The demo tenant is shared by every spec: the flow goes back to LuxeBrain's template.
    const reopened = page.getByRole("form", { name: "Template of the welcome flow" });
    await reopened.getByRole("button", { name: "Back to LuxeBrain's template" }).click();
    await reopened.getByRole("button", { name: "Save the welcome flow" }).click();
    await expect(row.getByRole("cell", { name: "default", exact: true })).toBeVisible();
  }
});
