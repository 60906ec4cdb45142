import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCUMENT } from "../support/contract.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * The docs page in a real browser: it renders the operations, takes a bearer token, and a
 * "Try it out" call answers 200, with every request the page made going to the API's own
 * origin. Chromium is the system's (/usr/bin/chromium, Debian's package); where it is
 * absent (CI) the test is skipped. playwright-core drives it and downloads no browser.
 */
const CHROMIUM = "/usr/bin/chromium";
// Without the background-networking flags Chromium calls Google's services at start-up
// (component updates, sync...), which a closed network refuses, and which are not the page's.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let t: TestHost;
let profile: string;
let browser: BrowserContext;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  t = await startTestHost();
  // A fresh profile each run (launchPersistentContext's --user-data-dir): nothing cached from another.
  profile = await mkdtemp(join(tmpdir(), "helpdesk-chromium-"));
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await t?.close();
});

describe.skipIf(!existsSync(CHROMIUM))("the docs page in Chromium", () => {
  it("renders every operation, takes a bearer token, tries GET /api/tickets (200), and asks nothing of another origin", async () => {
    const karen = await t.token(PEOPLE.karen);
    expect((await t.call(karen, "POST", "/tickets", { body: { subject: "Mobile banking is down", description: "d" } })).status).toBe(201);
    const origin = new URL(t.url).origin;
    const requests: Request[] = [];
    browser.on("request", (r) => requests.push(r));
    const page = browser.pages()[0] ?? (await browser.newPage());
    // A refused CSP directive, a failed load or a script error is a console error: any fails the test.
    const errors: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    page.on("pageerror", (e) => void errors.push(String(e)));

    await page.goto(`${t.url}/docs`);
    const operations = page.locator(".opblock");
    await operations.first().waitFor();
    const documented = Object.values(DOCUMENT.paths).flatMap((ops) => Object.keys(ops)).length;
    expect(await operations.count()).toBe(documented);

    // Authorize: the bearer scheme's dialog.
    await page.locator(".auth-wrapper button.authorize").click();
    await page.locator("#auth-bearer-value").fill(karen);
    await page.locator(".modal-ux button.authorize").click();
    await page.locator(".modal-ux button.btn-done").click();

    // "Try it out" is on by default: open the operation and execute it.
    const list = page.locator("#operations-Tickets-listTickets");
    await list.locator(".opblock-summary").click();
    await list.locator("button.execute").click();
    const status = list.locator(".live-responses-table tbody .response-col_status");
    await expect.poll(() => status.innerText(), { timeout: 10_000 }).toBe("200");
    expect(await list.locator(".live-responses-table tbody .response-col_description").innerText()).toContain("Mobile banking is down");

    const call = requests.find((r) => new URL(r.url()).pathname === "/api/tickets");
    expect(call?.url()).toMatch(new RegExp(`^${origin}/api/tickets(\\?|$)`));
    expect(await call!.headerValue("authorization")).toBe(`Bearer ${karen}`);
    expect((await call!.response())?.status()).toBe(200);

    const paths = requests.map((r) => new URL(r.url())).map((u) => (u.origin === origin ? u.pathname : u.href));
    expect(paths).toEqual(
      expect.arrayContaining([
        "/api/docs",
        "/api/docs/swagger-ui.css",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/docs.js",
        "/api/openapi.json",
      ]),
    );
    const elsewhere = requests.map((r) => r.url()).filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);
});
