import { readFileSync } from "node:fs";

export const READY_FILE = new URL("../test-results/local-ready.json", import.meta.url).pathname;

export interface LocalStack {
  dashboard: string;
  api: string;
  owner: { email: string; password: string };
  read_only: { email: string; password: string };
  admin: { email: string; password: string };
  tenant_id: string;
}

export function stack(): LocalStack {
  return JSON.parse(readFileSync(READY_FILE, "utf8")) as LocalStack;
}
