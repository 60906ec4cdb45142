import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import { alertEventOf, alertFacts, isEscalationEvent } from "./domain/alert.js";
import { messageIdOf, subjectOf, type EscalationMessage } from "./domain/messages.js";

/**
 * The tickets' outbox entries, as the escalation feature makes them: one message to the
 * `escalations` queue per escalation event of a change, with the alert's facts as of
 * that change, written in the change's own batch.
 */
export function escalationEntries(change: Change, requestId: string): OutboxEntry[] {
  // The SLA's pages and notices are not told yet: only the escalation's own events.
  return change.events.filter(isEscalationEvent).map((ticketEvent) => {
    const { entry } = ticketEvent;
    const event = alertEventOf(ticketEvent);
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
