import { describe, expect, it } from "vitest";
import { move } from "../../shared/tickets/domain/commands.js";
import { Failure } from "../../shared/kernel/failure.js";
import { NO_ESCALATION } from "../../shared/tickets/domain/escalation.js";
import { needsResolution } from "../../shared/tickets/domain/lifecycle.js";
import type { Principal } from "../../shared/kernel/principal.js";
import { STATUSES, type Status, type Ticket } from "../../shared/tickets/domain/model.js";

/**
 * DESIGN.md section 2, written out again by hand so the test does not read the table it
 * checks: every cell, through the move command, once here; once more over HTTP in
 * test/e2e/lifecycle.test.ts.
 */
const EXPECTED: Record<string, string> = {
  "open>in_progress": "agent",
  "open>on_hold": "agent",
  "open>resolved": "agent",
  "open>closed": "agent,owner",
  "in_progress>on_hold": "agent",
  "in_progress>resolved": "agent",
  "in_progress>closed": "agent,owner",
  "on_hold>in_progress": "agent",
  "on_hold>resolved": "agent",
  "on_hold>closed": "agent,owner",
  "resolved>open": "agent,owner",
  "resolved>closed": "agent,owner",
  "closed>open": "agent,owner",
};

const owner: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const stranger: Principal = { id: "ken", name: "Ken Ken", email: "ken@example.com", role: "requester" };
const agent: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const admin: Principal = { id: "ada", name: "Ada", email: null, role: "admin" };

function ticket(status: Status): Ticket {
  const at = "2026-01-01T00:00:00.000Z";
  return {
    id: "t1",
    number: "10000001",
    subject: "s",
    description: "d",
    status,
    priority: "normal",
    severity: null,
    category: null,
    requester: { id: owner.id, name: owner.name, email: owner.email },
    assignee: null,
    resolution: status === "resolved" || status === "closed" ? "done" : null,
    createdAt: at,
    updatedAt: at,
    resolvedAt: null,
    closedAt: null,
    escalation: NO_ESCALATION,
    version: 1,
    revision: 1,
  };
}

const kindOf = (f: () => unknown): string => {
  try {
    f();
    return "ok";
  } catch (e) {
    if (e instanceof Failure) return e.kind;
    throw e;
  }
};

describe("lifecycle table, every cell", () => {
  for (const from of STATUSES) {
    for (const to of STATUSES) {
      const allowed = (EXPECTED[`${from}>${to}`] ?? "").split(",").filter(Boolean);
      for (const [mover, who] of [
        ["agent", agent],
        ["owner", owner],
      ] as const) {
        const expected = allowed.includes(mover) ? "ok" : allowed.length ? "forbidden" : "conflict";
        it(`${from} -> ${to} by ${mover}: ${expected}`, () => {
          const result = kindOf(() => move(ticket(from), who, { status: to, resolution: "fixed" }, "2026-01-02T00:00:00.000Z"));
          expect(result).toBe(expected);
        });
      }
    }
  }

  it("an admin moves as an agent", () => {
    expect(kindOf(() => move(ticket("open"), admin, { status: "on_hold" }, "2026-01-02T00:00:00.000Z"))).toBe("ok");
  });

  it("another requester cannot see the ticket at all (not_found, not forbidden)", () => {
    expect(kindOf(() => move(ticket("open"), stranger, { status: "closed", resolution: "x" }, "2026-01-02T00:00:00.000Z"))).toBe(
      "not_found",
    );
  });
});

describe("resolution text", () => {
  it("is required entering resolved, and closing from anything but resolved", () => {
    expect(needsResolution("open", "resolved")).toBe(true);
    expect(needsResolution("in_progress", "closed")).toBe(true);
    expect(needsResolution("resolved", "closed")).toBe(false);
    expect(needsResolution("closed", "open")).toBe(false);
    expect(kindOf(() => move(ticket("open"), agent, { status: "closed" }, "2026-01-02T00:00:00.000Z"))).toBe("invalid");
    expect(kindOf(() => move(ticket("resolved"), owner, { status: "closed" }, "2026-01-02T00:00:00.000Z"))).toBe("ok");
  });

  it("the owner closing a resolved ticket keeps the agent's resolution", () => {
    const resolved = { ...ticket("resolved"), resolution: "Franck restarted the gateway" };
    const closed = move(resolved, owner, { status: "closed", resolution: "whatever" }, "2026-01-02T00:00:00.000Z");
    expect(closed.ticket.resolution).toBe("Franck restarted the gateway");
    expect(move(resolved, agent, { status: "closed", resolution: "Root cause: DNS" }, "2026-01-02T00:00:00.000Z").ticket.resolution).toBe(
      "Root cause: DNS",
    );
  });

  it("closing stamps closedAt and keeps the resolution; reopening clears them", () => {
    const now = "2026-01-02T00:00:00.000Z";
    const closed = move(ticket("in_progress"), agent, { status: "closed", resolution: "Franck fixed it" }, now);
    expect(closed.ticket).toMatchObject({ status: "closed", resolution: "Franck fixed it", closedAt: now, version: 2 });
    expect(closed.entries).toHaveLength(1);
    expect(closed.entries[0]).toMatchObject({ type: "status_changed", visibility: "public", data: { from: "in_progress", to: "closed" } });
    const reopened = move(closed.ticket, owner, { status: "open" }, now);
    expect(reopened.ticket).toMatchObject({ status: "open", resolution: null, closedAt: null, resolvedAt: null });
  });
});
