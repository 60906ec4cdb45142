import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import { alertEventOf, factsOf } from "./domain/alert.js";
import { messageIdOf, subjectOf, type EscalationMessage } from "./domain/messages.js";

/**
 * The tickets' outbox entries, as the escalation feature makes them: one message to the
 * `escalations` queue per event of a change (an escalation's, the SLA's page or notice),
 * with the alert's facts as of that change, written in the change's own batch. Each is
 * named by the timeline entry that records its event, so no two events share a message.
 */
export function escalationEntries(change: Change, requestId: string): OutboxEntry[] {
  return change.events.map((ticketEvent) => {
    const { entry } = ticketEvent;
    const event = alertEventOf(ticketEvent);
    const body: EscalationMessage = {
      version: 1,
      event,
      ticketId: change.ticket.id,
      cycle: change.ticket.escalation.cycle,
      page: 1,
      facts: factsOf(change.ticket, ticketEvent),
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
