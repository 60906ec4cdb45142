import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE, startTestHost, type CallResult, type TestHost } from "../support/local-host.js";

/** Limits per caller: token buckets per principal, and per client address on the anonymous routes. */
let t: TestHost;
beforeAll(async () => {
  t = await startTestHost({ RATE_LIMIT_CALLER_POINTS: "12", RATE_LIMIT_ANONYMOUS_POINTS: "4", RATE_LIMIT_WINDOW_SECONDS: "600" });
});
afterAll(() => t.close());

// A long window: the buckets refill at 12 (or 4) points per 600 s, too slowly to matter within a test.

/** What the RateLimit field says is left, e.g. `"caller";r=7;t=60` → 7. */
const left = (res: CallResult) => Number(/;r=(\d+)/.exec(res.headers.get("ratelimit") ?? "")?.[1]);

describe("rate limits", () => {
  it("say where a caller stands on every answer, and answer 429 with Retry-After once the bucket is spent", async () => {
    const karen = await t.token({ name: "Karen Limited", email: "karen.limited@example.com" });
    const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "s", description: "d" } });
    expect(opened.status).toBe(201);
    expect(opened.headers.get("ratelimit-policy")).toBe('"caller";q=12;w=600');
    expect(left(opened)).toBe(10); // a write costs 2
    const page = await t.call(karen, "GET", "/tickets");
    expect(left(page)).toBe(7); // a page costs 3
    const read = await t.call(karen, "GET", `/tickets/${opened.body.id}`);
    expect(left(read)).toBe(6); // a point read costs 1
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await t.call(karen, "GET", `/tickets/${opened.body.id}`));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 429]);
    const refused = answers.at(-1)!;
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 429, title: "Too many requests" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("ratelimit")).toMatch(/^"caller";r=0;t=\d+$/);
    // Another caller has a bucket of their own.
    const ken = await t.token(PEOPLE.ken);
    expect((await t.call(ken, "GET", "/tickets")).status).toBe(200);
  });

  it("count a refused token against the client address, so signatures cannot be tried without limit", async () => {
    const host = await startTestHost({ RATE_LIMIT_ANONYMOUS_POINTS: "5" });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await host.call("not.a.token", "GET", "/tickets")).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    } finally {
      await host.close();
    }
  });

  it("refill steadily, as token buckets do: a spent caller may go on at the refill rate, not at a window's end", async () => {
    // 4 points per 4 s: one point back every second. A fixed 4 s window would refuse until its end.
    const host = await startTestHost({ RATE_LIMIT_ANONYMOUS_POINTS: "4", RATE_LIMIT_WINDOW_SECONDS: "4" });
    try {
      const spec = () => host.call(null, "GET", "/openapi.json");
      const burst = [];
      for (let i = 0; i < 5; i++) burst.push(await spec());
      expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
      expect(burst[4]!.headers.get("retry-after")).toBe("1");
      // The empty bucket is full again after one window: t says so.
      expect(burst[4]!.headers.get("ratelimit")).toMatch(/^"anonymous";r=0;t=[34]$/);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await spec()).status).toBe(200); // one point back
      expect((await spec()).status).toBe(429); // and only one
    } finally {
      await host.close();
    }
  });

  it("limit the anonymous routes per client address", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.call(null, "GET", "/openapi.json")).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});

describe("/api/health", () => {
  it("answers many calls from one probe of the store", async () => {
    const host = await startTestHost();
    try {
      const store = () => host.host.standIns.embeddedCosmos()!.requests();
      expect((await host.call(null, "GET", "/health")).status).toBe(200);
      // Counted from when the store is quiet: the outbox pump's start-up sweep (its query, and
      // the first time the query's plan and the container's partition ranges) may still be under way.
      let before = store();
      for (let settled = 0; settled < 3;) {
        await new Promise((r) => setTimeout(r, 50));
        settled = store() === before ? settled + 1 : 0;
        before = store();
      }
      for (let i = 0; i < 20; i++) expect((await host.call(null, "GET", "/health")).status).toBe(200);
      // Without the cache, 20 store reads; with it (one probe answers for 5 seconds), none.
      expect(store() - before).toBe(0);
    } finally {
      await host.close();
    }
  });
});
