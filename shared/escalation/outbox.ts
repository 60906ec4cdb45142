import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import type { Outbox } from "../tickets/ports.js";
import { alertEventOf, alertFacts } from "./domain/alert.js";
import { messageIdOf, subjectOf, type EscalationMessage } from "./domain/messages.js";

/**
 * The tickets' outbox, as the escalation feature fills it: one message to the
 * `escalations` queue per escalation event of a change, with the alert's facts as of
 * that change, written in the change's own batch.
 */
export function escalationOutbox(written: (entries: OutboxEntry[]) => void = () => {}): Outbox {
  return { entriesFor: escalationEntries, written };
}

export function escalationEntries(change: Change, requestId: string): OutboxEntry[] {
  return change.events.map(({ type, entry }) => {
    const event = alertEventOf({ type, entry });
    const body: EscalationMessage = {
      version: 1,
      event,
      ticketId: change.ticket.id,
      cycle: change.ticket.escalation.cycle,
      page: 1,
      facts: alertFacts(change.ticket, entry),
    };
    return {
      id: `outbox-${entry.seq}`,
      ticketId: change.ticket.id,
      queue: "escalations",
      messageId: messageIdOf(change.ticket.id, entry.seq),
      subject: subjectOf(event),
      body,
      correlationId: requestId,
      createdAt: entry.at,
    };
  });
}
