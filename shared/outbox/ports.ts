import * as z from "zod";

/**
 * The transactional outbox (DESIGN.md section 6): a message for another part of the
 * system is written in the same batch as the change that caused it, then published
 * to its queue by the dispatcher. So a change is never stored without its messages,
 * nor a message sent for a change that was not stored.
 */

/** The queues an outbox entry can go to; each is one Publisher. */
export const QUEUES = ["escalations", "ticket-timers", "ticket-commands", "notifications"] as const;
export const QueueName = z.enum(QUEUES);
export type QueueName = z.infer<typeof QueueName>;

export const OutboxEntry = z.object({
  /** Unique in its ticket's partition. */
  id: z.string().min(1),
  /** Outbox entries live in their ticket's partition. */
  ticketId: z.string().min(1),
  queue: QueueName,
  /** Unique across tickets: the queue's duplicate detection keys on it. */
  messageId: z.string().min(1),
  subject: z.string().min(1),
  /** The message's versioned JSON body. */
  body: z.record(z.string(), z.unknown()),
  /** The id of the request that caused it. */
  correlationId: z.string(),
  createdAt: z.iso.datetime(),
  /** Deliver no earlier than this: a scheduled message (an SLA timer). */
  scheduledAt: z.iso.datetime().optional(),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/** Where unsent outbox entries are found and marked sent (the Cosmos DB adapter). */
export interface OutboxStore {
  unsentOutbox(options: { createdBefore?: string; limit: number }): Promise<OutboxEntry[]>;
  /** Marks these entries sent (any tickets'); throws if it could not mark them all. */
  markOutboxSent(entries: OutboxEntry[]): Promise<void>;
}

/** A message to a queue. */
export interface QueueMessage {
  /** The outbox entry's message id (or a re-page's id): the queue's duplicate detection keys on it. */
  messageId: string;
  /** The event type, e.g. "escalation.triggered". */
  subject: string;
  /** Versioned JSON body: { version: 1, ... }. */
  body: Record<string, unknown>;
  /** The id of the request that caused it. */
  correlationId?: string;
  /** Deliver no earlier than this (a scheduled message: re-pages, retries). */
  scheduledAt?: Date;
}

export interface Publisher {
  /** Sends (or schedules) the messages; resolves once the queue has accepted them all. Throws otherwise. */
  publish(messages: QueueMessage[]): Promise<void>;
  close(): Promise<void>;
}

export const messageOf = (entry: OutboxEntry): QueueMessage => ({
  messageId: entry.messageId,
  subject: entry.subject,
  body: entry.body,
  correlationId: entry.correlationId,
  ...(entry.scheduledAt ? { scheduledAt: new Date(entry.scheduledAt) } : {}),
});

/** A received message's body: parsed already by the Functions trigger and the local queue, text or bytes otherwise. */
export function parseQueueBody(body: unknown): unknown {
  if (typeof body !== "string" && !(body instanceof Uint8Array)) return body;
  try {
    return JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
  } catch {
    return body;
  }
}
