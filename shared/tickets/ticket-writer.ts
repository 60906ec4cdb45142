import { Failure, isFailure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import type { Change } from "./domain/change.js";
import type { Ticket, TimelineEntry } from "./domain/model.js";
import { canSee, notFound } from "./domain/visibility.js";
import type { Outbox, StoredTicket, TicketRecord, TicketStore, UnstoredTicket } from "./ports.js";
import { TicketCache } from "./ticket-cache.js";

/**
 * How every change reaches the store: load, decide (a command), and write the new
 * ticket, its timeline entries, its outbox entries and its records in one batch.
 * Optimistic concurrency throughout: a write is a compare-and-swap on the store's
 * etag, retried on a concurrent change unless the caller pinned a version with If-Match.
 */

export interface WriteOptions {
  /** The ETag the client saw (see etagOf), if it sent If-Match. */
  ifMatch?: string;
  requestId: string;
}

/**
 * The ticket's entity tag as clients see it: its revision, which every change a
 * person makes bumps. The notifier's bookkeeping (delivery entries, pages) does
 * not, so an agent's If-Match is not broken by an alert being delivered.
 */
export const etagOf = (t: Pick<Ticket, "revision">): string => `r${t.revision}`;

export interface UpdateExtras {
  /** The ticket's idempotency keys after the change (the comment use case claims its key). */
  keys?: (stored: StoredTicket, change: Change) => StoredTicket["keys"];
  records?: TicketRecord[];
  /** True when the request repeats one already applied: If-Match then no longer applies. */
  isReplay?: (stored: StoredTicket) => boolean;
}

export type Updated = StoredTicket & { entries: TimelineEntry[] };

const MAX_ATTEMPTS = 8;

export class TicketWriter {
  private readonly cache = new TicketCache(1000);

  constructor(private readonly deps: { store: TicketStore; outbox: Outbox }) {}

  /** The stored ticket, read fresh; remembered for the next write. */
  async read(id: string): Promise<StoredTicket | null> {
    const stored = await this.deps.store.get(id);
    if (stored) this.cache.set(stored);
    else this.cache.delete(id);
    return stored;
  }

  /** Stores a new ticket with its opening change. Failure "exists" if its id is taken. */
  async create(ticket: UnstoredTicket, change: Change, requestId: string, records: TicketRecord[] = []): Promise<StoredTicket> {
    const outbox = this.deps.outbox.entriesFor(change, requestId);
    const stored = await this.deps.store.create(ticket, { entries: change.entries, outbox, records });
    this.cache.set(stored);
    if (outbox.length) this.deps.outbox.written(outbox);
    return stored;
  }

  /**
   * One command on one ticket: compare-and-swap on the store's etag. The first
   * attempt uses the cached ticket when there is one, so a warm write is one round
   * trip. The cache is only trusted to write: anything decided on a cached copy
   * that writes nothing (a no-op, a refusal, a 412) is decided again on a fresh
   * read, and a stale copy costs a "stale" from the store and a re-read, never a lost
   * update. A null caller is the system itself (the escalation notifier): it sees
   * every ticket.
   */
  async update(
    caller: Principal | null,
    id: string,
    options: WriteOptions,
    decide: (ticket: Ticket, stored: StoredTicket) => Change,
    extras: UpdateExtras = {},
  ): Promise<Updated> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const cached = attempt === 0 ? this.cache.get(id) : undefined;
      const stored = cached ?? (await this.read(id));
      const fromCache = cached !== undefined;
      let change: Change;
      try {
        if (!stored || (caller && !canSee(stored.ticket, caller))) throw notFound();
        // If-Match names the version the client saw: its revision (see etagOf).
        if (options.ifMatch !== undefined && options.ifMatch !== etagOf(stored.ticket) && !extras.isReplay?.(stored)) {
          throw new Failure("precondition_failed", "The ticket has changed since that version (If-Match).");
        }
        change = decide(stored.ticket, stored);
      } catch (e) {
        if (fromCache && e instanceof Failure) continue;
        throw e;
      }
      if (change.entries.length === 0) {
        if (fromCache) continue;
        return { ...stored, entries: [] };
      }
      const outbox = this.deps.outbox.entriesFor(change, options.requestId);
      const keys = extras.keys?.(stored, change) ?? stored.keys;
      try {
        const write = { entries: change.entries, outbox, records: extras.records ?? [] };
        const next = await this.deps.store.commit(stored.etag, { ticket: change.ticket, keys, salt: stored.salt }, write);
        this.cache.set(next);
        if (outbox.length) this.deps.outbox.written(outbox);
        return { ...next, entries: change.entries };
      } catch (e) {
        if (!isFailure(e, "stale")) throw e;
        // Changed meanwhile: decide again on a fresh read (If-Match included).
        this.cache.delete(id);
      }
    }
    throw new Failure("unavailable", "The ticket is changing too fast; retry.", { retryAfter: 1 });
  }
}
