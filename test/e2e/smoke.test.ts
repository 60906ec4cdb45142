import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

let t: TestHost;
beforeAll(async () => {
  t = await startTestHost();
});
afterAll(() => t.close());

describe("smoke", () => {
  it("opens and reads a ticket", async () => {
    const karen = await t.token(PEOPLE.karen);
    const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "Printer", description: "It jams" } });
    expect(opened.status).toBe(201);
    const read = await t.call(karen, "GET", `/tickets/${opened.body.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get("etag")).toBeTruthy();
  });
});
