import { Failure } from "../../kernel/failure.js";
import { once } from "../../kernel/once.js";
import { loadSwaggerUi, staticAsset, type StaticAsset } from "./docs-assets.js";
import { endpoint, type HttpContext, type HttpHandler } from "./endpoint.js";

/**
 * GET /api/docs: an interactive reference of GET /api/openapi.json (Swagger UI), where a
 * developer pastes a bearer token and tries calls. Everything it loads comes from this API's
 * own origin (the page, Swagger UI's files, its configuration, the document), and its
 * Content-Security-Policy lets it fetch nothing from anywhere else, so it works offline and
 * reports to nobody. Anonymous, like the document: rate limited per client address.
 */

/** The configuration, a file of its own: the page's CSP refuses inline scripts. */
const CONFIG_SCRIPT = "docs.js";

const configScript = (base: string) => `"use strict";
// The API's own document; its servers entry ("${base}") sends every "Try it out" call to this origin.
window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(`${base}/openapi.json`)},
  dom_id: "#swagger-ui",
  // The API reference alone: no top bar, whose box would load a document from any URL.
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  // Never ?url=/?configUrl= from the address bar: the page shows this API's document only.
  queryConfigEnabled: false,
  // Off: the default posts the document to validator.swagger.io.
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  // The token stays in the page's memory, never in localStorage.
  persistAuthorization: false,
});
`;

/**
 * What the page may do: its own scripts and styles, images from itself and data: URLs
 * (Swagger UI's icons are data: SVGs in its CSS), and fetches to this origin only. No inline
 * script, no eval, no framing, no forms, no <base>.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const page = (base: string, assets: Map<string, StaticAsset>) => {
  const href = (name: string) => `${base}/docs/${name}?v=${assets.get(name)!.hash}`;
  // The icon is an empty data: URL so that the browser asks for no /favicon.ico.
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Help desk API reference</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${href("swagger-ui.css")}" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${href("swagger-ui-bundle.js")}"></script>
    <script src="${href(CONFIG_SCRIPT)}"></script>
  </body>
</html>
`;
};

/** Headers of every docs answer: the type is the one given, never sniffed; no Referer leaves the page. */
const COMMON = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };

/**
 * The page and its files. `base` is where the API is served (host.json's routePrefix):
 * the page names its files by absolute path, so /api/docs/ with a slash loads them too.
 */
export function docsHandlers(http: HttpContext, base = "/api"): { docsPage: HttpHandler; docsAsset: HttpHandler } {
  // Read on the first request for the page, not at start-up: a cold start that serves the API pays nothing for it.
  // A failed read is tried again by the next request (once).
  const assets = once(() => loadSwaggerUi().then((files) => files.set(CONFIG_SCRIPT, staticAsset(CONFIG_SCRIPT, configScript(base)))));
  const docsPage = endpoint(http, { auth: false }, async () => ({
    status: 200,
    text: page(base, await assets()),
    // The page is small and names the current files: always revalidated, so a deploy shows at once.
    headers: { ...COMMON, "content-type": "text/html; charset=utf-8", "content-security-policy": DOCS_CSP, "cache-control": "no-cache" },
  }));
  const docsAsset = endpoint(http, { auth: false }, async (call) => {
    // A name from the table, never a path: nothing else of the disk can be asked for.
    const asset = (await assets()).get(call.param("file"));
    if (!asset) throw new Failure("not_found", "No such file.");
    // The URL the page links (the body's hash) never changes content: cached for good. Any other is revalidated.
    const current = call.url.searchParams.get("v") === asset.hash;
    return {
      status: 200,
      text: asset.body,
      headers: {
        ...COMMON,
        "content-type": asset.contentType,
        "cache-control": current ? "public, max-age=31536000, immutable" : "no-cache",
      },
    };
  });
  return { docsPage, docsAsset };
}
