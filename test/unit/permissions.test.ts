import { describe, expect, it } from "vitest";
import { assign, comment, openTicket, triage } from "../../shared/tickets/domain/commands.js";
import { Failure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";
import { isEscalationWorthy } from "../../shared/tickets/domain/escalation.js";
import type { Ticket } from "../../shared/tickets/domain/model.js";

const now = "2026-01-02T00:00:00.000Z";
const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const ken: Principal = { id: "ken", name: "Ken Ken", email: "ken@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const ids = { id: "t1", number: "10000001", requesterId: (email: string) => `email:${email}` };

const open = (caller: Principal, extra: object = {}) =>
  openTicket({ subject: "Mobile banking down", description: "The entire mobile banking is down", ...extra }, caller, ids, now);

const failure = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof Failure) return e.kind;
    throw e;
  }
  return "ok";
};

describe("opening", () => {
  it("a requester opens at low, normal or high, for themselves", () => {
    for (const priority of ["low", "normal", "high"] as const) expect(open(karen, { priority }).ticket.priority).toBe(priority);
    expect(open(karen).ticket).toMatchObject({
      status: "open",
      priority: "normal",
      severity: null,
      requester: { id: "karen" },
      version: 1,
    });
  });

  it("emergency, severity and opening on behalf of someone need the agent role", () => {
    expect(failure(() => open(karen, { priority: "emergency" }))).toBe("forbidden");
    expect(failure(() => open(karen, { severity: "SEV-A" }))).toBe("forbidden");
    expect(failure(() => open(karen, { requester: { name: "Ken Ken", email: "ken@example.com" } }))).toBe("forbidden");
    const onBehalf = open(jane, { priority: "emergency", severity: "SEV-A", requester: { name: "Ken Ken", email: "ken@example.com" } });
    expect(onBehalf.ticket).toMatchObject({
      priority: "emergency",
      severity: "SEV-A",
      requester: { id: "email:ken@example.com", name: "Ken Ken" },
    });
    // The severity set at intake is triage: internal, in its own entry; so is the escalation it raises.
    expect(onBehalf.entries.map((e) => [e.type, e.visibility])).toEqual([
      ["opened", "public"],
      ["severity_changed", "internal"],
      ["escalation_triggered", "internal"],
    ]);
  });
});

describe("triage, assignment and comments", () => {
  const ticket: Ticket = open(karen).ticket;

  it("only agents triage; strangers do not even see the ticket", () => {
    expect(failure(() => triage(ticket, karen, { priority: "low" }, now))).toBe("forbidden");
    expect(failure(() => triage(ticket, ken, { priority: "low" }, now))).toBe("not_found");
    const c = triage(ticket, jane, { priority: "emergency", severity: "SEV-A", reason: "business impacting" }, now);
    expect(c.ticket).toMatchObject({ priority: "emergency", severity: "SEV-A", version: 4 });
    expect(c.entries.map((e) => [e.type, e.visibility, e.seq])).toEqual([
      ["priority_changed", "internal", 2],
      ["severity_changed", "internal", 3],
      ["escalation_triggered", "internal", 4],
    ]);
    expect(c.entries[0]!.data).toMatchObject({ from: "normal", to: "emergency", reason: "business impacting" });
  });

  it("a triage that changes nothing writes nothing", () => {
    expect(triage(ticket, jane, { priority: "normal" }, now).entries).toEqual([]);
  });

  it("only agents assign; assignment entries are internal", () => {
    expect(failure(() => assign(ticket, karen, { id: "jane", name: "Jane Doe" }, now))).toBe("forbidden");
    const c = assign(ticket, jane, { id: "jane", name: "Jane Doe" }, now);
    expect(c.ticket.assignee).toEqual({ id: "jane", name: "Jane Doe" });
    expect(c.entries[0]).toMatchObject({ type: "assigned", visibility: "internal" });
    expect(assign(c.ticket, jane, null, now).entries[0]).toMatchObject({ type: "unassigned", visibility: "internal" });
  });

  it("requesters write public replies only; nobody comments on a closed ticket", () => {
    expect(failure(() => comment(ticket, karen, { body: "psst", visibility: "internal" }, now))).toBe("forbidden");
    expect(failure(() => comment(ticket, ken, { body: "hi", visibility: "public" }, now))).toBe("not_found");
    expect(failure(() => comment({ ...ticket, status: "closed" }, jane, { body: "hi", visibility: "internal" }, now))).toBe("conflict");
  });

  it("the owner's reply takes on_hold back to in_progress and reopens resolved", () => {
    const held = comment({ ...ticket, status: "on_hold" }, karen, { body: "here is the log", visibility: "public" }, now);
    expect(held.ticket.status).toBe("in_progress");
    expect(held.entries.map((e) => e.type)).toEqual(["comment", "status_changed"]);
    const resolved = comment(
      { ...ticket, status: "resolved", resolution: "r", resolvedAt: now },
      karen,
      { body: "still broken", visibility: "public" },
      now,
    );
    expect(resolved.ticket).toMatchObject({ status: "open", resolution: null, resolvedAt: null });
    // An agent's public reply does not move the ticket.
    expect(comment({ ...ticket, status: "on_hold" }, jane, { body: "waiting on you", visibility: "public" }, now).ticket.status).toBe(
      "on_hold",
    );
  });

  it("a note is internal and a reply public: the store shows requesters public entries only", () => {
    const note = comment(ticket, jane, { body: "collaborating with sysadmins", visibility: "internal" }, now).entries;
    const reply = comment(ticket, jane, { body: "on it", visibility: "public" }, now).entries;
    expect([...note, ...reply].map((e) => [e.type === "comment" && e.data.body, e.visibility])).toEqual([
      ["collaborating with sysadmins", "internal"],
      ["on it", "public"],
    ]);
  });
});

describe("escalation-worthy", () => {
  it("is emergency or SEV-A while not resolved or closed", () => {
    expect(isEscalationWorthy({ status: "open", priority: "emergency", severity: null })).toBe(true);
    expect(isEscalationWorthy({ status: "on_hold", priority: "low", severity: "SEV-A" })).toBe(true);
    expect(isEscalationWorthy({ status: "open", priority: "high", severity: "SEV-B" })).toBe(false);
    expect(isEscalationWorthy({ status: "resolved", priority: "emergency", severity: "SEV-A" })).toBe(false);
    expect(isEscalationWorthy({ status: "closed", priority: "emergency", severity: null })).toBe(false);
  });
});
