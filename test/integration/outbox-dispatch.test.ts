import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CosmosTicketStore, SENT_OUTBOX_TTL_SECONDS } from "../../shared/adapters/cosmos/ticket-store.js";
import type { Principal } from "../../shared/kernel/principal.js";
import { Dispatcher } from "../../shared/outbox/dispatcher.js";
import type { Publisher, QueueMessage } from "../../shared/outbox/ports.js";
import { startStore } from "../support/store.js";

/**
 * The dispatcher over the real Cosmos adapter (embedded endpoint, over HTTP). The queue is
 * a recorder here: publishing through Service Bus is tested against a broker elsewhere;
 * what is tested here is which entries get published and marked sent.
 */
const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const qa: Principal = { id: "qa", name: "Quinn QA", email: "qa@example.com", role: "agent" };
const opts = { requestId: "req-1" };

let s: Awaited<ReturnType<typeof startStore>>;
beforeAll(async () => {
  s = await startStore();
});
afterAll(() => s.close());

function recorder(): Publisher & { sent: QueueMessage[] } {
  const sent: QueueMessage[] = [];
  return { sent, publish: async (messages) => void sent.push(...messages), close: async () => {} };
}

/** A ticket raised to emergency: one unsent outbox entry (nothing dispatches in this test but the test). */
async function escalatedTicket() {
  const { ticket } = await s.service.tickets.open(karen, { subject: "Mobile banking is down", description: "all of it" }, opts);
  await s.service.tickets.triage(qa, ticket.id, { priority: "emergency" }, opts);
  return ticket;
}

/** What an entry written by another version of the code could look like: not this code's shape. */
const unreadable = (ticketId: string) => ({
  id: "outbox-99",
  ticketId,
  type: "outbox",
  sent: false,
  event: "triggered",
  facts: {},
  createdAt: "2026-01-01T00:00:00.000Z",
});

describe("the outbox dispatcher", () => {
  it("a sweep publishes every readable unsent entry, and one it cannot read is logged and left, not a stop", async () => {
    const ticket = await escalatedTicket();
    await s.container.items.create(unreadable(ticket.id));
    const queue = recorder();
    const timers = recorder();
    const notifications = recorder();
    const logged: string[] = [];
    const store = new CosmosTicketStore(s.container, (line) => logged.push(line));
    const dispatcher = new Dispatcher(store, { escalations: queue, "ticket-timers": timers, "ticket-commands": timers, notifications });
    // The page, the SLA clocks' timers the opening set (each scheduled for its instant), and its events for the apps.
    expect(await dispatcher.sweep(0, new Date())).toBe(1 + timers.sent.length + notifications.sent.length);
    expect(queue.sent.map((m) => [m.messageId, m.subject, m.correlationId])).toEqual([[`${ticket.id}.3`, "escalation.triggered", "req-1"]]);
    expect(timers.sent.length).toBeGreaterThan(0);
    expect(timers.sent.every((m) => m.scheduledAt instanceof Date && m.messageId.startsWith(`${ticket.id}.outbox-`))).toBe(true);
    // The store logs the document it could not read, by id; it stays unsent for a person to look at.
    expect(logged).toEqual([expect.stringMatching(/^outbox: Stored outbox entry outbox-99 is not readable: .*; left unsent$/)]);
    expect(await store.unsentOutbox({ limit: 100 })).toEqual([]);
    await s.container.item("outbox-99", ticket.id).delete();
  });

  it("from the change feed, publishes the unsent outbox entries among other documents, and logs one it cannot read", async () => {
    const ticket = await escalatedTicket();
    const [entry] = (await s.store.unsentOutbox({ limit: 100 })).filter((e) => e.ticketId === ticket.id && e.queue === "escalations");
    const stored = { ...entry!, type: "outbox", sent: false, _rid: "x", _ts: 1 };
    const queue = recorder();
    const logged: string[] = [];
    const dispatcher = new Dispatcher(
      s.store,
      { escalations: queue, "ticket-timers": queue, "ticket-commands": queue, notifications: queue },
      (line) => logged.push(line),
    );
    const changed = [
      { id: ticket.id, ticketId: ticket.id, type: "ticket" },
      { ...stored, id: "outbox-1", sent: true },
      stored,
      unreadable(ticket.id),
    ];
    expect(await dispatcher.dispatchChanged(changed)).toBe(1);
    expect(queue.sent.map((m) => m.messageId)).toEqual([entry!.messageId]);
    expect(logged).toEqual([expect.stringMatching(new RegExp(`^outbox: entry ${ticket.id}/outbox-99 is not readable, left unsent`))]);
  });

  it("marks a change's entries sent in one request per ticket, each document as written but for sent, sentAt and its ttl", async () => {
    const ticket = await escalatedTicket();
    const mine = (await s.store.unsentOutbox({ limit: 100 })).filter((e) => e.ticketId === ticket.id);
    // The page and the SLA timers the opening and the triage set.
    expect(mine.length).toBeGreaterThan(2);
    const read = async (id: string) => {
      const { resource } = await s.container.item(id, ticket.id).read<Record<string, unknown>>();
      return Object.fromEntries(Object.entries(resource!).filter(([k]) => !k.startsWith("_")));
    };
    const before = await Promise.all(mine.map((e) => read(e.id)));
    const requests = s.embedded.requests();
    await s.store.markOutboxSent(mine);
    expect(s.embedded.requests() - requests).toBe(1);
    const after = await Promise.all(mine.map((e) => read(e.id)));
    expect(after).toEqual(before.map((doc) => ({ ...doc, sent: true, sentAt: expect.any(String), ttl: SENT_OUTBOX_TTL_SECONDS })));
    expect((await s.store.unsentOutbox({ limit: 100 })).filter((e) => e.ticketId === ticket.id)).toEqual([]);
  });

  it("marks many tickets' entries sent in one bulk request, and says so when one of them could not be", async () => {
    const tickets = await Promise.all([escalatedTicket(), escalatedTicket(), escalatedTicket()]);
    const ids = new Set(tickets.map((t) => t.id));
    const theirs = (await s.store.unsentOutbox({ limit: 100 })).filter((e) => ids.has(e.ticketId));
    expect(new Set(theirs.map((e) => e.ticketId)).size).toBe(3);
    const requests = s.embedded.requests();
    await s.store.markOutboxSent(theirs);
    // The bulk request, and the partition key ranges the SDK reads for it (at most once per client).
    expect(s.embedded.requests() - requests).toBeLessThanOrEqual(2);
    expect((await s.store.unsentOutbox({ limit: 100 })).filter((e) => ids.has(e.ticketId))).toEqual([]);
    // An entry that is not there (deleted meanwhile) fails the call, so the dispatcher retries; the others are marked.
    const [first, second] = await Promise.all([escalatedTicket(), escalatedTicket()]);
    const more = (await s.store.unsentOutbox({ limit: 100 })).filter((e) => e.ticketId === first.id || e.ticketId === second.id);
    const ghost = { ...more[0]!, id: "outbox-404" };
    await expect(s.store.markOutboxSent([...more, ghost])).rejects.toThrow();
    expect((await s.store.unsentOutbox({ limit: 100 })).filter((e) => e.ticketId === first.id || e.ticketId === second.id)).toEqual([]);
  });
});
