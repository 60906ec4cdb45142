import { Failure, invalid } from "../kernel/failure.js";
import { isAgent, type Principal } from "../kernel/principal.js";
import { publicRevisionOf, type Ticket, type TimelineEntry } from "./domain/model.js";
import { ticketIdOf, type Randomness } from "./ids.js";
import { canSee, notFound } from "./domain/visibility.js";
import type { ListPage, ListQuery, StoredTicket, TicketStore } from "./ports.js";
import type { TicketWriter } from "./ticket-writer.js";
import type { TimelineSeal } from "./timeline-seal.js";

/** The reads: one ticket, the queue, a ticket's timeline. Each checks what the caller may see. */

export async function getTicket(writer: TicketWriter, caller: Principal, id: string): Promise<StoredTicket> {
  // Read through the writer, so that a write right after this read needs no second one.
  const stored = await writer.read(id);
  if (!stored || !canSee(stored.ticket, caller)) throw notFound();
  return stored;
}

export type ListRequest = Omit<ListQuery, "view"> & {
  /** A ticket's number: that ticket alone, if the caller may see it (the other filters do not apply). */
  number?: string;
};

/**
 * Requesters see their own tickets only, whatever they ask for, by the priority and
 * updatedAt they see; a filter on what triage or assignment set would tell them what
 * they cannot see, and so would one on the SLA clocks or their order (the help desk's
 * own: requesters never see them). A number is one point read: the id derives from it
 * (ids.ts).
 */
export async function listTickets(
  deps: { store: TicketStore; writer: TicketWriter; hash: Randomness["hash"] },
  caller: Principal,
  request: ListRequest,
): Promise<ListPage> {
  const { number, ...query } = request;
  if (!isAgent(caller)) {
    if (query.slaStates?.length) throw new Failure("forbidden", "Only agents may filter by SLA.");
    if (query.sort === "due") throw new Failure("forbidden", "Only agents may sort by due time.");
    if (query.parent !== undefined) throw new Failure("forbidden", "Only agents may filter by incident.");
  }
  if (number !== undefined) {
    const stored = await deps.writer.read(ticketIdOf(deps.hash, number));
    return { items: stored && canSee(stored.ticket, caller) ? [stored] : [], next: null };
  }
  if (isAgent(caller)) return deps.store.list({ ...query, view: "agent" });
  if (query.requester && query.requester !== caller.id) throw new Failure("forbidden", "Requesters can only list their own tickets.");
  if (query.severities?.length || query.assignee !== undefined)
    throw new Failure("forbidden", "Only agents may filter by severity or assignee.");
  return deps.store.list({ ...query, requester: caller.id, view: "requester" });
}

export interface TimelinePage {
  /** The page's ETag: any page of the timeline changes only when an entry the caller sees is added. */
  etag: string;
  /** Null when the caller has this version already. */
  page: { entries: TimelineEntry[]; nextCursor: string | null } | null;
}

/**
 * The ETag of a caller's timeline: entries are only ever added, so an agent's moves with
 * the ticket's version (every entry), a requester's with the changes they could see
 * (every public entry is one).
 */
const timelineEtag = (t: Ticket, caller: Principal): string => (isAgent(caller) ? `t${t.version}` : `tp${publicRevisionOf(t)}`);

/**
 * A page of the history, oldest first; requesters get public entries only. One query
 * reads the ticket and the page together, so the page's visibility and ETag come from
 * the ticket as it is now. A caller who already has this version (`unchanged`: a
 * conditional GET) gets no page.
 */
export async function ticketTimeline(
  deps: { writer: TicketWriter; store: TicketStore; seal: TimelineSeal },
  caller: Principal,
  id: string,
  cursor: string | undefined,
  limit: number,
  unchanged: (etag: string) => boolean = () => false,
): Promise<TimelinePage> {
  let afterSeq = 0;
  if (cursor !== undefined) {
    // A cursor is sealed with the ticket's salt. Neither it nor who may see the ticket ever
    // changes, so the copy this instance last saw serves; only a cold instance reads first.
    // Visibility first: a stranger's cursor gets 404, never a word on whether it is valid.
    const known = await deps.writer.known(id);
    if (!known || !canSee(known.ticket, caller)) throw notFound();
    const seq = deps.seal.seqOf(known.salt, cursor);
    if (seq === null) throw invalid("The cursor is invalid.", "cursor", "Use a nextCursor from a previous page of this timeline.");
    afterSeq = seq;
  }
  const page = await deps.store.timeline(id, { afterSeq, limit, publicOnly: !isAgent(caller) });
  const stored = page.ticket;
  if (!stored || !canSee(stored.ticket, caller)) throw notFound();
  deps.writer.remember(stored);
  const etag = timelineEtag(stored.ticket, caller);
  if (unchanged(etag)) return { etag, page: null };
  const last = page.entries.at(-1);
  const entries = page.entries.map((e) => deps.seal.published(stored.salt, e));
  return { etag, page: { entries, nextCursor: page.more && last ? deps.seal.cursor(stored.salt, last.seq) : null } };
}
