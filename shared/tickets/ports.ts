import * as z from "zod";
import type { OutboxEntry } from "../outbox/ports.js";
import type { SlaState } from "../sla/domain/clock.js";
import type { Change } from "./domain/change.js";
import { Failure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import type { AgentRef, AttachmentRef, Priority, Severity, Status, Ticket, TimelineEntry, Visibility } from "./domain/model.js";

/**
 * What the ticket use cases need from the world: storage (the Cosmos DB adapter),
 * the outbox (the escalation feature turns events into messages), and the agent
 * directory. Each store method is one round trip unless it says otherwise.
 */

/** A ticket as stored: its optimistic-concurrency tag and what only the server knows of it. */
export interface StoredTicket {
  ticket: Ticket;
  etag: string;
  /** Secret of the ticket's timeline ids and cursors (TimelineSeal); never sent. */
  salt: string;
}

export type UnstoredTicket = Omit<StoredTicket, "etag">;

/**
 * A document of the ticket's own beside it in its partition, written in the batch of a
 * change: an idempotency receipt, an alert delivery record. Its id is unique in the
 * partition, so writing the same record twice fails the batch. A record that only
 * matters for a while carries `ttl` (seconds): Cosmos DB removes it once it has lived
 * that long (the container's defaultTtl is -1: nothing else expires).
 */
export interface TicketRecord {
  id: string;
  type:
    "receipt" | "delivery" | "attachment" | "malicious" | "report_link" | "broadcast" | "broadcast_receipt" | "broadcast_total" | "email";
  ttl?: number;
  /** Written over the record of this id, if there is one (an incident's word of a report: its latest). Never fails the batch. */
  upsert?: true;
  [field: string]: unknown;
}

/** Everything one change writes beside the ticket itself: one transactional batch. */
export interface TicketWrite {
  entries: TimelineEntry[];
  outbox: OutboxEntry[];
  records: TicketRecord[];
}

/**
 * The list orders: `priority` (the queue: emergency first, then oldest first), `updated`
 * (most recently changed first: what a client syncs by), `created` (newest first) and `due`
 * (agents only: the next SLA due time first, then priority, then id; nothing due last).
 */
export const LIST_SORTS = ["priority", "updated", "created", "due"] as const;
export type ListSort = (typeof LIST_SORTS)[number];

export { SLA_STATES, type SlaState } from "../sla/domain/clock.js";
/** What a ticket id looks like: other features' routes check theirs with it before the store sees one. */
export { TICKET_ID } from "./ids.js";

export interface ListQuery {
  sort: ListSort;
  /**
   * Whose view the list is of: an agent's, or a requester's, whose priority is the one
   * the ticket was opened with and whose updatedAt moves only with what they can see
   * (triage is not theirs to see): the query filters and orders by those. The SLA filter
   * and the `due` order are an agent's only.
   */
  view: "agent" | "requester";
  /** Only tickets changed at or after this time (ISO 8601 UTC), in the view's own updatedAt. */
  updatedSince?: string;
  statuses?: Status[];
  priorities?: Priority[];
  severities?: Severity[];
  /** Only tickets whose clocks stand in one of these states (SLA_STATES). */
  slaStates?: SlaState[];
  /** An agent id, or null for unassigned. */
  assignee?: string | null;
  requester?: string;
  /** An incident's id: its reports; null: tickets that are no report (agents only). */
  parent?: string | null;
  after?: ListPosition;
  limit: number;
}

/**
 * A position in the list's order, the last item seen, as the store ordered it: for
 * `priority`, [rank, createdAt, id]; for `updated`, [updatedAt, id]; for `created`,
 * [createdAt, id]; for `due`, [due, rank, id], where `due` is the store's own order key of
 * the next due time (adapters/cosmos/documents.ts), or null for a ticket stored before it
 * was kept.
 */
export type ListPosition =
  | { sort: "priority"; key: [rank: number, createdAt: string, id: string] }
  | { sort: "updated" | "created"; key: [at: string, id: string] }
  | { sort: "due"; key: [due: number | null, rank: number, id: string] };

/** A page of the list: `next` is the position of its last item when there are more. */
export interface ListPage {
  items: StoredTicket[];
  next: ListPosition | null;
}

export interface TicketStore {
  /** The ticket, or null when there is none with this id. */
  get(id: string): Promise<StoredTicket | null>;
  /** Creates a new ticket with what its opening writes. Failure "exists" if the id is taken. */
  create(ticket: UnstoredTicket, write: TicketWrite): Promise<StoredTicket>;
  /** Replaces the ticket if its etag is still `etag`, with what the change writes. Failure "stale" otherwise. */
  commit(etag: string, next: UnstoredTicket, write: TicketWrite): Promise<StoredTicket>;
  /** One of the ticket's records, parsed, or null when there is none with this id. */
  record<T>(ticketId: string, id: string, schema: z.ZodType<T>): Promise<T | null>;
  entry(ticketId: string, seq: number): Promise<TimelineEntry | null>;
  /** Tickets in the query's order after `after`; one query. */
  list(query: ListQuery): Promise<ListPage>;
  /** A page of the ticket's timeline after `afterSeq`, with the ticket as it is now (null if there is none); one query. */
  timeline(
    ticketId: string,
    options: { afterSeq: number; limit: number; publicOnly: boolean },
  ): Promise<{ ticket: StoredTicket | null; entries: TimelineEntry[]; more: boolean }>;
  /** Resolves when the store answers and the tickets container is there; Failure "unavailable" otherwise. */
  ping(): Promise<void>;
  /** Stores a record of the ticket's on its own, outside any change. Failure "exists" if its id is taken (unless `upsert`). */
  putRecord(ticketId: string, record: TicketRecord): Promise<void>;
  /** What each report a broadcast reached says of it: done, or skipped and why (one query across tickets). */
  broadcastReceipts(broadcastId: string): Promise<BroadcastReceipt[]>;
}

/** A broadcast's record in one report: its change made, or skipped (the report's status did not allow it). */
export interface BroadcastReceipt {
  ticketId: string;
  outcome: "done" | "skipped";
  why?: string;
}

/** The ticket's events as outbox entries, in the change's own batch (DESIGN.md section 6). */
export interface Outbox {
  entriesFor(change: Change, requestId: string): OutboxEntry[];
  /**
   * Told of entries once they are stored. Azure's change feed needs no telling; the
   * local host dispatches them at once.
   */
  written(entries: OutboxEntry[]): void;
}

/** The agents an assignment may name (shared/agents/). */
export interface AgentLookup {
  find(id: string): Promise<AgentRef | null>;
}

/**
 * The files a comment or an opening names (shared/attachments/ checks them): its uploads,
 * checked and copied where no upload URL reaches, then attached by the change's own batch.
 */
export interface AttachmentCheck {
  /**
   * Claims the uploads `ids` that `caller` made, so that no other request attaches them, checks
   * them (their size, and their type from their first bytes) and readies them to be attached
   * to ticket `ticketId`: Failure "invalid" naming the first that cannot be (a file that is no
   * attachment is deleted), or the store's failure. A comment's uploads were made on its
   * ticket (`from: "ticket"`); an opening's before there was one (`from: "opening"`).
   */
  prepare(caller: Principal, ticketId: string, ids: readonly string[], from: "ticket" | "opening"): Promise<PreparedFiles>;
}

/** How a change that named files ended: written, surely not, or not known (a store that timed out may have applied it). */
export type WriteOutcome = "written" | "not_written" | "unknown";

/** A failure of the write: a refusal (or a lost race) wrote nothing; an outage may have written all, unless it says not. */
export const outcomeOfFailure = (e: unknown): WriteOutcome =>
  e instanceof Failure && (e.kind !== "unavailable" || e.nothingWritten) ? "not_written" : "unknown";

export interface PreparedFiles {
  /** What the entry shows of each. */
  refs: AttachmentRef[];
  /** The records the change's batch creates: each file attached to entry `seq`, with its visibility. */
  records(seq: number, visibility: Visibility): TicketRecord[];
  /**
   * Once the change is written or not: the uploads spent, or given back for another try (an
   * unknown outcome is told by whether the attachments' records are there). Never throws.
   */
  settle(outcome: WriteOutcome): Promise<void>;
}
