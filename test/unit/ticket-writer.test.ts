import { describe, expect, it } from "vitest";
import { Failure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";
import type { Scheduler } from "../../shared/kernel/scheduler.js";
import { startClocks } from "../../shared/sla/domain/clock.js";
import { DEFAULT_SLA_POLICY } from "../../shared/sla/domain/policy.js";
import * as commands from "../../shared/tickets/domain/commands.js";
import type { StoredTicket, TicketStore } from "../../shared/tickets/ports.js";
import { CONTENTION_BACKOFF, TicketWriter } from "../../shared/tickets/ticket-writer.js";

const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const opened = commands.openTicket(
  { subject: "s", description: "d" },
  karen,
  { id: "t1", number: "10000001", requesterId: () => "karen" },
  "2026-01-01T00:00:00.000Z",
).ticket;

/** A store whose ticket changes under every write until `staleFor` writes have failed. */
function contendedStore(staleFor: number) {
  const counts = { reads: 0, commits: 0 };
  const stored: StoredTicket = { ticket: opened, etag: "e0", salt: "salt" };
  const store = {
    get: async () => (counts.reads++, stored),
    commit: async (_etag: string, next: Omit<StoredTicket, "etag">) => {
      if (++counts.commits <= staleFor) throw new Failure("stale", "changed");
      return { ...next, etag: `e${counts.commits}` };
    },
  } as unknown as TicketStore;
  return { store, counts };
}

/** A clock that moves only by the pauses it is asked for; each pause ends at once. */
function virtualClock() {
  let time = 0;
  const pauses: number[] = [];
  const scheduler: Scheduler = {
    now: () => new Date(time),
    after(ms, run) {
      pauses.push(ms);
      time += ms;
      queueMicrotask(() => void run());
      return () => {};
    },
  };
  return { scheduler, pauses, elapsed: () => time };
}

const outbox = { entriesFor: () => [], written: () => {} };
const comment = (t: typeof opened) => commands.comment(t, jane, { body: "note", visibility: "internal" }, "2026-01-01T00:00:01.000Z");

describe("a write under contention (jittered exponential backoff within a time budget)", () => {
  it("pauses before each retry, with a bound that doubles up to the cap, and lands once the ticket holds still", async () => {
    const { store, counts } = contendedStore(6);
    const clock = virtualClock();
    const writer = new TicketWriter({ store, outbox, scheduler: clock.scheduler, random: () => 0.999 });
    const result = await writer.update(jane, "t1", { requestId: "r" }, comment);
    expect(result.entries).toHaveLength(1);
    expect(counts.commits).toBe(7);
    const { baseMs, capMs } = CONTENTION_BACKOFF;
    expect(clock.pauses).toHaveLength(6);
    clock.pauses.forEach((ms, i) => {
      const bound = Math.min(capMs, baseMs * 2 ** i);
      expect(ms).toBeLessThan(bound);
      expect(ms).toBeGreaterThan(bound * 0.99);
    });
  });

  it("draws each pause from the jitter, not a fixed schedule", async () => {
    const draws = [0.1, 0.9, 0.5];
    const { store } = contendedStore(3);
    const clock = virtualClock();
    const writer = new TicketWriter({ store, outbox, scheduler: clock.scheduler, random: () => draws.shift()! });
    await writer.update(jane, "t1", { requestId: "r" }, comment);
    const { baseMs } = CONTENTION_BACKOFF;
    expect(clock.pauses).toEqual([0.1 * baseMs, 0.9 * baseMs * 2, 0.5 * baseMs * 4]);
  });

  it("keeps trying for the whole budget, then answers 503 with Retry-After, never pausing past it", async () => {
    const { store, counts } = contendedStore(Infinity);
    const clock = virtualClock();
    const writer = new TicketWriter({ store, outbox, scheduler: clock.scheduler, random: () => 0.999 });
    const failure = await writer.update(jane, "t1", { requestId: "r" }, comment).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Failure);
    expect(failure).toMatchObject({ kind: "unavailable", retryAfter: 1 });
    expect((failure as Failure).message).toMatch(/changing too fast/);
    const { budgetMs, capMs } = CONTENTION_BACKOFF;
    expect(clock.elapsed()).toBeLessThanOrEqual(budgetMs);
    expect(clock.elapsed()).toBeGreaterThan(budgetMs - capMs);
    // Far more than the eight immediate attempts of old, each after a pause.
    expect(counts.commits).toBeGreaterThan(8);
    expect(clock.pauses).toHaveLength(counts.commits - 1);
  });
});

describe("the SLA policy a write is judged by", () => {
  it("is never older than the one the ticket follows: a kept older one is read afresh first", async () => {
    const follows = { ...opened, sla: startClocks({ ...DEFAULT_SLA_POLICY, version: 2 }, "normal", opened.createdAt) };
    const store = {
      get: async () => ({ ticket: follows, etag: "e0", salt: "salt" }),
      commit: async (_etag: string, next: Omit<StoredTicket, "etag">) => ({ ...next, etag: "e1" }),
    } as unknown as TicketStore;
    const asked: number[] = [];
    const slaPolicy = async (atLeast: number) => (asked.push(atLeast), { ...DEFAULT_SLA_POLICY, version: Math.max(atLeast, 1) });
    const writer = new TicketWriter({ store, outbox, slaPolicy });
    const result = await writer.update(jane, "t1", { requestId: "r" }, comment);
    expect(asked).toEqual([2]);
    expect(result.ticket.sla!.policyVersion).toBe(2);
  });
});
