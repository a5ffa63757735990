// The build's size report: JavaScript (gzipped) a browser loads for the first paint of each entry screen,
// following the chunks each needs (static imports, and the start-up's own dynamic imports of the app shell).
// Goal: the initial JavaScript of any screen at most 250 KB gzipped. Writes dist/size-report.json.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const GOAL_KB = 250;
const dist = new URL("../dist/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));
const gz = new Map();
const gzipped = (file) => {
  if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length);
  return gz.get(file);
};

function closure(keys) {
  const seen = new Set();
  const walk = (key) => {
    const chunk = manifest[key];
    if (!chunk || seen.has(key)) return;
    seen.add(key);
    for (const next of chunk.imports ?? []) walk(next);
  };
  keys.forEach(walk);
  return [...seen];
}

const entryKey = Object.keys(manifest).find((key) => manifest[key].isEntry);
const entry = manifest[entryKey];
// main.tsx always loads these after reading /config.json: part of every first paint.
const startup = [entryKey, ...(entry.dynamicImports ?? [])];
const screen = (name) => Object.keys(manifest).find((key) => key.endsWith(`/${name}.tsx`) || key.endsWith(`${name}.tsx`));
const screens = ["Landing", "Login", "Overview", "Inventory", "Customers", "Prices"];
const rows = [];
for (const name of screens) {
  const key = screen(name);
  if (!key) continue;
  const files = closure([...startup, key]).map((k) => manifest[k].file);
  const bytes = files.reduce((sum, file) => sum + gzipped(file), 0);
  rows.push({ screen: name, chunks: files.length, gzip_kb: +(bytes / 1024).toFixed(1) });
}
const all = Object.values(manifest).filter((chunk) => chunk.file.endsWith(".js"));
const totalKb = +(all.reduce((sum, chunk) => sum + gzipped(chunk.file), 0) / 1024).toFixed(1);
const worst = Math.max(...rows.map((row) => row.gzip_kb));
const report = { goal_kb: GOAL_KB, worst_initial_kb: worst, all_js_gzip_kb: totalKb, screens: rows };
writeFileSync(new URL("size-report.json", dist), JSON.stringify(report, null, 2) + "\n");
console.log("Initial JavaScript per screen (gzipped):");
for (const row of rows) console.log(`  ${row.screen.padEnd(10)} ${String(row.gzip_kb).padStart(6)} KB in ${row.chunks} chunks`);
console.log(`  all JavaScript of the app: ${totalKb} KB; goal for a first paint: ${GOAL_KB} KB`);
if (worst > GOAL_KB) {
  console.error(`initial JavaScript ${worst} KB is over the ${GOAL_KB} KB goal`);
  process.exit(1);
}
