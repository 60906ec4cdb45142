import { cp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { PACKAGED_SWAGGER_UI_DIR, SWAGGER_UI_FILES } from "../shared/adapters/http/docs-assets.js";

/**
 * `npm run package`: the deployable artifact in package/, what azd zips and
 * uploads (azure.yaml `dist: package`). The functions entry point bundled with
 * every dependency it uses, host.json, a package.json with no dependencies
 * to install, and the docs page's Swagger UI files: small, and nothing of the
 * development tool chain.
 */
const out = "package";
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await build({
  entryPoints: ["functions/index.ts"],
  outdir: join(out, "dist", "functions"),
  bundle: true,
  splitting: true, // the clients load on first use; their code too
  format: "esm",
  platform: "node",
  target: "node22",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  // The Functions worker provides the first; the second is the local host's embedded store.
  external: ["@azure/functions-core", "@vercel/cosmosdb-server"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});

const pkg = JSON.parse(await readFile("package.json", "utf8")) as { name: string; version: string };
await writeFile(
  join(out, "package.json"),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: "module", main: "dist/functions/index.js" }, null, 2)}\n`,
);
await cp("host.json", join(out, "host.json"));

// GET /api/docs serves Swagger UI's files, which no bundle contains: a copy of the ones it
// serves, with the package's licence and notice (Apache-2.0), where the handler looks for
// them (shared/adapters/http/docs-assets.ts). Not under node_modules: azd leaves that out.
const swaggerUi = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
for (const file of [...SWAGGER_UI_FILES, "LICENSE", "NOTICE"]) {
  await cp(join(swaggerUi, file), join(out, PACKAGED_SWAGGER_UI_DIR, file));
}

async function size(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return path.endsWith(".map") ? 0 : s.size;
  const { readdir } = await import("node:fs/promises");
  let total = 0;
  for (const name of await readdir(path)) total += await size(join(path, name));
  return total;
}
console.log(`package/ ready: ${((await size(out)) / 1024 / 1024).toFixed(2)} MiB of code (source maps aside)`);
