import { describe, expect, it } from "vitest";
import { moveClocks, slaViewOf, startClocks } from "../../shared/sla/domain/clock.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../shared/sla/domain/policy.js";
import { cachedPolicy, POLICY_KEPT_MS } from "../../shared/sla/policy-source.js";
import type { SlaPolicyStore } from "../../shared/sla/ports.js";

/** The policy a change is judged by, kept a few seconds per instance (policy-source.ts), and the agents' view of the clocks. */
describe("the SLA policy as a change reads it", () => {
  it("is read once per few seconds, the defaults while none is stored; past that time it is read again while changes go on", async () => {
    let t = 0;
    let reads = 0;
    let stored: SlaPolicy | null = null;
    let failing = false;
    const store: SlaPolicyStore = {
      get: async () => {
        reads++;
        if (failing) throw new Error("store down");
        return stored ? { policy: stored, etag: "e" } : null;
      },
      put: async () => {},
    };
    const policy = cachedPolicy(store, { now: () => new Date(t) });
    expect(await policy()).toBe(DEFAULT_SLA_POLICY);
    expect(await policy()).toBe(DEFAULT_SLA_POLICY);
    expect(reads).toBe(1);
    stored = { ...DEFAULT_SLA_POLICY, version: 1 };
    t += POLICY_KEPT_MS - 1;
    expect((await policy()).version).toBe(0);
    t += 1;
    // Past its time: this change still takes the kept one; the next, the one read meanwhile.
    expect((await policy()).version).toBe(0);
    await Promise.resolve();
    expect((await policy()).version).toBe(1);
    expect(reads).toBe(2);
    // A read that fails keeps the last one, and the next change reads again.
    failing = true;
    t += POLICY_KEPT_MS;
    expect((await policy()).version).toBe(1);
    await new Promise((r) => setImmediate(r));
    failing = false;
    stored = { ...DEFAULT_SLA_POLICY, version: 2 };
    expect((await policy()).version).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect((await policy()).version).toBe(2);
    expect(reads).toBe(4);
  });

  it("is read afresh when a ticket follows a newer version than the one kept (another instance stored it)", async () => {
    let reads = 0;
    const store: SlaPolicyStore = {
      get: async () => (reads++, { policy: { ...DEFAULT_SLA_POLICY, version: 2 }, etag: "e" }),
      put: async () => {},
    };
    const policy = cachedPolicy(store, { now: () => new Date(0) });
    policy.replaced({ ...DEFAULT_SLA_POLICY, version: 1 });
    expect((await policy(1)).version).toBe(1);
    expect(reads).toBe(0);
    expect((await policy(2)).version).toBe(2);
    expect(reads).toBe(1);
  });

  it("for a ticket following a newer version, does not take a read that began before that version was stored", async () => {
    let t = 0;
    let stored: SlaPolicy | null = null;
    const answers: (() => void)[] = [];
    const store: SlaPolicyStore = {
      // Each read answers what was stored when it began, when the test lets it.
      get: () => {
        const then = stored;
        return new Promise((resolve) => answers.push(() => resolve(then ? { policy: then, etag: "e" } : null)));
      },
      put: async () => {},
    };
    const policy = cachedPolicy(store, { now: () => new Date(t) });
    const first = policy();
    answers.shift()!();
    expect((await first).version).toBe(0);
    t += POLICY_KEPT_MS;
    expect((await policy()).version).toBe(0); // kept; a read begins, and will find v0
    stored = { ...DEFAULT_SLA_POLICY, version: 1 }; // another instance stores v1, and a ticket follows it
    const forTicket = policy(1);
    answers.shift()!(); // the read begun before v1 was stored
    await new Promise((r) => setImmediate(r));
    answers.shift()!(); // the one begun for the ticket
    expect((await forTicket).version).toBe(1);
  });

  it("waits for the store only at an instance's first change, which fails if the store does", async () => {
    const store: SlaPolicyStore = { get: () => Promise.reject(new Error("store down")), put: async () => {} };
    await expect(cachedPolicy(store, { now: () => new Date(0) })()).rejects.toThrow("store down");
  });

  it("follows a replacement this instance made at once, and a read that was under way does not undo it", async () => {
    let release: (v: { policy: SlaPolicy; etag: string }) => void = () => {};
    let t = 0;
    const store: SlaPolicyStore = {
      get: () => new Promise((resolve) => (release = resolve)),
      put: async () => {},
    };
    const policy = cachedPolicy(store, { now: () => new Date(t) });
    const first = policy();
    release({ policy: { ...DEFAULT_SLA_POLICY, version: 1 }, etag: "e" });
    expect((await first).version).toBe(1);
    t += POLICY_KEPT_MS;
    expect((await policy()).version).toBe(1); // a read starts
    policy.replaced({ ...DEFAULT_SLA_POLICY, version: 2 });
    release({ policy: { ...DEFAULT_SLA_POLICY, version: 1 }, etag: "e" });
    await new Promise((r) => setImmediate(r));
    expect((await policy()).version).toBe(2);
  });

  it("shows agents each target's state without the clock's bookkeeping", () => {
    const c = startClocks(DEFAULT_SLA_POLICY, "emergency", "2026-12-07T09:00:00.000Z");
    const warned = moveClocks(c, { kind: "timer" }, "2026-12-07T09:10:00.000Z", DEFAULT_SLA_POLICY).clocks;
    expect(slaViewOf(warned)).toEqual({
      policyVersion: 0,
      firstResponse: {
        status: "running",
        dueAt: "2026-12-07T09:15:00.000Z",
        warnAt: "2026-12-07T09:10:00.000Z",
        achievedAt: null,
        breachedAt: null,
      },
      resolution: {
        status: "running",
        dueAt: "2026-12-07T13:00:00.000Z",
        warnAt: "2026-12-07T12:30:00.000Z",
        achievedAt: null,
        breachedAt: null,
      },
    });
  });
});
