import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The Swagger UI files GET /api/docs loads, read from the swagger-ui-dist package's own
 * files, never a CDN. Only these two are served: the page needs no other (no standalone
 * preset, whose top bar would let a visitor load a document from anywhere).
 */
export const SWAGGER_UI_FILES = ["swagger-ui-bundle.js", "swagger-ui.css"] as const;

/**
 * The folder `npm run package` copies them to, at the root of package/: azd deploys no
 * node_modules (its default exclusion for Node.js), so the package's copy cannot live there.
 */
export const PACKAGED_SWAGGER_UI_DIR = "swagger-ui-dist";

/**
 * Where the files are, looking up from this module's own file: `<dir>/swagger-ui-dist` (the
 * deployed package's copy) or `<dir>/node_modules/swagger-ui-dist` (npm's, in the repository:
 * the sources, and the dist/ bundle `npm start` runs), the nearest first. Its own file, not
 * the entry point's: esbuild may put this module in a chunk of its own, in the bundle's folder.
 */
function findSwaggerUi(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    for (const candidate of [join(dir, PACKAGED_SWAGGER_UI_DIR), join(dir, "node_modules", "swagger-ui-dist")]) {
      if (SWAGGER_UI_FILES.every((file) => existsSync(join(candidate, file)))) return candidate;
    }
    if (dirname(dir) === dir) throw new Error(`Swagger UI's files (${SWAGGER_UI_FILES.join(", ")}) are nowhere above ${from}.`);
  }
}

export interface StaticAsset {
  body: string;
  contentType: string;
  /** Of the body: the page links `?v=<hash>`, so a changed file is a new URL and the old one may be cached for good. */
  hash: string;
}

const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

export function staticAsset(name: string, body: string): StaticAsset {
  const contentType = CONTENT_TYPES[name.split(".").pop() ?? ""];
  if (!contentType) throw new Error(`No content type for ${name}`);
  return { body, contentType, hash: createHash("sha256").update(body).digest("base64url").slice(0, 16) };
}

/** Swagger UI's files, by name, read once (about 2 MB, kept in memory: they are asked for on every cold page load). */
export async function loadSwaggerUi(dir = findSwaggerUi()): Promise<Map<string, StaticAsset>> {
  const entries = await Promise.all(
    SWAGGER_UI_FILES.map(async (name) => [name, staticAsset(name, await readFile(join(dir, name), "utf8"))] as const),
  );
  return new Map(entries);
}
