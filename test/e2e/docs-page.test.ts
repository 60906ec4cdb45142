import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkedFetch, DOCUMENT } from "../support/contract.js";
import { EXPECTED_TYPE, extensionOf, referencesOf } from "../support/docs-page.js";
import { startTestHost, type TestHost } from "../support/local-host.js";

/**
 * GET /api/docs: the interactive reference, served by the API itself from its own origin.
 * The page is checked against the document (it declares text/html); its files are not
 * operations of the API (hidden in the route table), so they are fetched as they are.
 */
const APP = "https://helpdesk.example.com";
let t: TestHost;
let pageUrl: string;
let html: string;
let page: Response;
beforeAll(async () => {
  t = await startTestHost({ CORS_ALLOWED_ORIGINS: APP });
  pageUrl = `${t.url}/docs`;
  page = await checkedFetch(pageUrl, { headers: { "x-request-id": "docs-1" } });
  html = await page.text();
});
afterAll(() => t.close());

describe("GET /api/docs", () => {
  it("answers the page as HTML, with a strict Content-Security-Policy, revalidated on every load", () => {
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.headers.get("x-request-id")).toBe("docs-1");
    expect(page.headers.get("ratelimit-policy")).toMatch(/^"anonymous";/);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<div id="swagger-ui"></div>');
    const csp = Object.fromEntries(
      page.headers
        .get("content-security-policy")!
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...sources]) => [name, sources]),
    );
    expect(csp["default-src"]).toEqual(["'none'"]);
    // Nothing inline or evaluated may run, and nothing may be fetched but from this origin.
    expect(csp["script-src"]).toEqual(["'self'"]);
    expect(csp["style-src"]).toEqual(["'self'"]);
    expect(csp["connect-src"]).toEqual(["'self'"]);
    expect(csp["img-src"]).toEqual(["'self'", "data:"]);
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    expect(csp["base-uri"]).toEqual(["'none'"]);
  });

  it("names no file of another origin: each is this origin's, or the empty data: icon", () => {
    const refs = referencesOf(html, pageUrl);
    expect(refs.length).toBe(4);
    for (const ref of refs) {
      if (ref.protocol === "data:") expect(ref.href).toBe("data:,");
      else expect(ref.origin, ref.href).toBe(new URL(pageUrl).origin);
    }
  });

  it("serves every file it names, with its content type, cached for good under the URL it names", async () => {
    const files = referencesOf(html, pageUrl).filter((ref) => ref.protocol !== "data:");
    expect(files.map((f) => f.pathname).sort()).toEqual([
      "/api/docs/docs.js",
      "/api/docs/swagger-ui-bundle.js",
      "/api/docs/swagger-ui.css",
    ]);
    for (const file of files) {
      const res = await fetch(file, { headers: { origin: APP } });
      expect(res.status, file.href).toBe(200);
      expect(res.headers.get("content-type"), file.href).toBe(`${EXPECTED_TYPE[extensionOf(file)]}; charset=utf-8`);
      expect(res.headers.get("cache-control"), file.href).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      // The same treatment as every route: a request id, the anonymous bucket, CORS.
      expect(res.headers.get("x-request-id")).toBeTruthy();
      expect(res.headers.get("ratelimit")).toMatch(/^"anonymous";r=\d+/);
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect((await res.text()).length).toBeGreaterThan(500);
    }
  });

  it("revalidates a file asked for under another version than the current one: only the page's URL is pinned", async () => {
    const res = await fetch(`${t.url}/docs/swagger-ui.css?v=an-old-one`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-cache");
  });

  it("configures Swagger UI with this origin's document, and neither the validator nor a document from the address bar", async () => {
    const config = await (await fetch(`${t.url}/docs/docs.js`)).text();
    expect(config).toContain('url: "/api/openapi.json"');
    expect(config).toContain("validatorUrl: null");
    expect(config).toContain("queryConfigEnabled: false");
    expect(config).toContain("persistAuthorization: false");
    expect(config).not.toMatch(/https?:\/\//);
  });

  it("serves nothing else of the disk: other files of the package, other paths, traversal", async () => {
    for (const path of [
      "/docs/index.html",
      "/docs/swagger-initializer.js",
      "/docs/swagger-ui-standalone-preset.js",
      "/docs/package.json",
      "/docs/..%2Fpackage.json",
      "/docs/%2e%2e%2f%2e%2e%2fpackage.json",
      "/docs/swagger-ui.css/x",
    ]) {
      const res = await checkedFetch(`${t.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/^application\/problem\+json/);
    }
  });

  it("is in the OpenAPI document, as an anonymous text/html page; its files are not", () => {
    const docs = DOCUMENT.paths["/docs"]!.get!;
    expect(docs.operationId).toBe("docsPage");
    expect(Object.keys(docs.responses["200"]!.content!)).toEqual(["text/html"]);
    expect(Object.keys(DOCUMENT.paths).filter((p) => p.startsWith("/docs/"))).toEqual([]);
  });

  it("spends the client address's anonymous bucket, page and files alike", async () => {
    const limited = await startTestHost({ RATE_LIMIT_ANONYMOUS_POINTS: "3", RATE_LIMIT_WINDOW_SECONDS: "600" });
    try {
      const statuses = [];
      for (const path of ["/docs", "/docs/docs.js", "/docs/swagger-ui.css", "/docs/swagger-ui.css"]) {
        statuses.push((await fetch(`${limited.url}${path}`)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await limited.close();
    }
  });
});
