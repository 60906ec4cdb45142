import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTHING_DUE } from "../../shared/adapters/cosmos/documents.js";
import type { Principal } from "../../shared/kernel/principal.js";
import type { ListPosition, ListQuery } from "../../shared/tickets/ports.js";
import { startStore } from "../support/store.js";

/**
 * The queue's SLA fields on the ticket document (documents.ts: slaState, slaDueOrder), and
 * tickets stored before they were kept: the `due` order lists those last, pages through them
 * without gaps or repeats, and the `sla` filter matches none of them until their next write.
 */

const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const opts = { requestId: "test" };

let s: Awaited<ReturnType<typeof startStore>>;
beforeAll(async () => {
  s = await startStore();
});
afterAll(() => s.close());

type Store = Awaited<ReturnType<typeof startStore>>;
type Raw = Record<string, unknown> & { id: string; priorityRank: number; slaDueOrder?: number; slaState?: string };
const raw = async (st: Store, id: string) => (await st.container.item(id, id).read<Raw>()).resource!;
/** The document as an older version of the code wrote it: without these fields. */
async function strip(st: Store, id: string, fields: string[]): Promise<void> {
  const doc = await raw(st, id);
  for (const f of fields) delete doc[f];
  await st.container.item(id, id).replace(doc);
}

/** Every page of the store's list, one item per page, following `next`; with the position after each item. */
async function all(st: Store, query: Omit<ListQuery, "after" | "limit" | "view">): Promise<{ ids: string[]; after: ListPosition[] }> {
  const ids: string[] = [];
  const positions: ListPosition[] = [];
  let after: ListPosition | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await st.store.list({ ...query, view: "agent", limit: 1, after });
    ids.push(...page.items.map((i) => i.ticket.id));
    if (!page.next) return { ids, after: positions };
    positions.push(page.next);
    after = page.next;
  }
  throw new Error("more than 50 pages");
}
const ids = async (st: Store, query: Omit<ListQuery, "after" | "limit" | "view">) => (await all(st, query)).ids;

describe("the queue's SLA fields", () => {
  it("are written with every ticket: its state and the due order's key", async () => {
    const t = (await s.service.tickets.open(karen, { subject: "s", description: "d", priority: "high" }, opts)).ticket;
    const doc = await raw(s, t.id);
    expect(doc.slaState).toBe("running");
    expect(doc.slaDueOrder).toBe(-Date.parse(t.sla!.firstResponse.dueAt));
    await s.service.tickets.move(jane, t.id, { status: "resolved", resolution: "Fixed." }, opts);
    expect(await raw(s, t.id)).toMatchObject({ slaState: "none", slaDueOrder: NOTHING_DUE });
  });

  it("lists tickets stored before them last in the due order, across pages, and matches them to no SLA state until they change", async () => {
    const st = await startStore();
    try {
      const open = async (priority: "low" | "normal" | "high") =>
        (await st.service.tickets.open(karen, { subject: priority, description: "d", priority }, opts)).ticket.id;
      const high = await open("high");
      const normal = await open("normal");
      const low = await open("low");
      const done = await open("normal");
      const legacyLow = await open("low");
      const legacyHigh = await open("high");
      const clocked = await open("normal");
      await st.service.tickets.move(jane, done, { status: "resolved", resolution: "Fixed." }, opts);
      // Stored before the clocks existed: no sla, no SLA fields.
      await strip(st, legacyLow, ["sla", "slaState", "slaDueOrder"]);
      await strip(st, legacyHigh, ["sla", "slaState", "slaDueOrder"]);
      // Stored after the clocks, before the fields: clocks, but no SLA fields.
      await strip(st, clocked, ["slaState", "slaDueOrder"]);

      // The default policy's first responses: high, then normal, then low, each due at its own time.
      const dueFirst = [high, normal, low];
      expect(new Set((await Promise.all(dueFirst.map((id) => raw(st, id)))).map((d) => d.slaDueOrder)).size).toBe(3);
      // Then nothing due (the resolved one), then those without the fields, by priority and id.
      const listed = await all(st, { sort: "due" });
      expect(listed.ids).toEqual([...dueFirst, done, legacyHigh, clocked, legacyLow]);
      // A page of two after each position lists the next two: no gap, no repeat.
      for (const [i, after] of listed.after.entries()) {
        const page = await st.store.list({ sort: "due", view: "agent", limit: 2, after });
        expect(
          page.items.map((x) => x.ticket.id),
          `after item ${i}`,
        ).toEqual(listed.ids.slice(i + 1, i + 3));
      }

      expect(new Set(await ids(st, { sort: "priority", slaStates: ["running", "warning", "breached"] }))).toEqual(
        new Set([high, normal, low]),
      );
      // At its next write a ticket gets the fields, and takes its place.
      await st.service.tickets.triage(jane, clocked, { category: "network" }, opts);
      expect(new Set(await ids(st, { sort: "priority", slaStates: ["running"] }))).toEqual(new Set([high, normal, low, clocked]));
      const after = await ids(st, { sort: "due" });
      expect(after.indexOf(clocked)).toBeLessThan(after.indexOf(done));
      expect(after.slice(-2)).toEqual([legacyHigh, legacyLow]);
    } finally {
      await st.close();
    }
  });
});
