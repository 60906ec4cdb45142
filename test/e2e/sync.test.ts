import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * What a web or mobile app syncs with: a ticket by its number, conditional GETs (304),
 * and the list sorted by update with `updatedSince`, paged without gaps or repeats.
 */
let t: TestHost;
let karen: string;
let ken: string;
let jane: string;
beforeAll(async () => {
  t = await startTestHost();
  [karen, ken, jane] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.ken), t.token(PEOPLE.jane)]);
});
afterAll(() => t.close());

interface Listed {
  requester: { id: string };
  id: string;
  number: string;
  updatedAt: string;
  createdAt: string;
}

const requesterOf = (x: Listed) => x.requester.id;

async function open(token: string, subject = "Printer"): Promise<Listed> {
  const res = await t.call(token, "POST", "/tickets", { body: { subject, description: "jams" } });
  expect(res.status).toBe(201);
  return res.body as Listed;
}

const note = (id: string, body = "internal") => t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body, visibility: "internal" } });
const reply = (id: string, body = "public") => t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body, visibility: "public" } });

describe("a ticket by its number", () => {
  it("finds the caller's own, and anyone's for an agent; another requester's is an empty page, as for no ticket", async () => {
    const mine = await open(karen);
    const find = (token: string, number: string) => t.call(token, "GET", `/tickets?number=${number}`);
    const own = await find(karen, mine.number);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ items: [expect.objectContaining({ id: mine.id, number: mine.number })], nextCursor: null });
    expect((await find(jane, mine.number)).body.items.map((x: Listed) => x.id)).toEqual([mine.id]);
    const theirs = await find(ken, mine.number);
    const nobodys = await find(ken, "10000000" === mine.number ? "10000001" : "10000000");
    expect(theirs.status).toBe(200);
    expect(theirs.body).toEqual({ items: [], nextCursor: null });
    expect(theirs.body).toEqual(nobodys.body);
  });

  it("refuses what is not a number, and other filters beside it (400)", async () => {
    for (const q of ["number=123", "number=abcdefgh", "number=01234567", "number=12345678&status=open", "number=12345678&cursor=x"]) {
      const res = await t.call(karen, "GET", `/tickets?${q}`);
      expect(res.status, q).toBe(400);
    }
  });
});

describe("conditional GET", () => {
  it("answers 304 on a ticket while nothing the caller can see has changed", async () => {
    const ticket = await open(karen);
    const first = await t.call(karen, "GET", `/tickets/${ticket.id}`);
    const etag = first.headers.get("etag")!;
    const again = (token: string, tag: string) => t.call(token, "GET", `/tickets/${ticket.id}`, { headers: { "if-none-match": tag } });
    const unchanged = await again(karen, etag);
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get("etag")).toBe(etag);
    expect(unchanged.body).toBeNull(); // no body (parseBody reads an empty one as null)
    expect((await again(karen, `W/${etag}, "other"`)).status).toBe(304);
    expect((await again(karen, '"other"')).status).toBe(200);
    expect((await again(karen, "*")).status).toBe(304); // any version: the ticket is there
    // An internal note is not something she can see; the agent can.
    const agentTag = (await t.call(jane, "GET", `/tickets/${ticket.id}`)).headers.get("etag")!;
    expect((await note(ticket.id)).status).toBe(201);
    expect((await again(karen, etag)).status).toBe(304);
    expect((await again(jane, agentTag)).status).toBe(200);
    // A public reply is.
    expect((await reply(ticket.id)).status).toBe(201);
    const changed = await again(karen, etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
  });

  it("answers 304 on a timeline page while no entry the caller can see was added", async () => {
    const ticket = await open(karen);
    const page = (token: string, tag?: string) =>
      t.call(token, "GET", `/tickets/${ticket.id}/timeline?limit=10`, tag ? { headers: { "if-none-match": tag } } : {});
    const [hers, janes] = [await page(karen), await page(jane)];
    expect(hers.status).toBe(200);
    const [herTag, janeTag] = [hers.headers.get("etag")!, janes.headers.get("etag")!];
    expect((await page(karen, herTag)).status).toBe(304);
    expect((await note(ticket.id)).status).toBe(201);
    expect((await page(karen, herTag)).status).toBe(304);
    const janesNow = await page(jane, janeTag);
    expect(janesNow.status).toBe(200);
    expect(janesNow.body.items.at(-1).visibility).toBe("internal");
    expect((await reply(ticket.id, "seen")).status).toBe(201);
    const hersNow = await page(karen, herTag);
    expect(hersNow.status).toBe(200);
    expect(hersNow.body.items.at(-1).data.body).toBe("seen");
  });

  it("moves an agent's ETag when an alert's delivery counts a page, though their If-Match still holds", async () => {
    const ticket = await open(karen);
    const raised = await t.call(jane, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "emergency", reason: "outage" } });
    expect(raised.status).toBe(200);
    const before = raised.headers.get("etag")!;
    // The local host pages the console; the delivery is recorded on the ticket as bookkeeping.
    await vi.waitFor(async () => expect((await t.call(jane, "GET", `/tickets/${ticket.id}`)).body.escalation.pages).toBe(1), {
      timeout: 10_000,
    });
    const now = await t.call(jane, "GET", `/tickets/${ticket.id}`, { headers: { "if-none-match": before } });
    expect(now.status).toBe(200);
    expect(now.headers.get("etag")).not.toBe(before);
    const write = await t.call(jane, "PATCH", `/tickets/${ticket.id}`, { body: { category: "mobile" }, headers: { "if-match": before } });
    expect(write.status).toBe(200);
  });
});

describe("sort and updatedSince", () => {
  /** Every page of a list, following nextCursor; `between` runs after each page but the last. */
  async function all(
    token: string,
    query: string,
    between: (page: number) => Promise<void> = async () => {},
    limit = 3,
  ): Promise<Listed[]> {
    const items: Listed[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const res = await t.call(token, "GET", `/tickets?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      items.push(...(res.body.items as Listed[]));
      cursor = res.body.nextCursor as string | null;
      if (cursor) await between(page++);
    } while (cursor);
    return items;
  }

  it("orders by update (most recent first) and by creation (newest first)", async () => {
    const owner = await t.token({ name: "Sorted Sam", email: "sorted.sam@example.com" });
    const [a, b, c] = [await open(owner, "a"), await open(owner, "b"), await open(owner, "c")];
    await t.call(owner, "POST", `/tickets/${a.id}/comments`, { body: { body: "bump" } });
    const ids = (items: Listed[]) => items.map((x) => x.id);
    expect(ids(await all(owner, "sort=created"))).toEqual([c.id, b.id, a.id]);
    expect(ids(await all(owner, "sort=updated"))).toEqual([a.id, c.id, b.id]);
    // An internal note moves an agent's view of b, not its requester's: her pages, one
    // ticket each, follow her own updatedAt, and her updatedSince does not find it.
    const mark = new Date().toISOString();
    expect((await note(b.id)).status).toBe(201);
    expect(ids(await all(owner, "sort=updated", undefined, 1))).toEqual([a.id, c.id, b.id]);
    expect(ids(await all(owner, `sort=updated&updatedSince=${mark}`))).toEqual([]);
    expect(ids(await all(jane, `sort=updated&updatedSince=${mark}&requester=${encodeURIComponent(requesterOf(b))}`))).toEqual([b.id]);
    const agentsView = ids(
      await all(jane, `sort=updated&requester=${encodeURIComponent((b as unknown as { requester: { id: string } }).requester.id)}`),
    );
    expect(agentsView).toEqual([b.id, a.id, c.id]);
  });

  it("syncs every change with updatedSince, paged without gaps or repeats while tickets change", async () => {
    const owner = await t.token({ name: "Synced Sue", email: "synced.sue@example.com" });
    const since = new Date().toISOString();
    const made: Listed[] = [];
    for (let i = 0; i < 10; i++) made.push(await open(owner, `t${i}`));
    // First pass: while it pages, tickets already seen and tickets not yet seen change.
    const first = await all(owner, `sort=updated&updatedSince=${since}`, async (page) => {
      if (page === 0) {
        await t.call(owner, "POST", `/tickets/${made[9]!.id}/comments`, { body: { body: "seen, changed" } });
        await t.call(owner, "POST", `/tickets/${made[0]!.id}/comments`, { body: { body: "unseen, changed" } });
      }
    });
    const firstIds = first.map((x) => x.id);
    expect(new Set(firstIds).size).toBe(firstIds.length); // no repeats
    // The next pass, from the newest change the first one saw, catches what moved behind it.
    const mark = first
      .map((x) => x.updatedAt)
      .sort()
      .at(-1)!;
    const second = await all(owner, `sort=updated&updatedSince=${mark}`);
    const latest = new Map<string, string>();
    for (const x of [...first, ...second]) if ((latest.get(x.id) ?? "") < x.updatedAt) latest.set(x.id, x.updatedAt);
    for (const m of made) {
      const now = (await t.call(owner, "GET", `/tickets/${m.id}`)).body as Listed;
      expect(latest.get(m.id), `ticket ${m.id}`).toBe(now.updatedAt); // no gaps: every ticket, at its latest
    }
    // Inclusive: a mark equal to a ticket's updatedAt lists it.
    const last = (await t.call(owner, "GET", `/tickets/${made[5]!.id}`)).body as Listed;
    expect((await all(owner, `sort=updated&updatedSince=${last.updatedAt}`)).map((x) => x.id)).toContain(last.id);
    // Nothing changed before `since` is listed, and the pass after a quiet moment is all but empty.
    expect((await all(owner, `sort=updated&updatedSince=${new Date(Date.now() + 60_000).toISOString()}`)).length).toBe(0);
  });

  it("refuses a cursor of another sort, and a bad sort or time (400)", async () => {
    const owner = await t.token({ name: "Paged Pat", email: "paged.pat@example.com" });
    for (let i = 0; i < 2; i++) await open(owner);
    const cursor = (await t.call(owner, "GET", "/tickets?sort=updated&limit=1")).body.nextCursor as string;
    expect(cursor).toBeTruthy();
    expect((await t.call(owner, "GET", `/tickets?sort=created&limit=1&cursor=${encodeURIComponent(cursor)}`)).status).toBe(400);
    expect((await t.call(owner, "GET", `/tickets?limit=1&cursor=${encodeURIComponent(cursor)}`)).status).toBe(400);
    for (const q of ["sort=newest", "updatedSince=yesterday", "updatedSince=2026-13-01T00:00:00Z"]) {
      expect((await t.call(owner, "GET", `/tickets?${q}`)).status, q).toBe(400);
    }
  });
});
