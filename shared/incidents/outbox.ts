import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import type { TimelineEntry } from "../tickets/domain/model.js";
import type { BroadcastAction, TicketCommandMessage } from "./domain/messages.js";

/**
 * The tickets' outbox, as incidents fill it, in the change's own batch, a message to the
 * `ticket-commands` queue for each entry that asks something of another ticket:
 * - a report linked to an incident, or unlinked: each incident concerned is told, so that no
 *   link is stored without its incident hearing of it;
 * - an incident's broadcast started: the first page of its fan-out to its reports;
 * - an incident that could not take a report: the report is told to drop it.
 */
export function incidentEntries(change: Change, requestId: string): OutboxEntry[] {
  const { ticket } = change;
  return change.entries.flatMap((entry) =>
    commandsOf(change, entry).map(({ name, body, messageId }): OutboxEntry => {
      const id = `outbox-${entry.seq}-${name}`;
      return {
        id,
        ticketId: ticket.id,
        queue: "ticket-commands",
        // Unique to the entry (a broadcast's pages are named by the broadcast: handler.ts).
        messageId: messageId ?? `${ticket.id}.${id}`,
        subject: `incident.${body.kind}`,
        body,
        correlationId: requestId,
        createdAt: entry.at,
      };
    }),
  );
}

/** The commands an entry sends: each named, in the entry's outbox ids, and with a message id of its own if it needs one. */
function commandsOf(change: Change, entry: TimelineEntry): { name: string; body: TicketCommandMessage; messageId?: string }[] {
  const { ticket } = change;
  switch (entry.type) {
    case "parent_linked":
    case "parent_unlinked": {
      const child = { id: ticket.id, number: ticket.number };
      return toldOf(entry).map(({ parentId, linked }, i) => ({
        name: `incident-${i + 1}`,
        body: { version: 1, kind: "tell_parent", parentId, child, linked, seq: entry.seq },
      }));
    }
    case "broadcast_started": {
      if (entry.actor.role !== "agent" && entry.actor.role !== "admin") throw new Error("A broadcast is an agent's.");
      const { broadcastId } = entry.data;
      const actor = { id: entry.actor.id, name: entry.actor.name, role: entry.actor.role };
      const action = actionOf(change, entry.data.action);
      const body = { version: 1, kind: "fan_out", parentId: ticket.id, broadcastId, action, actor, after: null, page: 1, sent: 0 } as const;
      return [{ name: "broadcast", body, messageId: `${broadcastId}.page-1` }];
    }
    case "link_refused":
      return [
        {
          name: "refused",
          body: { version: 1, kind: "drop_parent", childId: entry.data.child.id, parentId: ticket.id, why: entry.data.why },
        },
      ];
    default:
      return [];
  }
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

/** The incidents an entry concerns: the one linked to, and the one left. */
function toldOf(entry: Extract<TimelineEntry, { type: "parent_linked" | "parent_unlinked" }>): { parentId: string; linked: boolean }[] {
  if (entry.type === "parent_unlinked") return [{ parentId: entry.data.from.id, linked: false }];
  return [...(entry.data.from ? [{ parentId: entry.data.from.id, linked: false }] : []), { parentId: entry.data.parent.id, linked: true }];
}
