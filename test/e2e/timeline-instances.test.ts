import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * A timeline page is one query that reads the ticket with the page; a cursor needs only the
 * ticket's salt, which the instance that served the page before has cached. Another instance
 * (a second host on the same store, its cache cold) reads the ticket first: the same pages.
 */
let first: TestHost;
let second: TestHost;
beforeAll(async () => {
  first = await startTestHost();
  await first.host.composition.stores();
  second = await startTestHost({ COSMOS_ENDPOINT: first.host.standIns.embeddedCosmos()!.endpoint, COSMOS_KEY: "not-checked" });
});
afterAll(async () => {
  await second?.close();
  await first?.close();
});

describe("timeline pages across instances", () => {
  it("a cursor from one instance pages on another the same, and the page costs one query where the ticket is cached", async () => {
    const karen = await first.token(PEOPLE.karen);
    const jane = await first.token(PEOPLE.jane);
    const janeThere = await second.token(PEOPLE.jane);
    const opened = await first.call(karen, "POST", "/tickets", { body: { subject: "Printer", description: "It jams." } });
    const id = opened.body.id as string;
    for (const [body, visibility] of [
      ["Looking", "public"],
      ["Tray 2 worn", "internal"],
      ["Replaced tray", "public"],
    ])
      expect((await first.call(jane, "POST", `/tickets/${id}/comments`, { body: { body, visibility } })).status).toBe(201);
    const page = (host: TestHost, token: string, cursor?: string) =>
      host.call(token, "GET", `/tickets/${id}/timeline?limit=2${cursor ? `&cursor=${cursor}` : ""}`);

    const one = await page(first, jane);
    const cursor = one.body.nextCursor as string;
    const store = first.host.standIns.embeddedCosmos()!;
    const before = store.requests();
    const hereTwo = await page(first, jane, cursor);
    expect(store.requests() - before).toBe(1);
    const thereTwo = await page(second, janeThere, cursor);
    expect(thereTwo.status).toBe(200);
    // The same entries (the SLA clock's among them: Jane's first public reply answered the ticket);
    // a cursor is sealed afresh each time, so the two next cursors differ and lead to the same page.
    expect(thereTwo.body.items).toEqual(hereTwo.body.items);
    expect(hereTwo.body.items.map((e: { type: string }) => e.type)).toEqual(["sla_achieved", "comment"]);
    const [hereThree, thereThree] = [
      await page(first, jane, hereTwo.body.nextCursor),
      await page(second, janeThere, thereTwo.body.nextCursor),
    ];
    expect(thereThree.body).toEqual(hereThree.body);
    expect(hereThree.body.items.map((e: { type: string }) => e.type)).toEqual(["comment"]);
    expect(thereTwo.headers.get("etag")).toBe(hereTwo.headers.get("etag"));
  });
});
