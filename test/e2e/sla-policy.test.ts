import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SLA_POLICY } from "../../shared/sla/domain/policy.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/** GET and PUT /api/sla/policy over HTTP: who reads and who replaces it, versions and If-Match, bad policies. */
let t: TestHost;
let karen: string;
let jane: string;
let ada: string;
beforeAll(async () => {
  t = await startTestHost();
  [karen, jane, ada] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.jane), t.token(PEOPLE.admin)]);
});
afterAll(() => t?.close());

const { version: _v, ...defaults } = DEFAULT_SLA_POLICY;
const put = (token: string, body: unknown, ifMatch?: string) =>
  t.call(token, "PUT", "/sla/policy", { body, headers: ifMatch ? { "if-match": ifMatch } : {} });

describe("the SLA policy over HTTP", () => {
  it("is read by agents (the defaults, version 0), not by requesters, and replaced by admins only", async () => {
    const read = await t.call(jane, "GET", "/sla/policy");
    expect(read.status).toBe(200);
    expect(read.body).toEqual(DEFAULT_SLA_POLICY);
    expect(read.headers.get("etag")).toBe('"v0"');
    expect((await t.call(karen, "GET", "/sla/policy")).status).toBe(403);
    expect((await put(karen, defaults)).status).toBe(403);
    expect((await put(jane, defaults, '"v0"')).status).toBe(403);
  });

  it("takes a new version with the ETag read, and answers 412 to a stale one", async () => {
    const before = await t.call(jane, "GET", "/sla/policy");
    const etag = before.headers.get("etag")!;
    const stricter = structuredClone(defaults);
    stricter.targets.high.firstResponse = { minutes: 30, warnBeforeMinutes: 10 };
    stricter.calendar = { timeZone: "Europe/Paris", week: { "1": [{ start: "08:00", end: "18:00" }] }, holidays: ["2026-12-25"] };
    const replaced = await put(ada, stricter, etag);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ ...stricter, version: before.body.version + 1 });
    expect(replaced.headers.get("etag")).toBe(`"v${before.body.version + 1}"`);
    expect((await t.call(jane, "GET", "/sla/policy")).body).toEqual(replaced.body);
    // The ETag read before that replacement is stale now; a made-up one matches nothing.
    const stale = await put(ada, defaults, etag);
    expect(stale.status).toBe(412);
    expect(stale.body.type).toMatch(/precondition-failed$/);
    expect((await put(ada, defaults, '"not-a-version"')).status).toBe(412);
    // A weak tag never matches for a write (RFC 9110), even of the version in force.
    expect((await put(ada, defaults, `W/${replaced.headers.get("etag")}`)).status).toBe(412);
    // Without If-Match it applies to whatever is there: the next version.
    expect((await put(ada, defaults)).body.version).toBe(before.body.version + 2);
  });

  it("answers 400 naming the field of a bad policy, and changes nothing", async () => {
    const before = (await t.call(jane, "GET", "/sla/policy")).body;
    const bad = structuredClone(defaults) as Record<string, any>;
    bad.calendar.timeZone = "Mars/Olympus_Mons";
    bad.targets.low.resolution.warnBeforeMinutes = bad.targets.low.resolution.minutes;
    const res = await put(ada, bad);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      "calendar.timeZone",
      "targets.low.resolution.warnBeforeMinutes",
    ]);
    expect((await t.call(jane, "GET", "/sla/policy")).body).toEqual(before);
  });

  it("lets one of two replacements with the same If-Match win, and stacks two without one", async () => {
    const { body: read, headers } = await t.call(jane, "GET", "/sla/policy");
    const etag = headers.get("etag")!;
    const both = await Promise.all([put(ada, defaults, etag), put(ada, defaults, etag)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 412]);
    const unconditional = await Promise.all([put(ada, defaults), put(ada, defaults)]);
    expect(unconditional.map((r) => r.status)).toEqual([200, 200]);
    expect(unconditional.map((r) => r.body.version).sort()).toEqual([read.version + 2, read.version + 3]);
  });
});
