// The campaign builder against `luxebrain local`: segment -> channel -> template (live preview rendered by the
// API's sandbox) -> A/B arms and hold-out, scheduled, then its results read honestly before anything is sent.
import { expect, test } from "@playwright/test";

import { checkAndShoot, logIn } from "./helpers";
import { stack } from "./local";

test("campaigns: build and schedule an A/B campaign with a live preview, then read its results", async ({ page }) => {
  const name = `Winter edit ${Date.now() % 100000}`;
  await logIn(page, stack().owner, "/login?next=/app/campaigns");
  await page.getByRole("button", { name: "New campaign" }).click();
  await page.getByLabel("Segment", { exact: true }).selectOption("all_customers");
  await page.getByLabel("E-mail", { exact: true }).check();
  // The preview is the API's rendering with the tenant's branding
  await page.getByLabel("Subject", { exact: true }).fill("{{ customer.first_name }}, the winter edit of {{ store.store_name }}");
  await expect(page.getByTestId("preview-subject")).toHaveText(/^Camille, the winter edit of /);
  // The e-mail's own inline styles apply in its frame (a policy of its own), and its text is there
  const email = page.frameLocator('iframe[title="E-mail preview"]');
  await expect(email.locator("body")).toHaveCSS("background-color", "rgb(247, 245, 242)");
  await expect(email.getByText("Camille, a selection for you.")).toBeVisible();
  // A full-page shot leaves a sandboxed (out-of-process) frame blank: the e-mail gets a shot of its own.
  await page.locator('iframe[title="E-mail preview"]').screenshot({ path: "test-results/screens/21b-campaign-email-preview.png" });
  // A template that does not compile is refused by the API, said beside the preview
  await page.getByLabel("Subject", { exact: true }).fill("{{ customer.first_name");
  await expect(page.locator(".preview").getByRole("alert")).toBeVisible();
  await page.getByLabel("Subject", { exact: true }).fill("{{ customer.first_name }}, the winter edit");
  await expect(page.getByTestId("preview-subject")).toHaveText("Camille, the winter edit");

  await page.getByLabel(/^A\/B test/).check();
  await page.getByRole("button", { name: "Schedule the campaign" }).click();
  await expect(page.getByText("variant B needs its subject")).toBeVisible();
  await expect(page.getByText("name the campaign")).toBeVisible();
  await page.getByLabel("Variant B subject").fill("A gift from us, {{ customer.first_name }}");
  await page.getByLabel(/^Hold-out/).fill("10");
  await page.getByLabel("Campaign name").fill(name);
  await checkAndShoot(page, "21-campaign-builder");
  await page.getByRole("button", { name: "Schedule the campaign" }).click();
  await expect(page.getByText(`Campaign “${name}” scheduled as an A/B test.`)).toBeVisible();

  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row.getByRole("cell").nth(3)).toHaveText("yes");
  // Its results, opened at once: nothing sent yet, so no decision either
  await expect(page.getByRole("heading", { name: /^Results of campaign / })).toBeVisible();
  await expect(page.getByText("Nothing sent yet: results appear once recipients are assigned.")).toBeVisible({ timeout: 60_000 });
  await checkAndShoot(page, "22-campaign-results-before-sending");
});
