// Recommendation rules against `luxebrain local`: pin a product and block another on the screen, then every
// answer shown there follows them (trending, a product's preview); a read-only member only reads them.
import { expect, test } from "@playwright/test";

import { checkAndShoot, logIn } from "./helpers";
import { stack } from "./local";

test("recommendations: a pinned product comes first, a blocked one disappears", async ({ page }) => {
  await logIn(page, stack().owner, "/login?next=/app/recommendations");
  const trending = page.locator("section", { has: page.getByRole("heading", { name: "Trending now" }) });
  const ids = async () => (await trending.locator("tbody th").allTextContents()).map((text) => text.replace("#", "").replace(" (pinned)", "").trim());
  await expect(trending.locator("tbody th").first()).toBeVisible();
  const before = await ids();
  const [blocked, pinned] = [before[0]!, before[before.length - 1]!];

  await page.getByLabel("Boosted").fill("oops");
  await page.getByRole("button", { name: "Save the rules" }).click();
  await expect(page.getByText("write id:amount, e.g. 205:0.3")).toBeVisible();
  await page.getByLabel("Boosted").fill("");
  await page.getByLabel("Pinned first (in this order)").fill("no-such-product");
  await page.getByRole("button", { name: "Save the rules" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "not in the store's catalogue: no-such-product" })).toBeVisible();

  await page.getByLabel("Pinned first (in this order)").fill(pinned);
  await page.getByLabel("Never shown").fill(blocked);
  await page.getByRole("button", { name: "Save the rules" }).click();
  await expect(page.getByText("Rules saved: every recommendation follows them now.")).toBeVisible();
  await expect(trending.locator("tbody th").first()).toHaveText(`#${pinned} (pinned)`);
  expect(await ids()).not.toContain(blocked);

  const asked = before.find((id) => id !== pinned && id !== blocked)!;
  await page.getByLabel("Product, customer or basket ids").fill(asked);
  await page.getByRole("button", { name: "Preview" }).click();
  const answer = page.locator("section", { has: page.getByRole("heading", { name: "What the storefront would show" }) });
  await expect(answer.locator("tbody th").first()).toHaveText(`#${pinned} (pinned)`);
  await expect(answer.getByText(`#${blocked}`, { exact: true })).toHaveCount(0);
  await checkAndShoot(page, "23-recommendation-rules");

  // A read-only member reads the rules, with nothing to save
  const viewer = await (await page.context().browser()!.newContext()).newPage();
  await logIn(viewer, stack().read_only, "/login?next=/app/recommendations");
  await expect(viewer.getByText(`Pinned first: ${pinned}`)).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Save the rules" })).toHaveCount(0);

  // Cleared again for the other tests
  await page.getByLabel("Pinned first (in this order)").fill("");
  await page.getByLabel("Never shown").fill("");
  await page.getByRole("button", { name: "Save the rules" }).click();
  await expect(trending.locator("tbody th").first()).toHaveText(`#${blocked}`);
});
