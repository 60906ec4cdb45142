import type { Change } from "../tickets/commands.js";
import type { Ticket, TimelineEntry } from "../tickets/model.js";
import type { SideDocument } from "../tickets/ports.js";
import type { Alert, AlertEvent } from "./alert.js";
import type { QueueMessage } from "./publisher.js";

/**
 * The transactional outbox (DESIGN.md section 6): an escalation event is written
 * in the same batch as the change that caused it, so a change that pages ops can
 * never be stored without its alert, nor an alert sent for a change that was not.
 */

/** The alert's facts as of the change; the notifier adds the link and page. */
export type AlertFacts = Omit<Alert, "event" | "link" | "page">;

export interface OutboxEntry extends SideDocument {
  type: "outbox";
  ticketId: string;
  event: Exclude<AlertEvent, "repaged">;
  /** Unique across tickets: the queue deduplicates on it. */
  messageId: string;
  cycle: number;
  sent: boolean;
  createdAt: string;
  correlationId: string;
  facts: AlertFacts;
}

const EVENTS: Partial<Record<TimelineEntry["type"], OutboxEntry["event"]>> = {
  escalation_triggered: "triggered",
  escalation_acknowledged: "acknowledged",
  escalation_resolved: "resolved",
};

export const messageIdOf = (ticketId: string, seq: number) => `${ticketId}.${seq}`;

/** What the alert says of the ticket itself. */
export function ticketFacts(ticket: Ticket): Omit<AlertFacts, "actor" | "reason" | "occurredAt"> {
  return {
    ticketId: ticket.id,
    ticketNumber: ticket.number,
    subject: ticket.subject,
    priority: ticket.priority,
    severity: ticket.severity,
    status: ticket.status,
    requester: { name: ticket.requester.name, email: ticket.requester.email },
    assignee: ticket.assignee ? { name: ticket.assignee.name } : null,
  };
}

/** The facts of an escalation event: the ticket, who caused the event, and why. */
export function alertFacts(ticket: Ticket, entry: Pick<TimelineEntry, "actor" | "at" | "data">): AlertFacts {
  const cause = typeof entry.data.cause === "string" ? entry.data.cause : "";
  const reason = typeof entry.data.reason === "string" && entry.data.reason ? entry.data.reason : null;
  return {
    ...ticketFacts(ticket),
    actor: { name: entry.actor.name, role: entry.actor.role },
    reason: [cause, reason].filter(Boolean).join(": ") || "escalation changed",
    occurredAt: entry.at,
  };
}

/** The outbox entries a change needs: one per escalation event among its timeline entries. */
export function outboxFor(change: Change, requestId: string): OutboxEntry[] {
  return change.entries.flatMap((entry) => {
    const event = EVENTS[entry.type];
    if (!event) return [];
    return [
      {
        id: `outbox-${entry.seq}`,
        type: "outbox",
        ticketId: change.ticket.id,
        event,
        messageId: messageIdOf(change.ticket.id, entry.seq),
        cycle: change.ticket.escalation.cycle,
        sent: false,
        createdAt: entry.at,
        correlationId: requestId,
        facts: alertFacts(change.ticket, entry),
      },
    ];
  });
}

/** The versioned body of every message on the `escalations` queue. */
export interface EscalationMessageBody {
  version: 1;
  event: AlertEvent;
  ticketId: string;
  cycle: number;
  page: number;
  facts: AlertFacts;
  /** On a retry (a later copy the notifier scheduled): the first message's id, and the attempt. */
  retryOf?: string;
  attempt?: number;
  /** Channels that refused it for good (a 4xx): not tried again. */
  givenUp?: string[];
}

export function messageFor(entry: OutboxEntry): QueueMessage {
  const body: EscalationMessageBody = { version: 1, event: entry.event, ticketId: entry.ticketId, cycle: entry.cycle, page: 1, facts: entry.facts };
  return { messageId: entry.messageId, subject: `escalation.${entry.event}`, body: { ...body }, correlationId: entry.correlationId };
}

/** Re-page n of a cycle: a scheduled message, delivered only if still unacknowledged then. */
export function repageFor(trigger: EscalationMessageBody, page: number, at: Date, correlationId?: string): QueueMessage {
  const body: EscalationMessageBody = { ...trigger, event: "repaged", page };
  return { messageId: `${trigger.ticketId}.${trigger.cycle}.page-${page}`, subject: "escalation.repaged", body: { ...body }, correlationId, scheduledAt: at };
}
