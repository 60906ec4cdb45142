import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import type { TimelineEntry } from "../tickets/domain/model.js";
import type { TellParent } from "./domain/messages.js";

/**
 * The tickets' outbox, as incidents fill it: when a change links a report to an incident (or
 * unlinks it), a message to the `ticket-commands` queue telling each incident concerned, in the
 * change's own batch, so that no link is stored without its incident hearing of it.
 */
export function incidentEntries(change: Change, requestId: string): OutboxEntry[] {
  const { ticket } = change;
  const child = { id: ticket.id, number: ticket.number };
  return change.entries.flatMap((entry) =>
    toldOf(entry).map(({ parentId, linked }, i): OutboxEntry => {
      const key = `${ticket.id}.${entry.seq}.${i + 1}`;
      const body: TellParent = { version: 1, kind: "tell_parent", parentId, child, linked, key };
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
