import * as z from "zod";
import type { EscalationEntry, SlaNoticeEntry, TicketEvent } from "../../tickets/domain/change.js";
import { Actor, ENTRY_DATA, ESCALATION_EVENTS, Ticket, type TimelineEntry } from "../../tickets/domain/model.js";

/*
 * What ops is told, whatever the channel: facts about the ticket at the time of the
 * event (DESIGN.md section 6), derived from the ticket's own schema. Every channel
 * formats the same facts.
 */

/** The events ops is told of, as the ticket's timeline records their deliveries. */
export const AlertEvent = z.enum(ESCALATION_EVENTS);
export type AlertEvent = z.infer<typeof AlertEvent>;

/**
 * How the notifier treats an event:
 * - `escalation`: a step of one escalation (its page, re-pages, acknowledgement, end), which
 *   PagerDuty keys by ticket: re-paged until acknowledged, and a step of an escalation a newer
 *   one replaced is not sent;
 * - `page`: an SLA target breached on a business-impacting ticket: every channel, once, whatever
 *   state the escalation is in (it is no step of one, and is never re-paged);
 * - `notice`: the SLA's warnings, and breaches on other tickets: for programs (the generic
 *   webhook), not for people to act on.
 */
export type AlertKind = "escalation" | "page" | "notice";
export const ALERT_KIND: Record<AlertEvent, AlertKind> = {
  triggered: "escalation",
  repaged: "escalation",
  acknowledged: "escalation",
  resolved: "escalation",
  sla_breached: "page",
  "sla.warning": "notice",
  "sla.breached": "notice",
};

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
  /** An incident's reports linked to it (issue "Major incidents"): one page for them all. Absent from messages made before. */
  linkedReports: z.number().int().min(0).optional(),
});
export type TicketFacts = z.infer<typeof TicketFacts>;

/** Of an SLA event: which target, and when it was due (the SLA entry's own data). */
export const SlaFacts = ENTRY_DATA.sla_breached.pick({ target: true, dueAt: true });
export type SlaFacts = z.infer<typeof SlaFacts>;

/** The alert's facts as of the event; the notifier adds the link and page. */
export const AlertFacts = TicketFacts.extend({
  /** Who made the change that caused this event (escalated, acknowledged, resolved), and why; the SLA clock for its events. */
  actor: Actor.pick({ name: true, role: true }),
  reason: z.string(),
  occurredAt: z.iso.datetime(),
  /** On the SLA's events only. */
  sla: SlaFacts.optional(),
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
    linkedReports: ticket.children?.count ?? 0,
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

/** How alerts name an SLA target. */
export const SLA_TARGET_LABEL: Record<SlaFacts["target"], string> = { firstResponse: "first response", resolution: "resolution" };

/**
 * The facts of an SLA warning or breach: the ticket, the SLA clock as the actor, and which
 * target was due when. Nothing anyone wrote: the reason is made of the target and its due time.
 */
export function slaAlertFacts(ticket: Ticket, entry: Pick<SlaNoticeEntry, "type" | "actor" | "at" | "data">): AlertFacts {
  const { target, dueAt } = entry.data;
  const what = entry.type === "sla_breached" ? "breached" : "warning";
  return {
    ...ticketFacts(ticket),
    actor: { name: named(entry.actor), role: entry.actor.role },
    reason: `SLA ${SLA_TARGET_LABEL[target]} ${what} (due ${dueAt})`,
    occurredAt: entry.at,
    sla: { target, dueAt },
  };
}

const EVENT_OF: Record<TicketEvent["type"], Exclude<AlertEvent, "repaged">> = {
  "escalation.triggered": "triggered",
  "escalation.acknowledged": "acknowledged",
  "escalation.resolved": "resolved",
  "escalation.sla_breached": "sla_breached",
  "sla.warning": "sla.warning",
  "sla.breached": "sla.breached",
};

export const alertEventOf = (event: TicketEvent): Exclude<AlertEvent, "repaged"> => EVENT_OF[event.type];

/** The facts of a ticket event, as of the change that made it. */
export function factsOf(ticket: Ticket, event: TicketEvent): AlertFacts {
  switch (event.type) {
    case "escalation.triggered":
    case "escalation.acknowledged":
    case "escalation.resolved":
      return alertFacts(ticket, event.entry);
    case "escalation.sla_breached":
    case "sla.warning":
    case "sla.breached":
      return slaAlertFacts(ticket, event.entry);
  }
}
