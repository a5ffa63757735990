import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";

import { READY_FILE } from "./local";

export default async function globalTeardown(): Promise<void> {
  const pidFile = resolve(dirname(READY_FILE), "local.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8"));
  rmSync(pidFile, { force: true });
  try {
    process.kill(-pid, "SIGINT"); // the process group of the `luxebrain local` this setup started
  } catch {
    // already gone
  }
}
