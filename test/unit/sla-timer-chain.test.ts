import { describe, expect, it } from "vitest";
import { Failure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../shared/sla/domain/policy.js";
import { nextInstantOf } from "../../shared/sla/domain/timers.js";
import type { Change } from "../../shared/tickets/domain/change.js";
import { comment, move, openTicket, triage } from "../../shared/tickets/domain/commands.js";
import type { Ticket } from "../../shared/tickets/domain/model.js";
import { slaTimer, withSla } from "../../shared/tickets/domain/sla.js";

/**
 * The one-timer chain (sla/domain/timers.ts), as a property: over random histories of a
 * ticket (replies, notes, the requester's replies, priority and status changes, a policy
 * replaced, timers on time or late), a timer is outstanding at the clocks' next instant after
 * every step, so no ticket's warning or breach waits for a person to touch it. Seeded: the same
 * histories every run.
 */
const karen: Principal = { id: "karen", name: "Karen", email: "karen@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane", email: "jane@example.com", role: "agent" };
const MINUTE = 60_000;
const T0 = Date.parse("2026-03-02T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const targets = (fr: number, frWarn: number, res: number, resWarn: number) => ({
  clock: "always" as const,
  firstResponse: { minutes: fr, warnBeforeMinutes: frWarn },
  resolution: { minutes: res, warnBeforeMinutes: resWarn },
});
const V1: SlaPolicy = {
  ...DEFAULT_SLA_POLICY,
  version: 1,
  targets: { emergency: targets(4, 2, 8, 4), high: targets(6, 2, 10, 4), normal: targets(10, 2, 20, 5), low: targets(10, 4, 30, 10) },
};
const V2: SlaPolicy = {
  ...DEFAULT_SLA_POLICY,
  version: 2,
  targets: { emergency: targets(5, 1, 8, 3), high: targets(6, 3, 12, 6), normal: targets(12, 2, 12, 2), low: targets(8, 4, 30, 5) },
};

/** A small linear congruential generator: deterministic histories. */
const random = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

/** One history; the step at which no timer was outstanding at the next instant, or null. */
function history(seed: number, steps: number): string | null {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  let policy = V1;
  let t = T0;
  const timers: number[] = [];
  const keep = (c: Change) => timers.push(...(c.timers ?? []).map((x) => Date.parse(x.scheduledFor)));
  const open = withSla(
    null,
    openTicket({ subject: "s", description: "d", priority: "normal" }, jane, { id: "t", number: "1", requesterId: () => "karen" }, iso(t)),
    policy,
  );
  let ticket: Ticket = open.ticket;
  keep(open);
  for (let step = 0; step < steps; step++) {
    const dt = Math.floor(r() * 4) * MINUTE;
    const earliest = Math.min(...timers);
    if (timers.length && earliest <= t + dt) {
      // The earliest timer comes, on time or up to 2 minutes late.
      timers.splice(timers.indexOf(earliest), 1);
      t = Math.max(t, earliest + (r() < 0.3 ? Math.floor(r() * 3) * MINUTE : 0));
      const c = slaTimer(ticket, policy, iso(t));
      if (c.entries.length) {
        ticket = c.ticket;
        keep(c);
      }
    } else {
      t += dt;
      if (r() < 0.05) policy = V2;
      const act = pick([
        (x: Ticket) => comment(x, jane, { body: "b", visibility: "public" }, iso(t)),
        (x: Ticket) => comment(x, jane, { body: "b", visibility: "internal" }, iso(t)),
        (x: Ticket) => comment(x, karen, { body: "b", visibility: "public" }, iso(t)),
        (x: Ticket) => triage(x, jane, { priority: pick(["emergency", "high", "normal", "low"] as const) }, iso(t)),
        (x: Ticket) => triage(x, jane, { category: `c${step}` }, iso(t)),
        (x: Ticket) =>
          move(x, jane, { status: pick(["open", "in_progress", "on_hold", "resolved", "closed"] as const), resolution: "r" }, iso(t)),
      ]);
      let c: Change;
      try {
        c = withSla(ticket, act(ticket), policy);
      } catch (e) {
        if (e instanceof Failure) continue; // a move the lifecycle refuses
        throw e;
      }
      if (c.entries.length === 0) continue;
      ticket = c.ticket;
      keep(c);
    }
    const next = nextInstantOf(ticket.sla);
    if (next !== null && !timers.includes(next))
      return `seed ${seed}, step ${step}: next instant ${iso(next)}, timers ${timers.map(iso).join(", ")}`;
  }
  return null;
}

describe("the SLA timer chain", () => {
  it("always has a timer outstanding at the clocks' next instant, over 2,000 random histories", () => {
    const lost = Array.from({ length: 2000 }, (_, i) => history(i + 1, 60)).filter((x) => x !== null);
    expect(lost).toEqual([]);
  });
});
