// `npm run bench`: the speed benchmark, outside the end-to-end run (`npx playwright test` reads
// playwright.config.ts, whose testDir is e2e/). The same `luxebrain local` stack with the demo store.
import { defineConfig } from "@playwright/test";

import e2e from "./playwright.config";

export default defineConfig({
  ...e2e,
  testDir: "bench",
  testMatch: "*.bench.ts",
  outputDir: "test-results/bench-playwright",
  timeout: 15 * 60_000,
  reporter: [["list"]],
});
