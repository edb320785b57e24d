// Builds the dashboard into ../static: index.html and assets/ with content-hashed names,
// which the API serves (api/dashboard/serving.py). Run by `make install` (npm run build).
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, "..", "static");
const assets = path.join(out, "assets");

await rm(out, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const result = await build({
  entryPoints: { app: path.join(here, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outdir: assets,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const script = outputs.find((name) => name.endsWith(".js"));
const style = outputs.find((name) => name.endsWith(".css"));
if (!script || !style) throw new Error(`unexpected build outputs: ${outputs.join(", ")}`);

const template = await readFile(path.join(here, "src", "index.html"), "utf8");
const page = template
  .replace("%STYLE%", `/assets/${style}`)
  .replace("%SCRIPT%", `/assets/${script}`);
await writeFile(path.join(out, "index.html"), page);
console.log(`dashboard built: ${path.relative(process.cwd(), out)} (${script}, ${style})`);
