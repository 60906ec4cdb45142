import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { banner } from "../../shared/local/banner.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * Attachments over HTTP with the embedded Azurite: the API hands out a single-blob URL, and
 * the client sends the bytes there with a plain fetch, never through the API.
 */
let t: TestHost;
let karen: string;
let ken: string;
let jane: string;
beforeAll(async () => {
  t = await startTestHost();
  [karen, ken, jane] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.ken), t.token(PEOPLE.jane)]);
});
afterAll(() => t?.close());

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
const open = async () =>
  (await t.call(karen, "POST", "/tickets", { body: { subject: "App error", description: "See screenshot." } })).body.id as string;
const upload = (token: string, id: string, body: Record<string, unknown>) => t.call(token, "POST", `/tickets/${id}/attachments`, { body });

describe("an upload", () => {
  it("is a URL for one blob, which a plain fetch PUT fills, and which writes no other blob", async () => {
    const id = await open();
    const granted = await upload(karen, id, { fileName: "error.png", contentType: "image/png", size: PNG.length });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ id: expect.any(String), uploadUrl: expect.stringMatching(/^http/), maxBytes: 25 * 1024 * 1024 });
    expect(Date.parse(granted.body.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    const put = await fetch(granted.body.uploadUrl, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob", "content-type": "image/png" },
      body: PNG,
    });
    expect(put.status).toBe(201);
    // The same signature on another blob's path: refused by storage.
    const other = new URL(granted.body.uploadUrl);
    other.pathname = other.pathname.replace(/[^/]+$/, "someone-else");
    expect((await fetch(other, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: PNG })).status).toBe(403);
    // Nor does it read what it wrote.
    expect((await fetch(granted.body.uploadUrl)).status).toBe(403);
  });

  it("is the ticket's requester's or an agent's: a stranger gets 404; too large is 400 naming size", async () => {
    const id = await open();
    expect((await upload(ken, id, { fileName: "a.png", contentType: "image/png", size: 10 })).status).toBe(404);
    expect((await upload(jane, id, { fileName: "log.txt", contentType: "text/plain", size: 10 })).status).toBe(201);
    const big = await upload(karen, id, { fileName: "a.png", contentType: "image/png", size: 25 * 1024 * 1024 + 1 });
    expect(big.status).toBe(400);
    expect(big.body.errors.map((e: { path: string }) => e.path)).toEqual(["size"]);
    const bad = await upload(karen, id, { fileName: "../a.png", contentType: "image/png", size: 10 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(["fileName"]);
    expect((await upload(karen, "not-a-ticket", { fileName: "a.png", contentType: "image/png", size: 10 })).status).toBe(404);
  });

  it("is refused on a closed ticket (409)", async () => {
    const id = await open();
    expect((await t.call(karen, "POST", `/tickets/${id}/status`, { body: { status: "closed", resolution: "Never mind." } })).status).toBe(
      200,
    );
    expect((await upload(karen, id, { fileName: "a.png", contentType: "image/png", size: 10 })).status).toBe(409);
  });

  it("goes to the embedded Azurite locally, where start-up says that nothing scans uploads", () => {
    expect(banner(t.host, t.host.composition.config).find((l) => l.startsWith("  files:"))).toMatch(
      /embedded Azurite .* no malware scanner here: uploads are unscanned$/,
    );
  });
});
