import { describe, expect, it } from "vitest";
import { escalationEntries } from "../../shared/escalation/outbox.js";
import type { Change } from "../../shared/tickets/domain/change.js";
import { acknowledge, comment, escalate, move, openTicket, recordDelivery, triage } from "../../shared/tickets/domain/commands.js";
import { EscalateInput } from "../../shared/tickets/domain/inputs.js";
import { Failure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";

const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const ken: Principal = { id: "ken", name: "Ken Ken", email: "ken@example.com", role: "requester" };
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

  it("resolving or closing resolves it; an agent's reopen while still worthy triggers a new cycle", () => {
    const up = triage(opened().ticket, qa, { severity: "SEV-A" }, now());
    const closed = move(up.ticket, jane, { status: "closed", resolution: "fixed" }, now());
    expect(types(closed)).toEqual(["status_changed", "escalation_resolved"]);
    const reopened = move(closed.ticket, jane, { status: "open", reason: "it is down again" }, now());
    expect(types(reopened)).toEqual(["status_changed", "escalation_triggered"]);
    expect(reopened.ticket.escalation).toMatchObject({ state: "triggered" });
    expect(reopened.ticket.escalation.cycle).toBeGreaterThan(up.ticket.escalation.cycle);
    expect(escalationEntries(reopened, "r")[0]!.body.facts).toMatchObject({ reason: "severity SEV-A: it is down again" });
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
    // The facts, whole: nothing of what the requester wrote or is called.
    expect(Object.keys((entry!.body as { facts: object }).facts).sort()).toEqual(
      ["actor", "assignee", "linkedReports", "occurredAt", "priority", "reason", "severity", "status", "ticketId", "ticketNumber"].sort(),
    );
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

/** Karen's ticket, raised to emergency by triage: escalation triggered. */
const emergency = () => triage(opened().ticket, qa, { priority: "emergency", reason: "business-impacting" }, now()).ticket;
const events = (c: Change) => c.events.map((e) => e.type);
const factsOf = (c: Change) => escalationEntries(c, "r").map((e) => (e.body as { facts: { reason: string } }).facts);

describe("a requester's changes never page ops", () => {
  it("the owner closing and reopening an emergency in a loop resolves it once and never triggers it again", () => {
    let ticket = emergency();
    const seen: string[] = [];
    for (let loop = 0; loop < 5; loop++) {
      const closed = move(ticket, karen, { status: "closed", resolution: "works for me", reason: "closing" }, now());
      const reopened = move(closed.ticket, karen, { status: "open", reason: "PAGE EVERYONE NOW" }, now());
      seen.push(...events(closed), ...events(reopened));
      ticket = reopened.ticket;
    }
    expect(seen).toEqual(["escalation.resolved"]);
    // Back in the queue as it was: open, still an emergency (ranked first), its escalation left resolved for an agent to raise.
    expect(ticket).toMatchObject({ status: "open", priority: "emergency", resolution: null, closedAt: null });
    expect(ticket.escalation.state).toBe("resolved");
  });

  it("the owner's reply that reopens a resolved emergency does not trigger it", () => {
    const resolved = move(emergency(), jane, { status: "resolved", resolution: "restarted the gateway" }, now());
    expect(events(resolved)).toEqual(["escalation.resolved"]);
    const replied = comment(resolved.ticket, karen, { body: "Still down! Call the CEO.", visibility: "public" }, now());
    expect(types(replied)).toEqual(["comment", "status_changed"]);
    expect(replied.ticket.status).toBe("open");
    expect(replied.events).toEqual([]);
  });

  it("a requester's reason or resolution never reaches the alert; the cause does", () => {
    const closed = move(emergency(), karen, { status: "closed", resolution: "my secret resolution", reason: "my own reason" }, now());
    expect(factsOf(closed)).toEqual([
      expect.objectContaining({ reason: "ticket closed", actor: { name: "the requester", role: "requester" } }),
    ]);
    expect(JSON.stringify(escalationEntries(closed, "r"))).not.toMatch(/my secret resolution|my own reason/);
    // Nor would an entry that held one: the alert quotes only an agent's words.
    const entry = closed.entries.find((e) => e.type === "escalation_resolved")!;
    const forged = {
      ...closed,
      events: [{ type: "escalation.resolved" as const, entry: { ...entry, data: { ...entry.data, reason: "injected" } } }],
    };
    expect(factsOf(forged)[0]!.reason).toBe("ticket closed");
  });

  it("after the owner's reopen, an agent raises it again by triage to emergency or SEV-A; other work does not page", () => {
    const closed = move(emergency(), karen, { status: "closed", resolution: "fine now" }, now());
    const reopened = move(closed.ticket, karen, { status: "open" }, now()).ticket;
    expect(events(triage(reopened, jane, { category: "mobile" }, now()))).toEqual([]);
    expect(events(move(reopened, jane, { status: "in_progress" }, now()))).toEqual([]);
    expect(events(comment(reopened, jane, { body: "looking", visibility: "internal" }, now()))).toEqual([]);
    const raised = triage(reopened, jane, { severity: "SEV-A", reason: "down for every user" }, now());
    expect(types(raised)).toEqual(["severity_changed", "escalation_triggered"]);
    expect(raised.ticket.escalation.state).toBe("triggered");
    expect(factsOf(raised)[0]!.reason).toBe("priority emergency and severity SEV-A: down for every user");
    // Lowered, then set to emergency again: a triage that makes it worthy.
    const lowered = triage(reopened, jane, { priority: "high" }, now());
    expect(events(lowered)).toEqual([]); // nothing open to resolve
    expect(events(triage(lowered.ticket, jane, { priority: "emergency" }, now()))).toEqual(["escalation.triggered"]);
    // Restating emergency on the reopened emergency raises it again, with the agent's reason.
    const restated = triage(reopened, jane, { priority: "emergency", reason: "still down" }, now());
    expect(types(restated)).toEqual(["escalation_triggered"]);
    expect(factsOf(restated)[0]!.reason).toBe("raised by hand (priority emergency): still down");
    // Restating it while an escalation is open changes nothing.
    expect(types(triage(restated.ticket, jane, { priority: "emergency" }, now()))).toEqual([]);
  });
});

describe("escalation by hand", () => {
  const why = { reason: "Payments failing in two regions" };

  it("an agent pages ops for an emergency its owner reopened, with their reason", () => {
    const closed = move(emergency(), karen, { status: "closed", resolution: "fine now" }, now());
    const reopened = move(closed.ticket, karen, { status: "open", reason: "requester words" }, now()).ticket;
    const c = escalate(reopened, jane, why, now());
    expect(types(c)).toEqual(["escalation_triggered"]);
    expect(c.entries[0]).toMatchObject({ visibility: "internal", actor: { name: "Jane Doe" } });
    expect(c.ticket.escalation).toMatchObject({ state: "triggered", pages: 0, acknowledgedAt: null, cycle: c.entries[0]!.seq });
    const [message, ...rest] = escalationEntries(c, "req-9");
    expect(rest).toEqual([]);
    expect(message).toMatchObject({
      subject: "escalation.triggered",
      body: {
        event: "triggered",
        cycle: c.entries[0]!.seq,
        facts: {
          actor: { name: "Jane Doe", role: "agent" },
          reason: "raised by hand (priority emergency): Payments failing in two regions",
        },
      },
    });
    expect(JSON.stringify(message)).not.toContain("requester words");
  });

  it("pages for a ticket that is not escalation-worthy too; resolving the ticket resolves it, lowering it does not", () => {
    const t0 = opened().ticket;
    const c = escalate(t0, qa, why, now());
    expect(c.entries[0]!.data).toMatchObject({ cause: "raised by hand", reason: why.reason });
    expect(events(triage(c.ticket, qa, { priority: "low" }, now()))).toEqual([]);
    const done = move(c.ticket, jane, { status: "resolved", resolution: "rerouted payments" }, now());
    expect(events(done)).toEqual(["escalation.resolved"]);
    expect(done.ticket.escalation.state).toBe("resolved");
  });

  it("is refused while an escalation is open (409), on a resolved or closed ticket (409), to requesters (403 or 404)", () => {
    const up = emergency();
    expect(kind(() => escalate(up, jane, why, now()))).toBe("conflict");
    expect(kind(() => escalate(acknowledge(up, jane, now()).ticket, jane, why, now()))).toBe("conflict");
    const closed = move(opened().ticket, jane, { status: "closed", resolution: "done" }, now()).ticket;
    expect(kind(() => escalate(closed, jane, why, now()))).toBe("conflict");
    const t0 = opened().ticket;
    expect(kind(() => escalate(t0, karen, why, now()))).toBe("forbidden");
    expect(kind(() => escalate(t0, ken, why, now()))).toBe("not_found");
    expect(kind(() => escalate(t0, jane, why, now()))).toBe("ok");
  });

  it("needs a reason: 1 to 2000 characters once trimmed, nothing else", () => {
    expect(EscalateInput.safeParse({}).success).toBe(false);
    expect(EscalateInput.safeParse({ reason: "   " }).success).toBe(false);
    expect(EscalateInput.safeParse({ reason: "x".repeat(2001) }).success).toBe(false);
    expect(EscalateInput.safeParse({ reason: "down", priority: "emergency" }).success).toBe(false);
    expect(EscalateInput.parse({ reason: `  ${"x".repeat(2000)}  ` }).reason).toHaveLength(2000);
  });
});
