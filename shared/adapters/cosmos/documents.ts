import * as z from "zod";
import { Agent } from "../../agents/ports.js";
import { OutboxEntry } from "../../outbox/ports.js";
import {
  EntryFields,
  EntryType,
  priorityRank,
  publicRevisionOf,
  publicUpdatedAtOf,
  requesterRank,
  Ticket,
  TimelineEntry,
} from "../../tickets/domain/model.js";
import { nextDueOf, SLA_STATES, slaStateOf } from "../../sla/domain/clock.js";
import type { StoredTicket, UnstoredTicket } from "../../tickets/ports.js";

/**
 * The documents of the `tickets` container (DESIGN.md section 5), as zod schemas: what
 * is written is built from the domain's shapes, and what is read is parsed back into
 * them, so a document that is not what the code expects fails loudly instead of
 * flowing on as a cast. Parsing also drops Cosmos DB's own fields (_rid, _ts...).
 */

export const TicketDoc = Ticket.extend({
  ticketId: z.string(),
  type: z.literal("ticket"),
  /** Queue order, stored so the query can ORDER BY it; a requester's list orders by the second. */
  priorityRank: z.number().int(),
  requesterRank: z.number().int(),
  /** Where the SLA clocks stand (sla/domain/clock.ts slaStateOf): what the queue's `sla` filter matches. */
  slaState: z.enum([...SLA_STATES, "none"]).optional(),
  /** The `due` order's key (slaDueOrderOf). Both absent on a ticket stored before they were kept. */
  slaDueOrder: z.number().optional(),
  salt: z.string().min(1),
});
// Unknown fields are stripped on parsing: a ticket stored before its comments' idempotency
// keys became receipts of their own still carries a `keys` map, which is dropped on reading
// and is gone from the document at its next write.
export type TicketDoc = z.infer<typeof TicketDoc>;

/** Every field of a ticket document: what the queue query selects, rather than `*`. */
export const TICKET_DOC_FIELDS = Object.keys(TicketDoc.shape) as (keyof TicketDoc)[];

export const EntryDoc = EntryFields.extend({
  ticketId: z.string(),
  type: z.literal("entry"),
  /** The entry's own type: `type` says what kind of document this is. */
  entryType: EntryType,
  /** Its shape is the entry type's (ENTRY_DATA): fromEntryDoc parses it as such. */
  data: z.record(z.string(), z.unknown()),
});
export type EntryDoc = z.infer<typeof EntryDoc>;

export const AgentDoc = Agent.omit({ id: true }).extend({
  id: z.string(),
  agentId: z.string(),
  ticketId: z.string(),
  type: z.literal("agent"),
});
export type AgentDoc = z.infer<typeof AgentDoc>;

export const OutboxDoc = OutboxEntry.extend({
  type: z.literal("outbox"),
  sent: z.boolean(),
  sentAt: z.iso.datetime().optional(),
  /** Set once sent (seconds): Cosmos DB removes the entry then (DESIGN.md section 5). */
  ttl: z.int().positive().optional(),
});
export type OutboxDoc = z.infer<typeof OutboxDoc>;

/** An outbox entry as stored: unsent, or (`sent`) marked sent, with when, and the ttl it is removed after. */
export function toOutboxDoc(entry: OutboxEntry, sent?: { sentAt: string; ttl: number }): OutboxDoc {
  return sent ? { ...entry, type: "outbox", sent: true, ...sent } : { ...entry, type: "outbox", sent: false };
}

/** The reserved partition of the agent directory: never a ticket's. */
export const AGENTS_PARTITION = "_agents";
export const agentDocId = (agentId: string): string => `agent-${Buffer.from(agentId).toString("base64url")}`;

/** The `due` order's key of a ticket with nothing due: below every due time's. */
export const NOTHING_DUE = -Number.MAX_SAFE_INTEGER;

/**
 * The `due` order's key: minus the next due time in epoch milliseconds (nextDueOf), so that the queue's
 * ORDER BY slaDueOrder DESC lists the earliest first, then NOTHING_DUE, and last the tickets
 * stored before the key was kept (Cosmos DB orders a missing value below any other). Always
 * written: a composite index orders by values that are there.
 */
function slaDueOrderOf(sla: Ticket["sla"]): number {
  const due = nextDueOf(sla);
  return due === null ? NOTHING_DUE : -due;
}

export function toTicketDoc({ ticket, salt }: UnstoredTicket): TicketDoc {
  return {
    ...ticket,
    // Always written, as the requester's list queries order and filter by them (a ticket
    // stored before they were kept gets them at its next write).
    publicRevision: publicRevisionOf(ticket),
    publicUpdatedAt: publicUpdatedAtOf(ticket),
    ticketId: ticket.id,
    type: "ticket",
    priorityRank: priorityRank(ticket),
    requesterRank: requesterRank(ticket),
    slaState: slaStateOf(ticket.sla),
    slaDueOrder: slaDueOrderOf(ticket.sla),
    salt,
  };
}

export function fromTicketDoc(doc: unknown, etag: string | undefined): StoredTicket {
  const tag = etag ?? (doc as { _etag?: string })._etag;
  if (!tag) throw new Error("Cosmos DB returned a ticket without its etag.");
  return { ...ticketOfDoc(parsed(TicketDoc, doc, "ticket")), etag: tag };
}

/**
 * The ticket a document holds (with the fields toTicketDoc derived, as a read returns them), and
 * its salt: of a document read, once parsed (fromTicketDoc); of one just written, as it is.
 */
export function ticketOfDoc(doc: TicketDoc): UnstoredTicket {
  const { ticketId: _p, type: _t, priorityRank: _r, requesterRank: _rr, slaState: _s, slaDueOrder: _d, salt, ...ticket } = doc;
  return { ticket, salt };
}

export function toEntryDoc(ticketId: string, entry: TimelineEntry): EntryDoc {
  const { type, ...rest } = entry;
  return { ...rest, ticketId, type: "entry", entryType: type };
}

export function fromEntryDoc(doc: unknown): TimelineEntry {
  const { id, seq, entryType, at, actor, visibility, data } = parsed(EntryDoc, doc, "timeline entry");
  return parsed(TimelineEntry, { id, seq, type: entryType, at, actor, visibility, data }, "timeline entry");
}

export function toAgentDoc(agent: Agent): AgentDoc {
  return { ...agent, agentId: agent.id, id: agentDocId(agent.id), ticketId: AGENTS_PARTITION, type: "agent" };
}

export function fromAgentDoc(doc: unknown): Agent {
  const { agentId, name, email, firstSeenAt } = parsed(AgentDoc, doc, "agent");
  return { id: agentId, name, email, firstSeenAt };
}

export function fromOutboxDoc(doc: unknown): OutboxEntry {
  const { type: _t, sent: _s, sentAt: _a, ...entry } = parsed(OutboxDoc, doc, "outbox entry");
  return entry;
}

/** A stored document the code cannot read is a bug or a corruption: a 500, never a guess. */
export function parsed<T>(schema: z.ZodType<T>, doc: unknown, what: string): T {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const id = (doc as { id?: unknown } | null)?.id;
  throw new Error(
    `Stored ${what} ${String(id)} is not readable: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
  );
}
