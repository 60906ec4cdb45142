import type { Ticket, TimelineEntry } from "./model.js";

/**
 * What the use cases need from storage. The Cosmos DB adapter implements it;
 * each method is one round trip unless it says otherwise.
 */

/** A ticket as stored: its optimistic-concurrency tag and its recent idempotency keys. */
export interface StoredTicket {
  ticket: Ticket;
  etag: string;
  /** Idempotency keys of recent comments on this ticket, by key hash. */
  keys: Record<string, KeyRecord>;
  /** Secret of the ticket's timeline ids and cursors (TimelineSeal); never sent. */
  salt: string;
}

export interface KeyRecord {
  requestHash: string;
  /** Sequence of the timeline entry the request created. */
  seq: number;
  /** The ticket's revision right after: the first response's ETag. */
  revision: number;
  at: string;
}

/** The first response to an idempotent `POST /api/tickets`, replayed on a retry. */
export interface OpenReceipt {
  callerId: string;
  keyHash: string;
  requestHash: string;
  ticket: Ticket;
}

/**
 * Extra documents written in the same batch as a change: escalation outbox
 * entries (DESIGN.md section 6), idempotency receipts, alert delivery records.
 * Each has an id unique in the ticket's partition.
 */
export interface SideDocument {
  id: string;
  type: string;
  [field: string]: unknown;
}

export interface ListQuery {
  statuses?: string[];
  priorities?: string[];
  severities?: string[];
  /** An agent id, or null for unassigned. */
  assignee?: string | null;
  requester?: string;
  after?: ListPosition;
  limit: number;
}

/** A position in queue order: priority rank, then creation time, then id. */
export type ListPosition = [rank: number, createdAt: string, id: string];

export interface Agent {
  id: string;
  name: string;
  email: string | null;
  firstSeenAt: string;
}

export interface TicketStore {
  get(id: string): Promise<StoredTicket | null>;
  /** Creates a new ticket with its first entries. Throws StoreConflict if the id exists. */
  create(stored: Omit<StoredTicket, "etag">, entries: TimelineEntry[], side: SideDocument[]): Promise<StoredTicket>;
  /** Replaces the ticket if its etag is still `etag`, with new entries. Throws StorePreconditionFailed. */
  commit(etag: string, next: Omit<StoredTicket, "etag">, entries: TimelineEntry[], side: SideDocument[]): Promise<StoredTicket>;
  getSide<T extends SideDocument>(ticketId: string, id: string): Promise<T | null>;
  entry(ticketId: string, seq: number): Promise<TimelineEntry | null>;
  /** Tickets in queue order after `after`; one query (and its plan). */
  list(query: ListQuery): Promise<{ items: StoredTicket[]; more: boolean }>;
  timeline(ticketId: string, options: { afterSeq: number; limit: number; publicOnly: boolean }): Promise<{ entries: TimelineEntry[]; more: boolean }>;
  putAgent(agent: Agent): Promise<void>;
  getAgent(id: string): Promise<Agent | null>;
  listAgents(): Promise<Agent[]>;
  ping(): Promise<void>;
}

export class StoreConflict extends Error {}
export class StorePreconditionFailed extends Error {}
/** Throttled or down once the SDK's own retries are spent; nothing was applied. */
export class StoreUnavailable extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
