import { describe, expect, it } from "vitest";
import type { Principal } from "../../shared/kernel/principal.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../shared/sla/domain/policy.js";
import { timersToSet } from "../../shared/sla/domain/timers.js";
import { timerEntries } from "../../shared/sla/timer-outbox.js";
import type { Change } from "../../shared/tickets/domain/change.js";
import { comment, move, openTicket, recordDelivery, triage } from "../../shared/tickets/domain/commands.js";
import type { Ticket } from "../../shared/tickets/domain/model.js";
import { slaTimer, withSla } from "../../shared/tickets/domain/sla.js";

/**
 * The clocks as the ticket's changes move them (tickets/domain/sla.ts): what withSla adds to a
 * command's change (entries, timers, events), and what a timer does. The clocks' own rules are
 * test/unit/sla-clock.test.ts; over HTTP on the real clock, test/e2e/sla-clocks.test.ts.
 */
const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };

const MINUTE = 60_000;
const around = {
  clock: "always" as const,
  firstResponse: { minutes: 10, warnBeforeMinutes: 2 },
  resolution: { minutes: 60, warnBeforeMinutes: 0 },
};
const POLICY: SlaPolicy = { ...DEFAULT_SLA_POLICY, version: 3, targets: { emergency: around, high: around, normal: around, low: around } };
const T0 = Date.parse("2026-03-02T10:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

/** A ticket as the writer stores it: the command's change, with the clocks moved by it. */
const apply = (before: Ticket | null, change: Change) => withSla(before, change, POLICY);
const opened = (priority: "normal" | "emergency" = "normal") =>
  apply(null, openTicket({ subject: "Printer", description: "Jams", priority }, priority === "emergency" ? jane : karen, ids, at(0)));
const ids = { id: "t1", number: "10000001", requesterId: () => "karen" };

describe("the clocks a ticket's changes move", () => {
  it("start at intake, under the policy in force, and set each target's first timer", () => {
    const change = opened();
    expect(change.ticket.sla).toMatchObject({
      policyVersion: 3,
      firstResponse: { status: "running", dueAt: at(10), warnAt: at(8) },
      resolution: { status: "running", dueAt: at(60), warnAt: null },
    });
    // One timer per ticket, at the clocks' next instant: the first response's warning.
    expect(change.timers).toEqual([{ scheduledFor: at(8) }]);
    expect(change.entries.map((e) => e.type)).toEqual(["opened"]);
  });

  it("an agent's public reply achieves the first response, recorded after the reply by the SLA clock; an internal note does not", () => {
    const ticket = opened().ticket;
    const note = apply(ticket, comment(ticket, jane, { body: "Looking", visibility: "internal" }, at(1)));
    expect(note.entries.map((e) => e.type)).toEqual(["comment"]);
    expect(note.ticket.sla!.firstResponse.status).toBe("running");
    expect(note.timers).toBeUndefined();

    const reply = apply(note.ticket, comment(note.ticket, jane, { body: "On it", visibility: "public" }, at(2)));
    expect(reply.entries.map((e) => [e.seq, e.type, e.visibility, e.actor.name])).toEqual([
      [3, "comment", "public", "Jane Doe"],
      [4, "sla_achieved", "internal", "SLA clock"],
    ]);
    expect(reply.entries[1]!.data).toEqual({ target: "firstResponse", dueAt: at(10), cycle: 1, policyVersion: 3 });
    // The clock's entry is a version more, not another change a person made.
    expect(reply.ticket).toMatchObject({ version: 4, revision: note.ticket.revision + 1 });
    expect(reply.ticket.sla!.firstResponse).toMatchObject({ status: "achieved", achievedAt: at(2) });
    expect(reply.events).toEqual([]);
  });

  it("a requester's reply is no response, and the system's own bookkeeping moves no clock", () => {
    const ticket = opened().ticket;
    const own = apply(ticket, comment(ticket, karen, { body: "Any news?", visibility: "public" }, at(1)));
    expect(own.ticket.sla!.firstResponse.status).toBe("running");
    const delivery = recordDelivery(own.ticket, { channel: "webhook", event: "triggered", page: 1, messageId: "m" }, at(30));
    expect(apply(own.ticket, delivery)).toBe(delivery);
  });

  it("a priority change re-targets from intake; a change after the due time breaches at the due time, late timer or not", () => {
    const ticket = opened().ticket;
    const late = apply(ticket, triage(ticket, jane, { category: "printers" }, at(11)));
    expect(late.entries.map((e) => e.type)).toEqual(["category_changed", "sla_breached"]);
    expect(late.ticket.sla!.firstResponse).toMatchObject({ status: "breached", breachedAt: at(10) });
    // Not business-impacting: a notice to the webhook, no page.
    expect(late.events.map((e) => e.type)).toEqual(["sla.breached"]);
  });

  it("the timer records what is due by its time, once, and sets the next; one that comes early or stale does nothing", () => {
    const ticket = opened().ticket;
    const warned = slaTimer(ticket, POLICY, at(8));
    expect(warned.entries.map((e) => [e.type, e.actor.name])).toEqual([["sla_warning", "SLA clock"]]);
    expect(warned.events.map((e) => e.type)).toEqual(["sla.warning"]);
    // The next instant: the first response's due time.
    expect(warned.timers).toEqual([{ scheduledFor: at(10) }]);
    // Again (a redelivery): nothing.
    expect(slaTimer(warned.ticket, POLICY, at(8)).entries).toEqual([]);
    // Before anything is due: nothing.
    expect(slaTimer(ticket, POLICY, at(7)).entries).toEqual([]);
    const breached = slaTimer(warned.ticket, POLICY, at(10));
    expect(breached.entries.map((e) => e.type)).toEqual(["sla_breached"]);
    // The resolution's due time next (it has no warning).
    expect(breached.timers).toEqual([{ scheduledFor: at(60) }]);
    // Late, after both instants: the warning and the breach at once, each at its time.
    expect(slaTimer(ticket, POLICY, at(12)).entries.map((e) => e.type)).toEqual(["sla_breached"]);
  });

  it("a breach on a business-impacting ticket pages ops; one on another ticket is a notice", () => {
    const emergency = slaTimer(opened("emergency").ticket, POLICY, at(10));
    expect(emergency.events.map((e) => [e.type, e.entry.type])).toEqual([["escalation.sla_breached", "sla_breached"]]);
    expect(slaTimer(opened().ticket, POLICY, at(10)).events.map((e) => e.type)).toEqual(["sla.breached"]);
  });

  it("on hold sets no resolution timer; resuming sets it again, moved by the pause", () => {
    const opening = opened().ticket;
    const { ticket } = apply(opening, comment(opening, jane, { body: "On it", visibility: "public" }, at(2)));
    const held = apply(ticket, move(ticket, jane, { status: "on_hold" }, at(5)));
    expect(held.ticket.sla!.resolution.status).toBe("paused");
    // The first response achieved, the resolution paused: nothing runs, no timer.
    expect(held.timers).toBeUndefined();
    const resumed = apply(held.ticket, move(held.ticket, jane, { status: "in_progress" }, at(20)));
    expect(resumed.ticket.sla!.resolution).toMatchObject({ status: "running", dueAt: at(75) });
    expect(resumed.timers).toEqual([{ scheduledFor: at(75) }]);
  });

  it("a ticket stored before the clocks existed starts them at its next change, from then", () => {
    const { sla: _none, ...untimed } = opened().ticket;
    const next = apply(untimed, triage(untimed, jane, { category: "printers" }, at(30)));
    expect(next.ticket.sla).toMatchObject({ firstResponse: { status: "running", dueAt: at(40) }, resolution: { dueAt: at(90) } });
    expect(next.timers).toEqual([{ scheduledFor: at(38) }]);
  });

  it("sets no timer where nothing moved, unless its instant passed with nothing recorded (its timer late or lost)", () => {
    const { ticket } = opened();
    expect(timersToSet(ticket.sla, ticket.sla!, at(1))).toEqual([]);
    // The warning at 8 min was not given (its timer dead-lettered): a change at 9 min arms it again.
    const note = apply(ticket, comment(ticket, jane, { body: "Looking", visibility: "internal" }, at(9)));
    expect(note.timers).toEqual([{ scheduledFor: at(8) }]);
    expect(slaTimer(note.ticket, POLICY, at(9)).entries.map((e) => e.type)).toEqual(["sla_warning"]);
  });

  it("a breach a resolve or a lowering catches late pages ops if the ticket was business-impacting when it came due", () => {
    const { ticket } = opened("emergency");
    const resolved = apply(ticket, move(ticket, jane, { status: "resolved", resolution: "fixed" }, at(11)));
    expect(resolved.events.map((e) => e.type)).toEqual(["escalation.resolved", "escalation.sla_breached"]);
    const lowered = apply(ticket, triage(ticket, jane, { priority: "normal" }, at(11)));
    expect(lowered.events.map((e) => e.type)).toContain("escalation.sla_breached");
  });

  it("the same instant set again by a later change is a timer of its own (the queue must not drop it as a repeat)", () => {
    // Low answered within the hour: lowered, the timer at 8 min finds nothing due when it comes.
    const slower: SlaPolicy = {
      ...POLICY,
      targets: { ...POLICY.targets, low: { ...around, firstResponse: { minutes: 60, warnBeforeMinutes: 2 } } },
    };
    const { ticket } = opened();
    const lowered = withSla(ticket, triage(ticket, jane, { priority: "low" }, at(1)), slower);
    const raised = withSla(lowered.ticket, triage(lowered.ticket, jane, { priority: "normal" }, at(9)), slower);
    expect(raised.timers).toEqual(opened().timers);
    const ids = (c: Change) => timerEntries(c, "r").map((e) => e.messageId);
    expect(ids(raised).filter((id) => ids(opened()).includes(id))).toEqual([]);
  });
});
