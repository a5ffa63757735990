// Starts `luxebrain local` (embedded AWS, API, the built dashboard) with a small demo store, and waits until
// it has written who can log in. Ports are free ones above the defaults, so a developer's own `make local`
// can keep running. E2E_STACK_FILE instead points at a stack that is already running.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";

import { READY_FILE } from "./local";

const REPO = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const STARTUP_TIMEOUT_MS = 12 * 60_000;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  mkdirSync(dirname(READY_FILE), { recursive: true });
  if (process.env.E2E_STACK_FILE) {
    writeFileSync(READY_FILE, (await import("node:fs")).readFileSync(process.env.E2E_STACK_FILE));
    return;
  }
  rmSync(READY_FILE, { force: true });
  rmSync(resolve(dirname(READY_FILE), "e2e-timings.json"), { force: true });
  const [aws, api, dashboard] = [await freePort(), await freePort(), await freePort()];
  const log = openSync(resolve(dirname(READY_FILE), "local.log"), "w");
  const python = resolve(REPO, ".venv/bin/luxebrain");
  const child = spawn(
    python,
    [
      "local",
      "--aws-port", String(aws),
      "--api-port", String(api),
      "--dashboard-port", String(dashboard),
      "--customers", process.env.E2E_CUSTOMERS ?? "300",
      "--products", process.env.E2E_PRODUCTS ?? "60",
      "--ready-file", READY_FILE,
    ],
    { cwd: REPO, stdio: ["ignore", log, log], detached: true },
  );
  writeFileSync(resolve(dirname(READY_FILE), "local.pid"), String(child.pid));
  const started = Date.now();
  while (!existsSync(READY_FILE)) {
    if (child.exitCode !== null) throw new Error(`luxebrain local exited with ${child.exitCode}: see test-results/local.log`);
    if (Date.now() - started > STARTUP_TIMEOUT_MS) throw new Error("luxebrain local did not start in time");
    await new Promise((wait) => setTimeout(wait, 1000));
  }
  console.log(`luxebrain local ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
