import * as z from "zod";
import { Failure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import { Ticket } from "./domain/model.js";
import type { TicketRecord } from "./ports.js";

/**
 * Idempotency-Key (DESIGN.md section 3): a retry with the same key and body gets the
 * first response again and creates nothing; the same key with another body is 422;
 * a second request while the first is still running is 409.
 *
 * Where each key is kept: an open's key fixes the ticket numbers it draws, and its
 * first response is a receipt in the new ticket's partition; a comment's key is a
 * receipt of its own in the ticket's partition (never a field of the ticket document,
 * which would grow with every keyed comment), whose id is fixed by the key: it is
 * created in the batch that adds the comment, so two concurrent retries cannot both
 * succeed (see comment-on-ticket.ts), and it expires by Cosmos DB TTL.
 */

export interface IdempotencyOptions {
  key: string;
  /** Hash of the request (method, path, body): a retry must send the same one. */
  requestHash: string;
}

export const KEY_RETENTION_MS = 24 * 3600 * 1000;
/** A comment receipt's `ttl`, in seconds: Cosmos DB keeps it the retention, then removes it. */
const RECEIPT_TTL_S = KEY_RETENTION_MS / 1000;

/** A key is the caller's own: another caller's same key is another request. */
export const keyHashOf = (hash: (text: string) => string, caller: Principal, key: string): string => hash(`${caller.id}\n${key}`);

/** What a read that only asks whether a record is there parses: a receipt of something done once. */
export const RecordThere = z.object({ id: z.string() });

export const keyReused = (): Failure => new Failure("key_reused", "This Idempotency-Key was used with a different request body.");

/** The first response to an idempotent `POST /api/tickets`, replayed on a retry. */
export const OpenReceipt = z.object({ callerId: z.string(), keyHash: z.string(), requestHash: z.string(), ticket: Ticket });
export type OpenReceipt = z.infer<typeof OpenReceipt>;
export const OPEN_RECEIPT_ID = "open-receipt";

/** The first response to an idempotent comment, as far as a retry needs it to replay. */
export const CommentReceipt = z.object({
  keyHash: z.string(),
  requestHash: z.string(),
  /** Sequence of the timeline entry the request created. */
  seq: z.number().int().min(1),
  /** The ticket's revisions and version right after (an agent's and a requester's): the first response's ETag. */
  revision: z.number().int().min(0),
  publicRevision: z.number().int().min(0).optional(),
  /** Receipts written before it was kept: the comment's own seq, which was the version unless the reply also moved the status. */
  version: z.number().int().min(0).optional(),
  at: z.iso.datetime(),
});
export type CommentReceipt = z.infer<typeof CommentReceipt>;

/** One id per key (and caller: the key hash includes them), so a second claim of the key fails its batch. */
export const commentReceiptId = (keyHash: string): string => `comment-key-${keyHash}`;

export const commentReceiptRecord = (receipt: CommentReceipt): TicketRecord => ({
  id: commentReceiptId(receipt.keyHash),
  type: "receipt",
  ttl: RECEIPT_TTL_S,
  ...receipt,
});

/** Refuses a second request with the same key while the first is still running (in this process). */
export class InFlightKeys {
  private readonly running = new Set<string>();

  async run<T>(keyHash: string | null, work: () => Promise<T>): Promise<T> {
    if (keyHash === null) return work();
    if (this.running.has(keyHash)) throw new Failure("in_flight", "A request with this Idempotency-Key is still being processed.");
    this.running.add(keyHash);
    try {
      return await work();
    } finally {
      this.running.delete(keyHash);
    }
  }
}
