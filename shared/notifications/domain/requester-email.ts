import type { Change } from "../../tickets/domain/change.js";
import { openedOf, type Ticket, type TimelineEntry } from "../../tickets/domain/model.js";

/**
 * The emails a change sends its ticket's requester (issue "Tell the requester"): an agent's
 * public reply, an agent resolving, closing or reopening the ticket, and an agent opening it on
 * the requester's behalf. Nothing else: never an internal note, triage, an assignment, an
 * escalation, the SLA clocks or the system's bookkeeping, and never the requester's own doing
 * (they know). What an email says is what the requester's view says: the subject they opened
 * the ticket with, and the public text of the entry.
 */
export type RequesterEmailKind = "reply" | "resolved" | "closed" | "reopened" | "opened_for_you";

export interface RequesterEmail {
  kind: RequesterEmailKind;
  to: { name: string; email: string };
  /** `[#12345678] …`: the ticket's number and the subject its requester sees. */
  subject: string;
  /** The public words: the reply, the resolution, or what happened. */
  text: string;
  /** The entry that caused it: with the ticket and the recipient, what makes it one email, once. */
  seq: number;
}

const byAgent = (entry: TimelineEntry): boolean => entry.actor.role === "agent" || entry.actor.role === "admin";

export function requesterEmailsOf(change: Change): RequesterEmail[] {
  const { ticket } = change;
  const to = ticket.requester.email ? { name: ticket.requester.name, email: ticket.requester.email } : null;
  if (!to) return [];
  return change.entries.flatMap((entry): RequesterEmail[] => {
    if (entry.visibility !== "public" || !byAgent(entry)) return [];
    const what = whatOf(entry, ticket);
    return what ? [{ ...what, to, subject: `[#${ticket.number}] ${openedOf(ticket).subject}`, seq: entry.seq }] : [];
  });
}

function whatOf(entry: TimelineEntry, ticket: Ticket): { kind: RequesterEmailKind; text: string } | null {
  switch (entry.type) {
    case "comment":
      return { kind: "reply", text: entry.data.body };
    case "opened":
      // An agent opened it for them; their own opening needs no email.
      return entry.data.onBehalfOf ? { kind: "opened_for_you", text: ticket.description } : null;
    case "status_changed": {
      const { from, to, resolution } = entry.data;
      if (to === "resolved") return { kind: "resolved", text: resolution ?? ticket.resolution ?? "Your ticket is resolved." };
      if (to === "closed") return { kind: "closed", text: resolution ?? ticket.resolution ?? "Your ticket is closed." };
      if (to === "open" && (from === "resolved" || from === "closed")) return { kind: "reopened", text: "Your ticket is open again." };
      return null;
    }
    default:
      return null;
  }
}
