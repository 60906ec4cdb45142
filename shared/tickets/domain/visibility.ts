import * as z from "zod";
import { Failure } from "../../kernel/failure.js";
import { isAgent, type Principal } from "../../kernel/principal.js";
import { SlaView, slaViewOf } from "../../sla/domain/clock.js";
import {
  Actor,
  EntryFields,
  Escalation,
  Ticket,
  TicketRef,
  entryUnion,
  openedOf,
  publicUpdatedAtOf,
  type EntryType,
  type TimelineEntry,
} from "./model.js";

/**
 * Who sees what of a ticket (DESIGN.md section 3). A requester sees their own tickets
 * only, and of them nothing internal: no escalation, no internal entries (the store
 * filters those by `visibility`). The views are zod schemas derived from the model, so
 * the OpenAPI document describes exactly what these functions return.
 */

export function canSee(ticket: Ticket, caller: Principal): boolean {
  return isAgent(caller) || ticket.requester.id === caller.id;
}

export const notFound = (): Failure => new Failure("not_found", "No such ticket.");

/** Visibility first, so that a stranger learns nothing (404), then the role (403). */
export function requireVisible(ticket: Ticket, caller: Principal): void {
  if (!canSee(ticket, caller)) throw notFound();
}

export function requireAgent(ticket: Ticket, caller: Principal): void {
  requireVisible(ticket, caller);
  if (!isAgent(caller)) throw new Failure("forbidden", "Only agents may do this.");
}

export const TicketView = Ticket.omit({
  version: true,
  revision: true,
  publicRevision: true,
  publicUpdatedAt: true,
  escalation: true,
  opened: true,
  sla: true,
  parent: true,
  children: true,
}).extend({
  subject: Ticket.shape.subject.describe("For requesters, the subject they opened the ticket with"),
  priority: Ticket.shape.priority.describe("For requesters, the priority the ticket was opened with"),
  category: Ticket.shape.category.describe("For requesters, the category the ticket was opened with"),
  severity: Ticket.shape.severity.describe("Set in triage; null for requesters"),
  assignee: Ticket.shape.assignee.describe("null for requesters"),
  escalation: Escalation.omit({ cycle: true }).nullable().describe("Escalation to ops; null for requesters."),
  sla: SlaView.nullable().describe(
    "The SLA clocks: their due times and states; null for requesters (and for a ticket not changed since before they existed).",
  ),
  parent: TicketRef.nullable().describe("The incident this ticket is a report of; null for requesters"),
  children: z
    .object({ count: z.number().int().min(0) })
    .nullable()
    .describe(
      "On an incident: how many reports are linked to it (GET /api/tickets/{id}/children lists them); null otherwise and for requesters",
    ),
});
export type TicketView = z.infer<typeof TicketView>;

/**
 * The ticket as a caller may see it. Triage, assignment and escalation are the agents'
 * business, and so are its SLA clocks: a requester sees the ticket as it was opened, but for its status, its
 * resolution and the time of the last change they could see, so that nothing done out
 * of their sight changes what they get (nor, then, their ETag: ticket-writer.ts).
 */
export function ticketView(t: Ticket, caller: Principal): TicketView {
  const { version: _v, revision: _r, publicRevision: _p, publicUpdatedAt: _pu, opened: _o, escalation, sla, parent, children, ...view } = t;
  if (isAgent(caller)) {
    const { cycle: _c, ...visible } = escalation;
    return { ...view, escalation: visible, sla: sla ? slaViewOf(sla) : null, parent: parent ?? null, children: children ?? null };
  }
  // Nothing of an incident reaches a requester but the public entry that their report is part of one.
  return {
    ...view,
    ...openedOf(t),
    severity: null,
    assignee: null,
    updatedAt: publicUpdatedAtOf(t),
    escalation: null,
    sla: null,
    parent: null,
    children: null,
  };
}

/** What a requester sees of a ticket, but for when it changed: a change that moves it is one they see. */
export function requesterShape(t: Ticket): string {
  const { updatedAt: _u, ...shape } = ticketView(t, { id: t.requester.id, name: "", email: null, role: "requester" });
  return JSON.stringify(shape);
}

/** The name of an entry type's schema in the OpenAPI document: opened → OpenedEntry. */
const entryName = (type: EntryType) =>
  type
    .split("_")
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("") + "Entry";

export const EntryView = entryUnion(
  {
    id: EntryFields.shape.id,
    at: EntryFields.shape.at,
    actor: Actor.extend({ id: z.string().optional().describe("For agents, and for the requester's own entries") }),
    visibility: EntryFields.shape.visibility,
  },
  entryName,
);
export type EntryView = z.infer<typeof EntryView>;

/** An entry as a caller may see it: a requester sees who else wrote it by name and role, not by id. */
export function entryView(e: TimelineEntry, caller: Principal): EntryView {
  const { seq: _s, ...view } = e;
  if (isAgent(caller) || e.actor.id === caller.id) return view;
  const { id: _id, ...actor } = e.actor;
  return { ...view, actor };
}
