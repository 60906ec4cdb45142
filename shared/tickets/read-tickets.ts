import { Failure, invalid } from "../kernel/failure.js";
import { isAgent, type Principal } from "../kernel/principal.js";
import type { TimelineEntry } from "./domain/model.js";
import { canSee, notFound } from "./domain/visibility.js";
import type { ListQuery, StoredTicket, TicketStore } from "./ports.js";
import type { TicketWriter } from "./ticket-writer.js";
import type { TimelineSeal } from "./timeline-seal.js";

/** The reads: one ticket, the queue, a ticket's timeline. Each checks what the caller may see. */

export async function getTicket(writer: TicketWriter, caller: Principal, id: string): Promise<StoredTicket> {
  // Read through the writer, so that a write right after this read needs no second one.
  const stored = await writer.read(id);
  if (!stored || !canSee(stored.ticket, caller)) throw notFound();
  return stored;
}

export type ListRequest = Omit<ListQuery, "order">;

/**
 * Requesters see their own tickets only, whatever they ask for, by the priority they
 * see; a filter on what triage or assignment set would tell them what they cannot see.
 */
export async function listTickets(
  store: TicketStore,
  caller: Principal,
  request: ListRequest,
): Promise<{ items: StoredTicket[]; more: boolean }> {
  if (isAgent(caller)) return store.list({ ...request, order: "queue" });
  if (request.requester && request.requester !== caller.id) throw new Failure("forbidden", "Requesters can only list their own tickets.");
  if (request.severities?.length || request.assignee !== undefined)
    throw new Failure("forbidden", "Only agents may filter by severity or assignee.");
  return store.list({ ...request, requester: caller.id, order: "requester" });
}

export interface TimelinePage {
  entries: TimelineEntry[];
  nextCursor: string | null;
}

/** A page of the history, oldest first; requesters get public entries only. */
export async function ticketTimeline(
  deps: { writer: TicketWriter; store: TicketStore; seal: TimelineSeal },
  caller: Principal,
  id: string,
  cursor: string | undefined,
  limit: number,
): Promise<TimelinePage> {
  const stored = await getTicket(deps.writer, caller, id);
  const afterSeq = cursor === undefined ? 0 : deps.seal.seqOf(stored.salt, cursor);
  if (afterSeq === null) throw invalid("The cursor is invalid.", "cursor", "Use a nextCursor from a previous page of this timeline.");
  const page = await deps.store.timeline(id, { afterSeq, limit, publicOnly: !isAgent(caller) });
  const last = page.entries.at(-1);
  return {
    entries: page.entries.map((e) => deps.seal.published(stored.salt, e)),
    nextCursor: page.more && last ? deps.seal.cursor(stored.salt, last.seq) : null,
  };
}
