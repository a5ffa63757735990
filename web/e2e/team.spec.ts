// The team screen against `luxebrain local`: an owner invites colleagues, changes a role and removes a
// member; the invited colleague's first-password page shows the API's refusal on the form.
import { expect, test } from "@playwright/test";

import { checkAndShoot, logIn } from "./helpers";
import { stack } from "./local";

test("team: invite a colleague, change their role, remove a member", async ({ page }) => {
  const stamp = Date.now();
  const kept = `colleague-${stamp}@shop.example`;
  const leaving = `leaving-${stamp}@shop.example`;
  await logIn(page, stack().owner, "/login?next=/app/team");
  await expect(page.getByRole("heading", { name: "Invite a colleague" })).toBeVisible();
  // The owner's own row offers nothing to change
  await expect(page.getByLabel(`Role of ${stack().owner.email}`)).toHaveCount(0);

  await page.getByLabel("Colleague's e-mail").fill("not-an-email");
  await page.getByRole("button", { name: "Send the invitation" }).click();
  await expect(page.getByText("not an e-mail address")).toBeVisible();

  for (const [email, role] of [
    [kept, "read-only"],
    [leaving, "staff"],
  ] as const) {
    await page.getByLabel("Colleague's e-mail").fill(email);
    await page.getByLabel("Role", { exact: true }).selectOption(role);
    await page.getByRole("button", { name: "Send the invitation" }).click();
    await expect(page.getByText(`Invitation sent to ${email} as ${role}`)).toBeVisible();
    await expect(page.getByLabel(`Role of ${email}`)).toHaveValue(role);
  }
  // The same e-mail again: the API's 409 is shown on the form
  await page.getByLabel("Colleague's e-mail").fill(kept);
  await page.getByRole("button", { name: "Send the invitation" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "already has a LuxeBrain account" })).toBeVisible();

  await page.getByLabel(`Role of ${kept}`).selectOption("staff");
  await expect(page.getByText(`${kept} is now staff.`)).toBeVisible();
  await page.reload();
  await expect(page.getByLabel(`Role of ${kept}`)).toHaveValue("staff");
  await checkAndShoot(page, "17-team-manage");

  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: `Remove ${leaving}` }).click();
  await expect(page.getByText(`${leaving} was removed`)).toBeVisible();
  await expect(page.getByRole("rowheader", { name: leaving })).toHaveCount(0);
  await expect(page.getByRole("rowheader", { name: kept })).toBeVisible();

  // The invited colleague's page: a wrong temporary password is refused on the form
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await page.goto(`${stack().dashboard}/welcome?email=${encodeURIComponent(kept)}`);
  await expect(page.getByRole("heading", { name: "Join your team" })).toBeVisible();
  await page.getByLabel("Temporary password").fill("Not-The-One-1");
  await page.getByLabel("Your new password").fill("Own-Pass-Word-42");
  await page.getByRole("button", { name: "Set my password" }).click();
  await expect(page.getByRole("alert")).toContainText("wrong");
  await checkAndShoot(page, "18-welcome-first-password");
});
