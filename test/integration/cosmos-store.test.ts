import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Failure } from "../../shared/kernel/failure.js";
import * as z from "zod";
import type { Principal } from "../../shared/kernel/principal.js";
import { CosmosTicketStore } from "../../shared/adapters/cosmos/ticket-store.js";
import { Ticket } from "../../shared/tickets/domain/model.js";
import type { ListPosition } from "../../shared/tickets/ports.js";
import { CONTENTION_BACKOFF, etagFor, etagOf } from "../../shared/tickets/ticket-writer.js";
import { startStore } from "../support/store.js";

const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const opts = { requestId: "test" };

let s: Awaited<ReturnType<typeof startStore>>;
beforeAll(async () => {
  s = await startStore();
});
afterAll(() => s.close());

const openOne = async (subject = "Mobile banking down", priority: "low" | "normal" | "high" = "normal") =>
  (await s.service.tickets.open(karen, { subject, description: "d", priority }, opts)).ticket;

async function allEntries(id: string) {
  return (await s.store.timeline(id, { afterSeq: 0, limit: 1000, publicOnly: false })).entries;
}

describe("round trips per command (requests the embedded endpoint receives)", () => {
  it("a ticket GET is one point read; each write command is one batch", async () => {
    const t = await openOne();
    await s.service.directory.remember(jane);
    const count = async (f: () => Promise<unknown>) => {
      const before = s.embedded.requests();
      await f();
      return s.embedded.requests() - before;
    };
    expect(await count(() => s.service.tickets.get(jane, t.id))).toBe(1);
    expect(await count(() => s.service.tickets.triage(jane, t.id, { priority: "emergency" }, opts))).toBe(1);
    expect(await count(() => s.service.tickets.assign(jane, t.id, jane.id, opts))).toBe(1);
    expect(await count(() => s.service.tickets.comment(jane, t.id, { body: "note", visibility: "internal" }, opts))).toBe(1);
    // A keyed comment creates its receipt in the batch without reading it first (see comment-on-ticket.ts);
    // its retry fails on that create, writing nothing, and replays.
    const idempotency = { key: "k-trips", requestHash: "h" };
    const keyed = () => s.service.tickets.comment(jane, t.id, { body: "keyed", visibility: "internal" }, { ...opts, idempotency });
    expect(await count(keyed)).toBe(1);
    const entries = (await allEntries(t.id)).length;
    expect(await keyed()).toMatchObject({ replayed: true });
    expect((await allEntries(t.id)).length).toBe(entries);
    expect(await count(() => s.service.tickets.move(jane, t.id, { status: "in_progress" }, opts))).toBe(1);
    expect(await count(() => s.service.tickets.open(karen, { subject: "x", description: "y" }, opts))).toBe(1);
  });
});

describe("a command's batch is all-or-nothing", () => {
  // An entry no command wrote: what a batch that fails must not leave behind.
  const entry = {
    id: "entry-00000002",
    seq: 2,
    type: "comment" as const,
    at: "2026-01-01T00:00:00.000Z",
    actor: { id: "x", name: "x", role: "agent" as const },
    visibility: "internal" as const,
    data: { body: "ghost" },
  };

  it("a stale etag applies nothing: no ticket change, no timeline entry", async () => {
    const t = await openOne();
    const stored = (await s.store.get(t.id))!;
    await s.service.tickets.triage(jane, t.id, { priority: "high" }, opts);
    const entriesBefore = await allEntries(t.id);
    const stale = { ticket: { ...stored.ticket, subject: "lost update", version: stored.ticket.version + 1 }, salt: stored.salt };
    const write = { entries: [entry], outbox: [], records: [{ id: "record-1", type: "receipt" as const }] };
    await expect(s.store.commit(stored.etag, stale, write)).rejects.toMatchObject({ kind: "stale" });
    const after = (await s.store.get(t.id))!;
    expect(after.ticket.subject).toBe("Mobile banking down");
    expect(after.ticket.priority).toBe("high");
    expect(await allEntries(t.id)).toEqual(entriesBefore);
    expect(await s.store.record(t.id, "record-1", z.unknown())).toBeNull();
  });

  it("a batch whose last operation fails (a record id taken) applies nothing: the ticket's replace and its entry undone", async () => {
    const t = await openOne();
    const stored = (await s.store.get(t.id))!;
    const taken = { id: "record-taken", type: "receipt" as const };
    const first = await s.store.commit(
      stored.etag,
      { ticket: { ...stored.ticket, version: stored.ticket.version + 1 }, salt: stored.salt },
      {
        entries: [],
        outbox: [],
        records: [taken],
      },
    );
    const entriesBefore = await allEntries(t.id);
    const next = { ticket: { ...first.ticket, subject: "lost update", version: first.ticket.version + 1 }, salt: stored.salt };
    await expect(s.store.commit(first.etag, next, { entries: [entry], outbox: [], records: [taken] })).rejects.toMatchObject({
      kind: "exists",
    });
    const after = (await s.store.get(t.id))!;
    expect(after.etag).toBe(first.etag);
    expect(after.ticket.subject).toBe("Mobile banking down");
    expect(await allEntries(t.id)).toEqual(entriesBefore);
    // The etag still holds: the next write goes through.
    await s.store.commit(first.etag, next, { entries: [entry], outbox: [], records: [] });
    expect((await s.store.get(t.id))!.ticket.subject).toBe("lost update");
  });

  it("a create over an existing id applies nothing", async () => {
    const t = await openOne();
    const before = await allEntries(t.id);
    const dup = { ticket: { ...t, subject: "duplicate" }, salt: "s" };
    await expect(
      s.store.create(dup, { entries: [{ ...before[0]!, id: "entry-00000009", seq: 9 }], outbox: [], records: [] }),
    ).rejects.toMatchObject({ kind: "exists" });
    expect((await s.store.get(t.id))!.ticket.subject).toBe("Mobile banking down");
    expect(await allEntries(t.id)).toEqual(before);
  });
});

describe("concurrent writers", () => {
  it("without If-Match, every concurrent update lands (compare-and-swap, retried)", async () => {
    const t = await openOne();
    // Separate services: separate caches, as separate Functions instances would have.
    const writers = Array.from({ length: 6 }, () => s.newService());
    await Promise.all(writers.map((w, i) => w.tickets.comment(jane, t.id, { body: `note ${i}`, visibility: "internal" }, opts)));
    const entries = await allEntries(t.id);
    expect(
      entries
        .filter((e) => e.type === "comment")
        .map((e) => e.data.body)
        .sort(),
    ).toEqual(["note 0", "note 1", "note 2", "note 3", "note 4", "note 5"]);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await s.store.get(t.id))!.ticket.version).toBe(7);
  });

  it("with If-Match, the second writer of the same version gets precondition_failed", async () => {
    const t = await openOne();
    const etag = etagOf((await s.service.tickets.get(jane, t.id)).ticket);
    const [a, b] = [s.newService(), s.newService()];
    const results = await Promise.allSettled([
      a.tickets.triage(jane, t.id, { priority: "high" }, { ...opts, ifMatch: etag }),
      b.tickets.triage(jane, t.id, { priority: "low" }, { ...opts, ifMatch: etag }),
    ]);
    const failed = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(((failed[0] as PromiseRejectedResult).reason as Failure).kind).toBe("precondition_failed");
  });

  it("50 concurrent writers without If-Match all succeed, none 503 (they back off and take turns)", async () => {
    const t = await openOne();
    // Their time budget (5 s) is the unit tests' (ticket-writer.test.ts); here, on a machine as
    // busy as CI's, only the taking of turns: 50 writers took 1.3 to 2.3 s alone, over 5 s once
    // beside the whole suite, which is a timing, not a lost write.
    const backoff = { ...CONTENTION_BACKOFF, budgetMs: 60_000 };
    const writers = Array.from({ length: 50 }, () => s.newService({ backoff }));
    const results = await Promise.allSettled(
      writers.map((w, i) => w.tickets.comment(jane, t.id, { body: `note ${i}`, visibility: "internal" }, opts)),
    );
    expect(results.filter((r) => r.status === "rejected").map((r) => (r.reason as Failure).kind)).toEqual([]);
    const entries = await allEntries(t.id);
    expect(entries.filter((e) => e.type === "comment")).toHaveLength(50);
    expect((await s.store.get(t.id))!.ticket.version).toBe(51);
  });

  it("50 concurrent writers with the same If-Match: exactly one wins, 49 get precondition_failed", async () => {
    const t = await openOne();
    const ifMatch = etagOf(t);
    const writers = Array.from({ length: 50 }, () => s.newService());
    const results = await Promise.allSettled(
      writers.map((w, i) => w.tickets.comment(jane, t.id, { body: `note ${i}`, visibility: "internal" }, { ...opts, ifMatch })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const kinds = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Failure).kind] : []));
    expect(kinds).toEqual(Array.from({ length: 49 }, () => "precondition_failed"));
    expect((await s.store.get(t.id))!.ticket.version).toBe(2);
  });

  it("a decision a stale cache would get wrong is made again on a fresh read", async () => {
    const t = await openOne();
    const [a, b] = [s.newService(), s.newService()];
    await a.tickets.triage(jane, t.id, { priority: "emergency" }, opts); // a caches the emergency
    await b.tickets.triage(jane, t.id, { priority: "normal" }, opts); // b lowers it; a does not know
    // On a's cache this is a no-op; on the store it raises the ticket (and pages ops) again.
    const again = await a.tickets.triage(jane, t.id, { priority: "emergency" }, opts);
    expect(again.ticket.priority).toBe("emergency");
    expect((await s.store.get(t.id))!.ticket).toMatchObject({ priority: "emergency", escalation: { state: "triggered" } });
    // On a's cache the ticket is open; it was closed through b: a reopen must succeed.
    await a.tickets.get(jane, t.id);
    await b.tickets.move(jane, t.id, { status: "closed", resolution: "done" }, opts);
    expect((await a.tickets.move(karen, t.id, { status: "open" }, opts)).ticket.status).toBe("open");
  });

  it("an alert delivery recorded on the ticket does not break an agent's If-Match", async () => {
    const t = await openOne();
    const raised = await s.service.tickets.triage(jane, t.id, { priority: "emergency" }, opts);
    await s.newService().deliveries.record(t.id, { channel: "webhook", event: "triggered", page: 1, messageId: `${t.id}.9` });
    const moved = await s.service.tickets.move(jane, t.id, { status: "in_progress" }, { ...opts, ifMatch: etagOf(raised.ticket) });
    expect(moved.ticket.status).toBe("in_progress");
    expect(moved.ticket.escalation.pages).toBe(1);
  });

  it("a comment retried with its Idempotency-Key and the same If-Match replays instead of 412", async () => {
    const t = await openOne();
    const ifMatch = etagFor((await s.service.tickets.get(karen, t.id)).ticket, karen);
    const idempotency = { key: "k-1", requestHash: "h-1" };
    const first = await s.service.tickets.comment(
      karen,
      t.id,
      { body: "any news?", visibility: "public" },
      { ...opts, ifMatch, idempotency },
    );
    const retry = await s.service.tickets.comment(
      karen,
      t.id,
      { body: "any news?", visibility: "public" },
      { ...opts, ifMatch, idempotency },
    );
    expect(retry).toEqual({ ...first, replayed: true });
    await expect(
      s.service.tickets.comment(karen, t.id, { body: "other", visibility: "public" }, { ...opts, ifMatch }),
    ).rejects.toMatchObject({ kind: "precondition_failed" });
  });

  it("a comment retried with its Idempotency-Key after the ticket was closed replays instead of 409", async () => {
    const t = await openOne();
    const idempotency = { key: "k-closed", requestHash: "h-closed" };
    const comment = () => s.service.tickets.comment(jane, t.id, { body: "on it", visibility: "public" }, { ...opts, idempotency });
    const first = await comment();
    await s.service.tickets.move(jane, t.id, { status: "closed", resolution: "done" }, opts);
    expect(await comment()).toEqual({ ...first, replayed: true });
    await expect(
      s.service.tickets.comment(
        jane,
        t.id,
        { body: "on it", visibility: "public" },
        { ...opts, idempotency: { key: "k-other", requestHash: "h" } },
      ),
    ).rejects.toMatchObject({ kind: "conflict" });
  });

  it("a stale cache costs a retry, not a lost update", async () => {
    const t = await openOne();
    const [a, b] = [s.newService(), s.newService()];
    await a.tickets.get(jane, t.id); // a caches version 1
    await b.tickets.triage(jane, t.id, { category: "network" }, opts); // b moves it to version 2
    await a.tickets.triage(jane, t.id, { priority: "high" }, opts); // a's cached version is stale
    const after = (await s.store.get(t.id))!.ticket;
    expect(after).toMatchObject({ category: "network", priority: "high", version: 3 });
  });
});

describe("assignment", () => {
  it("names the agent by id and name only, on the ticket and in its timeline (the directory keeps the rest)", async () => {
    const t = await openOne();
    await s.service.directory.remember(jane);
    await s.service.tickets.assign(jane, t.id, jane.id, opts);
    const stored = (await s.store.get(t.id))!;
    expect(stored.ticket.assignee).toEqual({ id: jane.id, name: jane.name });
    const assigned = (await allEntries(t.id)).find((e) => e.type === "assigned");
    expect(assigned?.data).toEqual({ from: null, to: { id: jane.id, name: jane.name } });
    const raw = await s.container.item(t.id, t.id).read<{ assignee: unknown }>();
    expect(raw.resource?.assignee).toEqual({ id: jane.id, name: jane.name });
  });
});

describe("queue pagination", () => {
  it("crosses pages in queue order without gaps or repeats, even as tickets arrive", async () => {
    const fresh = await startStore();
    try {
      const priorities = ["low", "normal", "high"] as const;
      const made = [];
      for (let i = 0; i < 37; i++)
        made.push(
          (await fresh.service.tickets.open(karen, { subject: `t${i}`, description: "d", priority: priorities[i % 3] }, opts)).ticket,
        );
      const seen: string[] = [];
      let after: ListPosition | undefined;
      let pages = 0;
      do {
        const page = await fresh.service.tickets.list(jane, { sort: "priority", limit: 10, after });
        seen.push(...page.items.map((s) => s.ticket.id));
        const last = page.items.at(-1)?.ticket;
        after =
          page.next && last
            ? { sort: "priority", key: [{ emergency: 0, high: 1, normal: 2, low: 3 }[last.priority], last.createdAt, last.id] }
            : undefined;
        // A newcomer sorts after every ticket seen so far (low priority, newest).
        if (pages === 1) await fresh.service.tickets.open(karen, { subject: "late", description: "d", priority: "low" }, opts);
        pages++;
      } while (after);
      const rank = { high: 0, normal: 1, low: 2 };
      const expected = [...made]
        .sort((x, y) => rank[x.priority as "high"] - rank[y.priority as "high"] || x.createdAt.localeCompare(y.createdAt))
        .map((t) => t.id);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.slice(0, 37)).toEqual(expected);
      expect(seen).toHaveLength(38);
      expect(pages).toBe(4);
    } finally {
      await fresh.close();
    }
  });
});

describe("a comment's Idempotency-Key is a receipt of its own, not a field of the ticket", () => {
  const rawTicket = async (id: string) => (await s.container.item(id, id).read<Record<string, unknown>>()).resource!;
  const keyed = (key: string, body = "any news?") =>
    [
      { body, visibility: "public" as const },
      { ...opts, idempotency: { key, requestHash: `hash of ${body}` } },
    ] as const;

  it("a retry replays the first response and adds no second comment; the receipt expires by TTL (>= 24 h)", async () => {
    const t = await openOne();
    const first = await s.service.tickets.comment(karen, t.id, ...keyed("k-retry"));
    const retry = await s.newService().tickets.comment(karen, t.id, ...keyed("k-retry"));
    expect(retry).toEqual({ ...first, replayed: true });
    expect((await allEntries(t.id)).filter((e) => e.type === "comment")).toHaveLength(1);
    await expect(s.newService().tickets.comment(karen, t.id, ...keyed("k-retry", "other"))).rejects.toMatchObject({ kind: "key_reused" });
    const { resources } = await s.container.items
      .query<{ ttl?: number }>({
        query: "SELECT * FROM c WHERE c.ticketId = @id AND c.type = 'receipt'",
        parameters: [{ name: "@id", value: t.id }],
      })
      .fetchAll();
    expect(resources).toHaveLength(1);
    expect(resources[0]!.ttl).toBeGreaterThanOrEqual(24 * 3600);
    expect(await rawTicket(t.id)).not.toHaveProperty("keys");
  });

  it("the local bootstrap's container keeps documents unless they carry a ttl (defaultTtl -1, as infra/ sets it)", async () => {
    expect((await s.container.read()).resource?.defaultTtl).toBe(-1);
  });

  it("two concurrent identical requests on two instances: one comment, and both answer with it", async () => {
    const t = await openOne();
    const [a, b] = [s.newService(), s.newService()];
    const results = await Promise.all([
      a.tickets.comment(karen, t.id, ...keyed("k-race")),
      b.tickets.comment(karen, t.id, ...keyed("k-race")),
    ]);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
    expect(results[0].entry).toEqual(results[1].entry);
    expect(results[0].etag).toBe(results[1].etag);
    expect((await allEntries(t.id)).filter((e) => e.type === "comment")).toHaveLength(1);
    expect((await s.store.get(t.id))!.ticket.version).toBe(2);
  });

  it("the ticket document stays the same size across 200 keyed comments", async () => {
    const t = await openOne();
    const sizeOf = async () => JSON.stringify(await rawTicket(t.id)).length;
    await s.service.tickets.comment(karen, t.id, ...keyed("k-size-0", "comment 0"));
    const before = await sizeOf();
    for (let i = 1; i <= 200; i++) await s.service.tickets.comment(karen, t.id, ...keyed(`k-size-${i}`, `comment ${i}`));
    // Only the counters every change rewrites differ: version, revision and (a public reply
    // each time) publicRevision, from 2 to 201: 2 digits each.
    expect((await sizeOf()) - before).toBeLessThanOrEqual(6);
  });

  it("a write returns the ticket a read then gets, of a ticket stored before its public revision and time were kept too", async () => {
    const t = await openOne();
    const { publicRevision: _r, publicUpdatedAt: _u, ...older } = await rawTicket(t.id);
    await s.container.item(t.id, t.id).replace(older);
    const stored = (await s.store.get(t.id))!;
    expect(stored.ticket).not.toHaveProperty("publicUpdatedAt");
    // A write of the system's (it sets neither): the document gets both, and so must what the write returns.
    const next = { ticket: { ...stored.ticket, version: stored.ticket.version + 1 }, salt: stored.salt };
    const written = await s.store.commit(stored.etag, next, { entries: [], outbox: [], records: [] });
    const read = (await s.store.get(t.id))!;
    expect(read.ticket).toHaveProperty("publicUpdatedAt");
    expect(written).toEqual(read);
  });

  it("a ticket stored with the old `keys` map is read without it, and loses it at its next write", async () => {
    const t = await openOne();
    const old = await rawTicket(t.id);
    await s.container.item(t.id, t.id).replace({ ...old, keys: { abc: { requestHash: "h", seq: 1, revision: 1, at: old.createdAt } } });
    const stored = (await s.store.get(t.id))!;
    expect(stored).not.toHaveProperty("keys");
    expect(stored.ticket).toEqual(t);
    await s.newService().tickets.comment(karen, t.id, ...keyed("k-old"));
    expect(await rawTicket(t.id)).not.toHaveProperty("keys");
  });
});

describe("the queue query", () => {
  it("selects the ticket document's own fields and its etag, nothing else a document carries", async () => {
    const fresh = await startStore();
    try {
      const t = (await fresh.service.tickets.open(karen, { subject: "s", description: "d" }, opts)).ticket;
      const old = (await fresh.container.item(t.id, t.id).read<Record<string, unknown>>()).resource!;
      await fresh.container
        .item(t.id, t.id)
        .replace({ ...old, keys: { abc: { requestHash: "h", seq: 1, revision: 1, at: old.createdAt } } });
      // The store over a container that keeps what each query returned, as it came over the wire.
      const returned: Record<string, unknown>[] = [];
      const items = fresh.container.items;
      const spied = new Proxy(items, {
        get: (target, prop, receiver) =>
          prop === "query"
            ? (...args: Parameters<typeof items.query>) => {
                const iterator = target.query(...args);
                return {
                  fetchAll: async () => {
                    const response = await iterator.fetchAll();
                    returned.push(...(response.resources as Record<string, unknown>[]));
                    return response;
                  },
                };
              }
            : Reflect.get(target, prop, receiver),
      });
      const container = new Proxy(fresh.container, {
        get: (target, prop, receiver) => (prop === "items" ? spied : Reflect.get(target, prop, receiver)),
      });
      const page = await new CosmosTicketStore(container).list({ sort: "priority", view: "agent", limit: 10 });
      expect(page.items.map((i) => i.ticket)).toEqual([t]);
      const expected = [
        // Those a new ticket has (an incident's fields, say, come with its first link).
        ...Object.keys(Ticket.shape).filter((k) => k in old),
        ...["ticketId", "type", "priorityRank", "requesterRank", "slaState", "slaDueOrder", "salt", "_etag"],
      ].sort();
      expect(returned).toHaveLength(1);
      expect(Object.keys(returned[0]!).sort()).toEqual(expected);
    } finally {
      await fresh.close();
    }
  });
});
