import { moveClocks, startClocks, type SlaClocks, type SlaEvent, type SlaOutcome } from "../../sla/domain/clock.js";
import type { SlaPolicy } from "../../sla/domain/policy.js";
import { timersToSet, type SlaTimer } from "../../sla/domain/timers.js";
import { appendSystemEntries, ChangeBuilder, type Change } from "./change.js";
import type { Actor, EntryData, Ticket, TimelineEntry } from "./model.js";

/**
 * The SLA clocks as every change moves them (issue "SLA clocks"): part of the ticket's own
 * domain, applied by the ticket writer to whatever a command decided, so that no command
 * can forget them. The clocks themselves, and what counts, are shared/sla/domain/clock.ts.
 */

export const SLA_CLOCK: Actor = { id: "system:sla", name: "SLA clock", role: "system" };

const isAgentRole = (role: Actor["role"]) => role === "agent" || role === "admin";

/**
 * What a change's entries mean to the clocks, in order: only a public reply by an agent is
 * a response (an internal note, triage or an assignment never is); anything else lets a
 * newer policy in and catches a breach whose timer is late.
 */
function slaEventsOf(entries: TimelineEntry[]): SlaEvent[] {
  const events = entries.flatMap((e): SlaEvent[] => {
    switch (e.type) {
      case "priority_changed":
        return [{ kind: "priority", priority: e.data.to }];
      case "comment":
        return e.visibility === "public" && isAgentRole(e.actor.role) ? [{ kind: "public_agent_reply" }] : [];
      case "status_changed":
        return [{ kind: "status", from: e.data.from, to: e.data.to }];
      default:
        return [];
    }
  });
  return events.length ? events : [{ kind: "other" }];
}

/**
 * The clocks of a ticket stored before they existed: started now, at its priority, since
 * nothing can be told of its past; a ticket already done has nothing left to time.
 */
function clocksOfUntimed(t: Ticket, policy: SlaPolicy, now: string): SlaClocks {
  const c = startClocks(policy, t.priority, now);
  const done = t.status === "resolved" || t.status === "closed";
  if (done) {
    const achieved = (s: SlaClocks["firstResponse"]) => ({ ...s, status: "achieved" as const, achievedAt: now });
    return { ...c, firstResponse: achieved(c.firstResponse), resolution: achieved(c.resolution) };
  }
  if (t.status === "on_hold") return { ...c, holds: [{ from: now, to: null }], resolution: { ...c.resolution, status: "paused" } };
  return c;
}

type SlaEntry = { [T in "sla_warning" | "sla_breached" | "sla_achieved"]: { type: T; data: EntryData<T> } }[
  "sla_warning" | "sla_breached" | "sla_achieved"];

const ENTRY_OF = { warned: "sla_warning", breached: "sla_breached", achieved: "sla_achieved" } as const;

/** The entries that record what the clocks did. */
const entriesOf = (outcomes: SlaOutcome[], c: SlaClocks): SlaEntry[] =>
  outcomes.map((o) => ({
    type: ENTRY_OF[o.outcome],
    data: { target: o.target, dueAt: c[o.target].dueAt, cycle: c.cycle, policyVersion: c.policyVersion },
  }));

const withTimers = (change: Change, before: SlaClocks | undefined, after: SlaClocks, now: string): Change => {
  const timers: SlaTimer[] = timersToSet(before, after, now);
  return timers.length ? { ...change, timers } : change;
};

/**
 * A person's change with the clocks moved by it: the ticket keeps its clocks, the timeline
 * records what they did (internal entries by the SLA clock), and the change sets the ticket's
 * timer if it moved the clocks' next instant (timers.ts). The clocks start at intake. The system's own changes (a delivery
 * recorded, a timer) move no clock: a timer moves its own (slaTimer).
 */
export function withSla(before: Ticket | null, change: Change, policy: SlaPolicy): Change {
  const first = change.entries[0];
  if (!first || first.actor.role === "system") return change;
  const now = first.at;
  const was = before
    ? (before.sla ?? clocksOfUntimed(before, policy, now))
    : startClocks(policy, change.ticket.priority, change.ticket.createdAt);
  let clocks = was;
  const outcomes: SlaOutcome[] = [];
  for (const event of before ? slaEventsOf(change.entries) : []) {
    const moved = moveClocks(clocks, event, now, policy);
    clocks = moved.clocks;
    outcomes.push(...moved.outcomes);
  }
  const timed = { ...change, ticket: { ...change.ticket, sla: clocks } };
  // Whether a breach pages: the ticket's impact before this change, or after it.
  const recorded = outcomes.length && before ? appendSystemEntries(timed, SLA_CLOCK, now, entriesOf(outcomes, clocks), before) : timed;
  return withTimers(recorded, before?.sla, clocks, now);
}

/** The ticket's timer came: whatever warning or breach is due by now, and the next timer; else no change. */
export function slaTimer(ticket: Ticket, policy: SlaPolicy, now: string): Change {
  const none: Change = { ticket, entries: [], events: [] };
  if (!ticket.sla) return none;
  const { clocks, outcomes } = moveClocks(ticket.sla, { kind: "timer" }, now, policy);
  if (outcomes.length === 0) return none;
  const b = new ChangeBuilder(ticket, { ...ticket, sla: clocks }, SLA_CLOCK, now);
  for (const entry of entriesOf(outcomes, clocks)) b.add(entry.type, entry.data, "internal");
  return withTimers(b.done(), ticket.sla, clocks, now);
}
