import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/** GET and PUT /api/me/notifications over HTTP: each person's own, emails on until turned off. */
let t: TestHost;
let karen: string;
let ken: string;
let jane: string;
beforeAll(async () => {
  t = await startTestHost();
  [karen, ken, jane] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.ken), t.token(PEOPLE.jane)]);
});
afterAll(() => t?.close());

describe("notification preferences", () => {
  it("are on until the caller turns them off, and each person's own", async () => {
    expect((await t.call(karen, "GET", "/me/notifications")).body).toEqual({ email: true });
    const off = await t.call(karen, "PUT", "/me/notifications", { body: { email: false } });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ email: false });
    expect((await t.call(karen, "GET", "/me/notifications")).body).toEqual({ email: false });
    // Ken's and Jane's are theirs.
    expect((await t.call(ken, "GET", "/me/notifications")).body).toEqual({ email: true });
    expect((await t.call(jane, "GET", "/me/notifications")).body).toEqual({ email: true });
    expect((await t.call(karen, "PUT", "/me/notifications", { body: { email: true } })).body).toEqual({ email: true });
  });

  it("refuse what is not a preference (400 naming it), and anyone not signed in (401)", async () => {
    for (const body of [{ email: "no" }, {}, { email: false, sms: true }]) {
      const bad = await t.call(karen, "PUT", "/me/notifications", { body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    }
    expect((await t.call(null, "GET", "/me/notifications")).status).toBe(401);
  });
});
