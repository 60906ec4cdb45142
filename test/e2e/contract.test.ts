import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { checkedFetch, ContractViolation, DOCUMENT } from "../support/contract.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/** The response contract over HTTP: what the checks hold responses to, and that a drift fails the test. */
let t: TestHost;
beforeAll(async () => {
  t = await startTestHost();
});
afterAll(() => t.close());

describe("the response contract", () => {
  it("is the document GET /api/openapi.json serves", async () => {
    const res = await checkedFetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    // The same document, naming the server the request came to: this host, its own port.
    const served = (await res.json()) as typeof DOCUMENT;
    expect(served.servers).toEqual([{ url: t.url, description: expect.any(String) }]);
    expect({ ...served, servers: DOCUMENT.servers }).toEqual(JSON.parse(JSON.stringify(DOCUMENT)));
  });

  it("fails the call of a test that receives a response the document does not declare", async () => {
    const karen = await t.token(PEOPLE.karen);
    const teapot = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(
        new Response(JSON.stringify({ short: "and stout" }), { status: 418, headers: { "content-type": "application/json" } }),
      );
    try {
      await expect(t.call(karen, "GET", "/tickets")).rejects.toThrow(ContractViolation);
      expect(teapot).toHaveBeenCalledTimes(1);
    } finally {
      teapot.mockRestore();
    }
    const missing = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(new Response(JSON.stringify({ items: [] }), { status: 200, headers: { "content-type": "application/json" } }));
    try {
      await expect(t.call(karen, "GET", "/tickets")).rejects.toThrow(/listTickets [\s\S]* required property 'nextCursor'/);
    } finally {
      missing.mockRestore();
    }
  });

  it("checks the direct fetches too: the host's own 404s are problem+json", async () => {
    for (const [method, path] of [
      ["GET", "/nothing-here"],
      ["DELETE", "/agents"],
      ["GET", "/tickets/%E0%A4%A"],
    ] as const) {
      const res = await checkedFetch(`${t.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    await expect(checkedFetch(`${t.url}/health`, { method: "OPTIONS" })).resolves.toMatchObject({ status: 204 });
  });
});
