import { z } from "zod";
import { Failure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import { Ticket } from "./domain/model.js";
import type { KeyRecord, StoredTicket } from "./ports.js";

/**
 * Idempotency-Key (DESIGN.md section 3): a retry with the same key and body gets the
 * first response again and creates nothing; the same key with another body is 422;
 * a second request while the first is still running is 409.
 *
 * Where each key is kept: an open's key fixes the ticket numbers it draws, and its
 * first response is a receipt in the new ticket's partition; a comment's key is
 * recorded on the ticket itself, so the compare-and-swap that adds the comment also
 * claims the key (two concurrent retries cannot both succeed).
 */

export interface IdempotencyOptions {
  key: string;
  /** Hash of the request (method, path, body): a retry must send the same one. */
  requestHash: string;
}

export const KEY_RETENTION_MS = 24 * 3600 * 1000;

/** A key is the caller's own: another caller's same key is another request. */
export const keyHashOf = (hash: (text: string) => string, caller: Principal, key: string): string => hash(`${caller.id}\n${key}`);

export const keyReused = (): Failure => new Failure("key_reused", "This Idempotency-Key was used with a different request body.");

/** The first response to an idempotent `POST /api/tickets`, replayed on a retry. */
export const OpenReceipt = z.object({ callerId: z.string(), keyHash: z.string(), requestHash: z.string(), ticket: Ticket });
export type OpenReceipt = z.infer<typeof OpenReceipt>;
export const OPEN_RECEIPT_ID = "open-receipt";

/** The ticket's keys with this comment's claimed, and those older than the retention dropped. */
export function keysWith(keys: StoredTicket["keys"], keyHash: string, record: KeyRecord): StoredTicket["keys"] {
  const cutoff = Date.parse(record.at) - KEY_RETENTION_MS;
  const kept = Object.entries(keys).filter(([, r]) => Date.parse(r.at) >= cutoff);
  return { ...Object.fromEntries(kept), [keyHash]: record };
}

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
