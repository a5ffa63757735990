// The campaign builder against `luxebrain local`: segment -> channel -> template (live preview rendered by the
// API's sandbox) -> A/B arms and hold-out, scheduled, then its results read honestly before anything is sent.
import { expect, test } from "@playwright/test";

import { checkAndShoot, logIn, timed } from "./helpers";
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

test("campaigns: an A/B campaign to an RFM segment sent now through the embedded SES, read per arm", async ({ page, request }) => {
  test.setTimeout(6 * 60_000); // the local schedule picks the campaign up within seconds; sends are paced as SES's quota
  const name = `Private preview ${Date.now() % 100000}`;
  const login = await request.post(`${stack().api}/auth/login`, { data: stack().owner });
  const headers = { Authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` };
  const segments = ((await (await request.get(`${stack().api}/segments`, { headers })).json()) as { segments: { segment: string; customers: number }[] })
    .segments.filter((entry) => entry.customers > 0)
    .sort((a, b) => a.customers - b.customers);
  // An RFM segment of the customer model big enough for a hold-out of 20 %: a few dozen sends at SES's pace
  const segment = segments.find((entry) => entry.customers >= 40) ?? segments[segments.length - 1]!;

  await logIn(page, stack().owner, "/login?next=/app/campaigns");
  await page.getByRole("button", { name: "New campaign" }).click();
  await page.getByLabel("Segment", { exact: true }).selectOption(segment.segment);
  await page.getByLabel("E-mail", { exact: true }).check();
  await page.getByLabel("Subject", { exact: true }).fill("{{ customer.first_name }}, a private preview");
  await expect(page.getByTestId("preview-subject")).toHaveText(/^Camille, a private preview$/);
  await page.getByLabel(/^A\/B test/).check();
  await page.getByLabel("Variant B subject").fill("The new season, first for you");
  await page.getByLabel(/^Hold-out/).fill("20");
  await page.getByLabel("Campaign name").fill(name);
  // Now, in the browser's own time zone (the field is a local date and time)
  const now = await page.evaluate(() => {
    const date = new Date();
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  });
  await page.getByLabel("Send at").fill(now);
  await page.getByRole("button", { name: "Schedule the campaign" }).click();
  await expect(page.getByText(`Campaign “${name}” scheduled as an A/B test.`)).toBeVisible();

  const results = page.locator("section", { has: page.getByRole("heading", { name: /^Results of campaign / }) });
  const arms = results.getByRole("table", { name: "Per arm" });
  const cell = async (arm: string, column: number): Promise<number> => {
    const row = arms.getByRole("row", { name: new RegExp(`^${arm} `) });
    if ((await row.count()) === 0) return 0; // no recipient in that arm yet
    return Number(((await row.getByRole("cell").nth(column).textContent()) ?? "0").replace(/,/g, ""));
  };
  const sent = (arm: string) => cell(arm, 1);
  await timed("campaign_sent_and_read_ms", async () => {
    // The merchant refreshes until both variants have gone out
    await expect(async () => {
      await results.getByRole("button", { name: "Refresh the results" }).click();
      await expect(arms).toBeVisible({ timeout: 5_000 });
      expect(await sent("a")).toBeGreaterThan(0);
      expect(await sent("b")).toBeGreaterThan(0);
    }).toPass({ timeout: 5 * 60_000, intervals: [3_000] });
  });
  // The hold-out is assigned, never sent; nobody could have bought yet, so no decision, with what it waits for
  // The list of campaigns, refreshed with the results, says it went out
  await expect(page.getByRole("row", { name: new RegExp(name) }).getByRole("cell").nth(2)).toHaveText(/^(running|sent)$/);
  expect(await cell("holdout", 0)).toBeGreaterThan(0);
  expect(await sent("holdout")).toBe(0);
  await expect(results.getByRole("heading", { name: "Lift over the hold-out" })).toBeVisible();
  await expect(results.getByText("● No decision yet").first()).toBeVisible();
  await expect(results.getByRole("heading", { name: "A/B test between the variants" })).toBeVisible();
  await checkAndShoot(page, "29-campaign-results-per-arm");
});
