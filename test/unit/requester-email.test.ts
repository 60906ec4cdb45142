import { describe, expect, it } from "vitest";
import { requesterEmailsOf } from "../../shared/notifications/domain/requester-email.js";
import { notificationEntries } from "../../shared/notifications/outbox.js";
import type { Principal } from "../../shared/kernel/principal.js";
import type { Change } from "../../shared/tickets/domain/change.js";
import * as commands from "../../shared/tickets/domain/commands.js";
import type { Ticket } from "../../shared/tickets/domain/model.js";
import { slaTimer } from "../../shared/tickets/domain/sla.js";
import { DEFAULT_SLA_POLICY } from "../../shared/sla/domain/policy.js";

/**
 * Which changes email the requester (notifications/domain/requester-email.ts), walking every
 * command: an agent's public reply, resolve, close and reopen, and an opening on their behalf;
 * nothing internal, and nothing of the requester's own doing.
 */
const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const at = "2026-12-01T10:00:00.000Z";
const ids = { id: "t1", number: "12345678", requesterId: () => "email:x" };
const kinds = (change: Change) => requesterEmailsOf(change).map((e) => e.kind);

function opened(): Ticket {
  return commands.openTicket({ subject: "Mobile banking is down", description: "No login." }, karen, ids, at).ticket;
}

describe("the requester's emails", () => {
  it("come of an agent's public reply, resolve, close and reopen, with the subject the requester sees and the public words", () => {
    let t = opened();
    const reply = commands.comment(t, jane, { body: "We are on it.", visibility: "public" }, at);
    expect(requesterEmailsOf(reply)).toEqual([
      {
        kind: "reply",
        to: { name: "Karen Karen", email: "karen@example.com" },
        subject: "[#12345678] Mobile banking is down",
        text: "We are on it.",
        seq: 2,
      },
    ]);
    // Triage renamed it: her email still says what she opened.
    t = commands.triage(reply.ticket, jane, { subject: "MB outage (prod)", priority: "high" }, at).ticket;
    const resolved = commands.move(t, jane, { status: "resolved", resolution: "Failover done." }, at);
    expect(requesterEmailsOf(resolved)).toMatchObject([
      { kind: "resolved", subject: "[#12345678] Mobile banking is down", text: "Failover done." },
    ]);
    const closed = commands.move(resolved.ticket, jane, { status: "closed" }, at);
    expect(requesterEmailsOf(closed)).toMatchObject([{ kind: "closed", text: "Failover done." }]);
    expect(kinds(commands.move(closed.ticket, jane, { status: "open" }, at))).toEqual(["reopened"]);
  });

  it("come of an agent opening a ticket on someone's behalf, to that someone", () => {
    const change = commands.openTicket(
      { subject: "Printer", description: "Jammed on floor 2.", requester: { name: "Ken Ken", email: "ken@example.com" } },
      jane,
      ids,
      at,
    );
    expect(requesterEmailsOf(change)).toMatchObject([
      { kind: "opened_for_you", to: { email: "ken@example.com" }, text: "Jammed on floor 2." },
    ]);
    expect(kinds(commands.openTicket({ subject: "Printer", description: "Jammed." }, karen, ids, at))).toEqual([]);
  });

  it("never come of anything internal, of the system, or of the requester's own doing", () => {
    const t = opened();
    const inProgress = commands.move(t, jane, { status: "in_progress" }, at);
    const changes: Change[] = [
      commands.comment(t, jane, { body: "Internal.", visibility: "internal" }, at),
      commands.triage(t, jane, { priority: "emergency", reason: "down" }, at),
      commands.triage(t, jane, { severity: "SEV-B" }, at),
      commands.assign(t, jane, { id: "jane", name: "Jane Doe" }, at),
      inProgress,
      commands.move(inProgress.ticket, jane, { status: "on_hold" }, at),
      commands.escalate(t, jane, { reason: "by hand" }, at),
      commands.recordDelivery(t, { channel: "webhook", event: "triggered", page: 1, messageId: "m" }, at),
      commands.markMalicious(t, { attachmentId: "a".repeat(24), fileName: "x.png" }, at),
      commands.recordEmailRefused(t, { to: "karen@example.com", about: 2, code: "InvalidRecipients", message: "No such mailbox." }, at),
      commands.countChild(t, { id: "r1", number: "87654321" }, true, 2, null, at),
      // Karen's own reply, and her own close and reopen.
      commands.comment(t, karen, { body: "Still down.", visibility: "public" }, at),
      commands.move(t, karen, { status: "closed", resolution: "Fixed itself." }, at),
    ];
    const acknowledged = commands.acknowledge(commands.triage(t, jane, { priority: "emergency" }, at).ticket, jane, at);
    changes.push(acknowledged);
    const closedByKaren = commands.move(t, karen, { status: "closed", resolution: "Fixed itself." }, at);
    changes.push(commands.move(closedByKaren.ticket, karen, { status: "open" }, at));
    for (const change of changes) expect(kinds(change), change.entries.map((e) => e.type).join(",")).toEqual([]);
  });

  it("come of an incident's broadcast: its reply on the incident, and on each report the reply or the move it makes", () => {
    const incident = opened();
    expect(kinds(commands.broadcast(incident, jane, { body: "Failover under way." }, "b1", at))).toEqual(["reply"]);
    const report = commands.linkParent(opened(), jane, { ...incident, id: "t2", number: "87654321" }, at).ticket;
    expect(kinds(commands.applyBroadcast(report, jane, "t2", { kind: "reply", body: "Failover under way." }, at))).toEqual(["reply"]);
    const move = { kind: "move", status: "resolved", resolution: "Failover done." } as const;
    expect(requesterEmailsOf(commands.applyBroadcast(report, jane, "t2", move, at))).toMatchObject([
      { kind: "resolved", text: "Failover done." },
    ]);
  });

  it("never come of linking a report, unlinking it, an incident dropping it, or the SLA clocks' timer", () => {
    const t = opened();
    const linked = commands.linkParent(t, jane, { ...opened(), id: "t2", number: "87654321" }, at);
    const changes: Change[] = [
      linked,
      commands.unlinkParent(linked.ticket, jane, at),
      commands.dropParent(linked.ticket, "t2", "the incident is closed", at),
      slaTimer(t, DEFAULT_SLA_POLICY, "2026-12-31T10:00:00.000Z"),
    ];
    for (const change of changes) expect(kinds(change), change.entries.map((e) => e.type).join(",")).toEqual([]);
  });

  it("are decided for every command there is: a new one fails here until it is walked above", () => {
    const walked = new Set([
      ...["openTicket", "triage", "assign", "move", "comment", "acknowledge", "escalate", "recordDelivery", "markMalicious"],
      ...["recordEmailRefused", "linkParent", "unlinkParent", "countChild", "dropParent", "broadcast", "applyBroadcast"],
    ]);
    const notCommands = new Set(["maliciousRecordId", "noChange"]);
    const functions = Object.entries(commands)
      .filter(([, value]) => typeof value === "function")
      .map(([name]) => name);
    expect(functions.filter((name) => !walked.has(name) && !notCommands.has(name))).toEqual([]);
  });

  it("go nowhere when the requester has no address", () => {
    const t = { ...opened(), requester: { id: "karen", name: "Karen Karen", email: null } };
    expect(kinds(commands.comment(t, jane, { body: "Hello.", visibility: "public" }, at))).toEqual([]);
  });
});

/** The outbox entries of the same changes (notifications/outbox.ts): the emails above, and the apps' events of public entries only. */
describe("the notifications' outbox entries", () => {
  const messages = (change: Change) =>
    notificationEntries(change, "req-1").map((e) => e.body as { kind: string; event?: { type: string } });

  it("are one email per requester email and one event per public opening, status change and reply", () => {
    const t = opened();
    expect(messages(commands.openTicket({ subject: "Printer", description: "Jammed." }, karen, ids, at))).toMatchObject([
      { kind: "event", event: { type: "ticket.opened" } },
    ]);
    expect(messages(commands.comment(t, jane, { body: "On it.", visibility: "public" }, at))).toMatchObject([
      { kind: "email", about: "reply", to: { email: "karen@example.com" }, seq: 2, requesterId: "karen" },
      { kind: "event", event: { type: "ticket.public_reply" } },
    ]);
    expect(messages(commands.move(t, karen, { status: "closed", resolution: "Fixed itself." }, at))).toMatchObject([
      { kind: "event", event: { type: "ticket.status_changed" } },
    ]);
  });

  it("are none for an internal change, and an event says only its ticket, its type and when, under an id of its own", () => {
    const t = opened();
    for (const change of [
      commands.comment(t, jane, { body: "Internal.", visibility: "internal" }, at),
      commands.triage(t, jane, { priority: "emergency", reason: "down" }, at),
      commands.assign(t, jane, { id: "jane", name: "Jane Doe" }, at),
      commands.escalate(t, jane, { reason: "by hand" }, at),
      commands.recordEmailRefused(t, { to: "karen@example.com", about: 2, code: "InvalidRecipients", message: "No." }, at),
    ])
      expect(messages(change), change.entries.map((e) => e.type).join(",")).toEqual([]);
    const [entry] = notificationEntries(commands.comment(t, karen, { body: "Still down.", visibility: "public" }, at), "req-1");
    expect(entry).toMatchObject({ queue: "notifications", messageId: `t1.outbox-2-event`, correlationId: "req-1" });
    const { event } = entry!.body as { event: Record<string, unknown> };
    expect(Object.keys(event).sort()).toEqual(["at", "id", "ticket", "type"]);
    expect(event.ticket).toEqual({ id: "t1", number: "12345678" });
    expect(event.id).toMatch(/^evt_[0-9a-f]{32}$/);
  });
});
