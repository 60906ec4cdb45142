import { describe, expect, it } from "vitest";
import { EscalationMessage } from "../../shared/escalation/domain/messages.js";
import { escalationEntries } from "../../shared/escalation/outbox.js";
import type { Principal } from "../../shared/kernel/principal.js";
import { DEFAULT_SLA_POLICY } from "../../shared/sla/domain/policy.js";
import type { Change } from "../../shared/tickets/domain/change.js";
import { openTicket, triage } from "../../shared/tickets/domain/commands.js";
import type { Ticket } from "../../shared/tickets/domain/model.js";
import { slaTimer, withSla } from "../../shared/tickets/domain/sla.js";

/**
 * The outbox entries of the SLA's events: what the writer stores with the change, and the
 * notifier reads off the `escalations` queue. The clocks are moved as the writer moves them
 * (withSla, slaTimer), with the default policy.
 */
const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const qa: Principal = { id: "qa", name: "Quinn QA", email: "qa@example.com", role: "agent" };
const ids = { id: "t1", number: "10000001", requesterId: (e: string) => e };
// A Monday, in the default calendar's working hours.
const OPENED = "2026-01-05T10:00:00.000Z";
const policy = DEFAULT_SLA_POLICY;

function opened(caller: Principal, priority: "normal" | "emergency"): Ticket {
  const change = openTicket({ subject: "Mobile banking is down", description: "My card PIN is 1234", priority }, caller, ids, OPENED);
  return withSla(null, change, policy).ticket;
}

/** The ticket's timer, come at the instant a target's warning or breach is due. */
function timerOf(ticket: Ticket, target: "firstResponse" | "resolution", timer: "warning" | "breach"): Change {
  const clock = ticket.sla![target];
  return slaTimer(ticket, policy, timer === "warning" ? clock.warnAt! : clock.dueAt);
}

const bodyOf = (entry: { body: unknown }) => EscalationMessage.parse(entry.body);

describe("the SLA's events on the escalations queue", () => {
  it("a warning is a notice, sla.warning, told by the SLA clock: which target, due when", () => {
    const ticket = opened(karen, "normal");
    const change = timerOf(ticket, "firstResponse", "warning");
    const [entry, ...rest] = escalationEntries(change, "req-1");
    expect(rest).toEqual([]);
    const warned = change.entries.find((e) => e.type === "sla_warning")!;
    expect(entry).toMatchObject({
      id: `outbox-${warned.seq}`,
      ticketId: "t1",
      queue: "escalations",
      messageId: `t1.${warned.seq}`,
      subject: "sla.warning",
      correlationId: "req-1",
      createdAt: warned.at,
    });
    const dueAt = ticket.sla!.firstResponse.dueAt;
    expect(bodyOf(entry!)).toMatchObject({
      version: 1,
      event: "sla.warning",
      ticketId: "t1",
      page: 1,
      facts: {
        ticketNumber: "10000001",
        priority: "normal",
        actor: { name: "SLA clock", role: "system" },
        reason: `SLA first response warning (due ${dueAt})`,
        occurredAt: warned.at,
        sla: { target: "firstResponse", dueAt },
      },
    });
  });

  it("a breach on a ticket that is not business-impacting is a notice, sla.breached, one per target breached", () => {
    const ticket = opened(karen, "normal");
    // The resolution's timer finds the first response past due too (nobody answered): both breach.
    const change = timerOf(ticket, "resolution", "breach");
    const entries = escalationEntries(change, "req-2");
    expect(entries.map((e) => [e.subject, bodyOf(e).event, bodyOf(e).facts.sla?.target])).toEqual([
      ["sla.breached", "sla.breached", "firstResponse"],
      ["sla.breached", "sla.breached", "resolution"],
    ]);
    expect(new Set(entries.map((e) => e.messageId)).size).toBe(2);
    const dueAt = ticket.sla!.resolution.dueAt;
    expect(bodyOf(entries[1]!).facts).toMatchObject({
      reason: `SLA resolution breached (due ${dueAt})`,
      sla: { target: "resolution", dueAt },
    });
  });

  it("a breach on an emergency is a page, sla_breached, with the ticket's escalation cycle", () => {
    const ticket = opened(qa, "emergency");
    expect(ticket.escalation.state).toBe("triggered");
    const change = timerOf(ticket, "firstResponse", "breach");
    const [entry, ...rest] = escalationEntries(change, "req-3");
    expect(rest).toEqual([]);
    const breached = change.entries.find((e) => e.type === "sla_breached")!;
    expect(entry).toMatchObject({ messageId: `t1.${breached.seq}`, subject: "escalation.sla_breached" });
    expect(bodyOf(entry!)).toMatchObject({
      event: "sla_breached",
      cycle: ticket.escalation.cycle,
      page: 1,
      facts: {
        priority: "emergency",
        actor: { name: "SLA clock", role: "system" },
        reason: `SLA first response breached (due ${ticket.sla!.firstResponse.dueAt})`,
      },
    });
  });

  it("one change with an escalation and a breach: two messages, each its own id", () => {
    // Raised to emergency 20 minutes in: the first response, re-targeted from intake, was due 5 minutes ago.
    const ticket = opened(karen, "normal");
    const raised = triage(ticket, qa, { priority: "emergency", reason: "all branches" }, "2026-01-05T10:20:00.000Z");
    const change = withSla(ticket, raised, policy);
    expect(change.events.map((e) => e.type)).toEqual(["escalation.triggered", "escalation.sla_breached"]);
    const entries = escalationEntries(change, "req-4");
    expect(entries.map((e) => e.subject)).toEqual(["escalation.triggered", "escalation.sla_breached"]);
    expect(new Set(entries.map((e) => e.messageId)).size).toBe(2);
    expect(new Set(entries.map((e) => e.id)).size).toBe(2);
    expect(bodyOf(entries[1]!).facts.reason).toBe("SLA first response breached (due 2026-01-05T10:15:00.000Z)");
  });

  it("says nothing the requester wrote, nor their name", () => {
    const ticket = opened(karen, "normal");
    const changes = [timerOf(ticket, "firstResponse", "warning"), timerOf(ticket, "firstResponse", "breach")];
    const text = JSON.stringify(changes.flatMap((c) => escalationEntries(c, "r")));
    expect(text).not.toMatch(/mobile banking|PIN|karen/i);
  });

  it("a timer that finds nothing to do (the target moved on) sends nothing", () => {
    const ticket = opened(karen, "normal");
    const warned = timerOf(ticket, "firstResponse", "warning").ticket;
    // The same warning again: already given.
    expect(escalationEntries(timerOf(warned, "firstResponse", "warning"), "r")).toEqual([]);
  });
});
