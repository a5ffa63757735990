// What every end-to-end spec does: log in, check a screen with axe-core and keep its screenshot, time a step.
import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page } from "@playwright/test";

import { stack } from "./local";

const SCREENS_DIR = "test-results/screens";
const TIMINGS_FILE = "test-results/e2e-timings.json";

export async function checkAndShoot(page: Page, name: string): Promise<void> {
  // Not inside iframes: the campaign preview's is sandboxed without scripts, where axe's per-frame run waits
  // forever (legacy mode runs in the page only), and it holds the merchant's e-mail, not the dashboard.
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .options({ iframes: false })
    .setLegacyMode()
    .analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((node) => node.target.join(" ")).join(", ")})`),
    `axe on ${name}`,
  ).toEqual([]);
  await page.screenshot({ path: `${SCREENS_DIR}/${name}.png`, fullPage: true });
}

export async function logIn(page: Page, who: { email: string; password: string }, path = "/login"): Promise<void> {
  await page.goto(stack().dashboard + path);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** The owner's bearer header, for a spec's own calls to the API. */
export async function ownerHeaders(request: APIRequestContext): Promise<Record<string, string>> {
  const login = await request.post(`${stack().api}/auth/login`, { data: stack().owner });
  expect(login.status()).toBe(200);
  return { Authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` };
}

/** Milliseconds of a user-visible step, merged into test-results/e2e-timings.json (a failed test restarts
 * Playwright's worker, so nothing is kept in memory across tests). */
export async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  const { existsSync, readFileSync, writeFileSync } = await import("node:fs");
  const timings = existsSync(TIMINGS_FILE) ? (JSON.parse(readFileSync(TIMINGS_FILE, "utf8")) as Record<string, number>) : {};
  timings[name] = Date.now() - started;
  writeFileSync(TIMINGS_FILE, JSON.stringify(timings, null, 2) + "\n");
  return result;
}

