import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import type { TimelineEntry } from "../tickets/domain/model.js";
import type { BroadcastAction, DropParent, FanOut, TellParent } from "./domain/messages.js";

/**
 * The tickets' outbox, as incidents fill it, in the change's own batch: when a change links a
 * report to an incident (or unlinks it), a message to the `ticket-commands` queue telling each
 * incident concerned, so that no link is stored without its incident hearing of it; when an
 * incident's change starts a broadcast, the first page of its fan-out to its reports.
 */
export function incidentEntries(change: Change, requestId: string): OutboxEntry[] {
  return [...linkEntries(change, requestId), ...broadcastEntries(change, requestId), ...refusalEntries(change, requestId)];
}

/** An incident that could not take a report tells the report to drop it. */
function refusalEntries(change: Change, requestId: string): OutboxEntry[] {
  const { ticket } = change;
  return change.entries.flatMap((entry): OutboxEntry[] => {
    if (entry.type !== "link_refused") return [];
    const body: DropParent = { version: 1, kind: "drop_parent", childId: entry.data.child.id, parentId: ticket.id, why: entry.data.why };
    const id = `outbox-${entry.seq}-refused`;
    return [
      {
        id,
        ticketId: ticket.id,
        queue: "ticket-commands",
        messageId: `${ticket.id}.${id}`,
        subject: "incident.drop_parent",
        body,
        correlationId: requestId,
        createdAt: entry.at,
      },
    ];
  });
}

function broadcastEntries(change: Change, requestId: string): OutboxEntry[] {
  const { ticket } = change;
  return change.entries.flatMap((entry): OutboxEntry[] => {
    if (entry.type !== "broadcast_started") return [];
    if (entry.actor.role !== "agent" && entry.actor.role !== "admin") throw new Error("A broadcast is an agent's.");
    const body: FanOut = {
      version: 1,
      kind: "fan_out",
      parentId: ticket.id,
      broadcastId: entry.data.broadcastId,
      action: actionOf(change, entry.data.action),
      actor: { id: entry.actor.id, name: entry.actor.name, role: entry.actor.role },
      after: null,
      page: 1,
      sent: 0,
    };
    const id = `outbox-${entry.seq}-broadcast`;
    return [
      {
        id,
        ticketId: ticket.id,
        queue: "ticket-commands",
        messageId: `${entry.data.broadcastId}.page-1`,
        subject: "incident.fan_out",
        body,
        correlationId: requestId,
        createdAt: entry.at,
      },
    ];
  });
}

/** What the broadcast does to each report: the incident's reply in this change, or its move, with the resolution it leaves. */
function actionOf(change: Change, action: "reply" | "move"): BroadcastAction {
  if (action === "reply") {
    const reply = change.entries.find((e) => e.type === "comment");
    if (reply?.type !== "comment") throw new Error("A broadcast's change holds its reply.");
    return { kind: "reply", body: reply.data.body };
  }
  return { kind: "move", status: change.ticket.status, resolution: change.ticket.resolution };
}

function linkEntries(change: Change, requestId: string): OutboxEntry[] {
  const { ticket } = change;
  const child = { id: ticket.id, number: ticket.number };
  return change.entries.flatMap((entry) =>
    toldOf(entry).map(({ parentId, linked }, i): OutboxEntry => {
      const body: TellParent = { version: 1, kind: "tell_parent", parentId, child, linked, seq: entry.seq };
      const id = `outbox-${entry.seq}-incident-${i + 1}`;
      return {
        id,
        ticketId: ticket.id,
        queue: "ticket-commands",
        messageId: `${ticket.id}.${id}`,
        subject: "incident.tell_parent",
        body,
        correlationId: requestId,
        createdAt: entry.at,
      };
    }),
  );
}

/** The incidents an entry concerns: the one linked to, and the one left. */
function toldOf(entry: TimelineEntry): { parentId: string; linked: boolean }[] {
  if (entry.type === "parent_linked")
    return [
      ...(entry.data.from ? [{ parentId: entry.data.from.id, linked: false }] : []),
      { parentId: entry.data.parent.id, linked: true },
    ];
  if (entry.type === "parent_unlinked") return [{ parentId: entry.data.from.id, linked: false }];
  return [];
}
