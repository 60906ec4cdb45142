import { z } from "zod";
import { Failure } from "../../kernel/failure.js";
import { isAgent, type Principal } from "../../kernel/principal.js";
import { Escalation, Ticket, TimelineEntry } from "./model.js";

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

export const TicketView = Ticket.omit({ version: true, revision: true, escalation: true }).extend({
  escalation: Escalation.omit({ cycle: true }).nullable().describe("Escalation to ops; null for requesters."),
});
export type TicketView = z.infer<typeof TicketView>;

/** The ticket as a caller may see it: escalation is ops' business, never a requester's. */
export function ticketView(t: Ticket, caller: Principal): TicketView {
  const { version: _v, revision: _r, escalation, ...view } = t;
  const { cycle: _c, ...visible } = escalation;
  return { ...view, escalation: isAgent(caller) ? visible : null };
}

export const EntryView = TimelineEntry.omit({ seq: true });
export type EntryView = z.infer<typeof EntryView>;

export function entryView(e: TimelineEntry): EntryView {
  const { seq: _s, ...view } = e;
  return view;
}
