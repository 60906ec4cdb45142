import { describe, expect, it } from "vitest";
import { escalationEntries } from "../../shared/escalation/outbox.js";
import type { Change } from "../../shared/tickets/domain/change.js";
import { acknowledge, move, openTicket, recordDelivery, triage } from "../../shared/tickets/domain/commands.js";
import { Failure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";

const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const qa: Principal = { id: "qa", name: "Quinn QA", email: "qa@example.com", role: "agent" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const ids = { id: "t1", number: "10000001", requesterId: (e: string) => e };
let clock = 0;
const now = () => new Date(Date.UTC(2026, 0, 1) + clock++ * 1000).toISOString();

const opened = (caller = karen, extra = {}) =>
  openTicket({ subject: "Mobile banking is down", description: "all down", ...extra }, caller, ids, now());
const types = (c: Change) => c.entries.map((e) => e.type);
const kind = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as Failure).kind;
  }
};

describe("escalation policy", () => {
  it("a ticket opened as an emergency escalates at intake", () => {
    const c = opened(qa, { priority: "emergency" });
    expect(c.ticket.escalation).toMatchObject({ state: "triggered", pages: 0, cycle: 2, acknowledgedAt: null });
    expect(types(c)).toEqual(["opened", "escalation_triggered"]);
    expect(c.entries[1]).toMatchObject({ visibility: "internal", data: { cause: "priority emergency" } });
  });

  it("a ticket at normal does not escalate", () => {
    const c = opened();
    expect(c.ticket.escalation.state).toBe("none");
    expect(escalationEntries(c, "r1")).toEqual([]);
  });

  it("triage to emergency or SEV-A triggers once; lowering below the threshold resolves", () => {
    const t0 = opened().ticket;
    const up = triage(t0, qa, { priority: "emergency", reason: "the entire mobile banking is down" }, now());
    expect(types(up)).toEqual(["priority_changed", "escalation_triggered"]);
    expect(up.ticket.escalation).toMatchObject({ state: "triggered", cycle: 3 });
    expect(up.entries[1]!.data).toMatchObject({ cause: "priority emergency", reason: "the entire mobile banking is down" });

    const both = triage(up.ticket, qa, { severity: "SEV-A" }, now());
    expect(types(both)).toEqual(["severity_changed"]); // still worthy: nothing new to page

    const down = triage(both.ticket, qa, { priority: "high", severity: "SEV-B" }, now());
    expect(types(down)).toEqual(["priority_changed", "severity_changed", "escalation_resolved"]);
    expect(down.ticket.escalation.state).toBe("resolved");
  });

  it("resolving or closing resolves it; reopening while still worthy triggers a new cycle", () => {
    const up = triage(opened().ticket, qa, { severity: "SEV-A" }, now());
    const closed = move(up.ticket, jane, { status: "closed", resolution: "fixed" }, now());
    expect(types(closed)).toEqual(["status_changed", "escalation_resolved"]);
    const reopened = move(closed.ticket, karen, { status: "open" }, now());
    expect(types(reopened)).toEqual(["status_changed", "escalation_triggered"]);
    expect(reopened.ticket.escalation.cycle).toBeGreaterThan(up.ticket.escalation.cycle);
  });

  it("an agent acknowledges a triggered escalation; nothing else can be acknowledged", () => {
    const up = triage(opened().ticket, qa, { priority: "emergency" }, now());
    expect(kind(() => acknowledge(up.ticket, karen, now()))).toBe("forbidden");
    const ack = acknowledge(up.ticket, jane, now());
    expect(ack.ticket.escalation).toMatchObject({ state: "acknowledged", acknowledgedBy: { id: "jane", name: "Jane Doe" } });
    expect(types(ack)).toEqual(["escalation_acknowledged"]);
    expect(kind(() => acknowledge(ack.ticket, jane, now()))).toBe("conflict");
    expect(kind(() => acknowledge(opened().ticket, jane, now()))).toBe("conflict");
  });

  it("each escalation event becomes one outbox entry, with who did it and why", () => {
    const up = triage(opened().ticket, qa, { priority: "emergency", reason: "business-impacting" }, now());
    const [entry, ...rest] = escalationEntries(up, "req-1");
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      id: "outbox-3",
      ticketId: "t1",
      queue: "escalations",
      messageId: "t1.3",
      subject: "escalation.triggered",
      correlationId: "req-1",
      body: {
        version: 1,
        event: "triggered",
        cycle: 3,
        page: 1,
        facts: {
          ticketNumber: "10000001",
          priority: "emergency",
          actor: { name: "Quinn QA" },
          reason: "priority emergency: business-impacting",
        },
      },
    });
    const ack = acknowledge(up.ticket, jane, now());
    expect(escalationEntries(ack, "req-2")[0]).toMatchObject({
      messageId: "t1.4",
      subject: "escalation.acknowledged",
      body: { event: "acknowledged", cycle: 3 },
    });
  });

  it("a delivered page counts toward pages; other deliveries do not", () => {
    const up = triage(opened().ticket, qa, { priority: "emergency" }, now()).ticket;
    const paged = recordDelivery(up, { channel: "webhook", event: "triggered", page: 1, messageId: "t1.3" }, now());
    expect(paged.ticket.escalation.pages).toBe(1);
    expect(paged.entries[0]).toMatchObject({ type: "escalation_notified", visibility: "internal", actor: { role: "system" } });
    const again = recordDelivery(paged.ticket, { channel: "slack", event: "triggered", page: 1, messageId: "t1.3" }, now());
    expect(again.ticket.escalation.pages).toBe(1);
    expect(
      recordDelivery(again.ticket, { channel: "slack", event: "repaged", page: 2, messageId: "x" }, now()).ticket.escalation.pages,
    ).toBe(2);
  });
});
