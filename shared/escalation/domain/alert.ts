import { z } from "zod";
import type { EscalationEntry, TicketEvent } from "../../tickets/domain/change.js";
import { Actor, ESCALATION_EVENTS, Ticket, type TimelineEntry } from "../../tickets/domain/model.js";

/*
 * What ops is told, whatever the channel: facts about the ticket at the time of the
 * event (DESIGN.md section 6), derived from the ticket's own schema. Every channel
 * formats the same facts.
 */

/** The events of an escalation, as the ticket's timeline records their deliveries. */
export const AlertEvent = z.enum(ESCALATION_EVENTS);
export type AlertEvent = z.infer<typeof AlertEvent>;

/**
 * What an alert says of the ticket itself: nothing a requester wrote or chose to be
 * called (no subject, description, category or requester name), so that nobody can
 * put words in front of ops. The link leads to the rest.
 */
export const TicketFacts = Ticket.pick({ priority: true, severity: true, status: true }).extend({
  /** Stable for the life of one escalation of one ticket: PagerDuty's dedup_key is the ticket id. */
  ticketId: Ticket.shape.id,
  ticketNumber: Ticket.shape.number,
  assignee: z.object({ name: z.string() }).nullable(),
});
export type TicketFacts = z.infer<typeof TicketFacts>;

/** The alert's facts as of the event; the notifier adds the link and page. */
export const AlertFacts = TicketFacts.extend({
  /** Who made the change that caused this event (escalated, acknowledged, resolved), and why. */
  actor: Actor.pick({ name: true, role: true }),
  reason: z.string(),
  occurredAt: z.iso.datetime(),
});
export type AlertFacts = z.infer<typeof AlertFacts>;

export interface Alert extends AlertFacts {
  event: AlertEvent;
  /** Link to the ticket, from TICKET_URL_TEMPLATE with {id} and {number} replaced. */
  link: string;
  /** Page number: 1 for the first page, 2.. for re-pages. */
  page: number;
}

export function ticketFacts(ticket: Ticket): TicketFacts {
  return {
    ticketId: ticket.id,
    ticketNumber: ticket.number,
    priority: ticket.priority,
    severity: ticket.severity,
    status: ticket.status,
    assignee: ticket.assignee ? { name: ticket.assignee.name } : null,
  };
}

/** Whose words an alert may quote: an agent's. A requester's text never reaches ops (nor does anyone else's). */
const quotable = (actor: Pick<TimelineEntry["actor"], "role">): boolean => actor.role === "agent" || actor.role === "admin";

/** Agents and the system by name; a requester by role only, as their name is theirs to choose. */
const named = (actor: Pick<TimelineEntry["actor"], "name" | "role">): string => (actor.role === "requester" ? "the requester" : actor.name);

/**
 * The facts of an escalation event: the ticket, who caused the event, and why. The
 * why is the policy's own cause, and the reason an agent gave; a requester's reason,
 * resolution or reply is never quoted, whatever the entry holds.
 */
export function alertFacts(ticket: Ticket, entry: Pick<EscalationEntry, "actor" | "at" | "data">): AlertFacts {
  const { cause } = entry.data;
  const reason = quotable(entry.actor) && "reason" in entry.data && entry.data.reason ? entry.data.reason : null;
  return {
    ...ticketFacts(ticket),
    actor: { name: named(entry.actor), role: entry.actor.role },
    reason: [cause, reason].filter(Boolean).join(": ") || "escalation changed",
    occurredAt: entry.at,
  };
}

type EscalationEvent = Extract<TicketEvent, { type: "escalation.triggered" | "escalation.acknowledged" | "escalation.resolved" }>;

const EVENT_OF: Record<EscalationEvent["type"], Exclude<AlertEvent, "repaged">> = {
  "escalation.triggered": "triggered",
  "escalation.acknowledged": "acknowledged",
  "escalation.resolved": "resolved",
};

export const isEscalationEvent = (event: TicketEvent): event is EscalationEvent => Object.hasOwn(EVENT_OF, event.type);
export const alertEventOf = (event: EscalationEvent): Exclude<AlertEvent, "repaged"> => EVENT_OF[event.type];
