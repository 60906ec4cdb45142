import { Failure, isFailure } from "../kernel/failure.js";
import { isAgent, type Principal } from "../kernel/principal.js";
import { systemScheduler, type Scheduler } from "../kernel/scheduler.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../sla/domain/policy.js";
import type { Change } from "./domain/change.js";
import { withSla } from "./domain/sla.js";
import { publicRevisionOf, type Ticket, type TimelineEntry } from "./domain/model.js";
import { canSee, notFound } from "./domain/visibility.js";
import type { Outbox, StoredTicket, TicketRecord, TicketStore } from "./ports.js";
import { TicketCache } from "./ticket-cache.js";

/**
 * How every change reaches the store: load, decide (a command), move the SLA clocks by
 * it (domain/sla.ts), and write the new ticket, its timeline entries, its outbox entries
 * and its records in one batch.
 * Optimistic concurrency throughout: a write is a compare-and-swap on the store's
 * etag, retried on a concurrent change unless the caller pinned a version with If-Match.
 */

export interface WriteOptions {
  /** The ETag the client saw (see etagFor), if it sent If-Match. */
  ifMatch?: string;
  requestId: string;
}

/**
 * The people's changes to a ticket: its revision, which every change a person makes
 * moves and the system's bookkeeping (an alert delivered) does not. What an agent's
 * If-Match is compared with (ifMatchHolds).
 */
export const etagOf = (t: Pick<Ticket, "revision">): string => `r${t.revision}`;

/**
 * The ETag of the representation a caller receives, so that a conditional GET answers
 * 304 only when nothing they can see has changed. An agent's, `r<revision>.<version>`,
 * moves with every change, bookkeeping too (an alert's delivery counts a page); a
 * requester's counts only the changes they could see, so an internal note, triage or
 * bookkeeping never tells them that something happened out of their sight. A null
 * caller is the system, which compares as an agent.
 */
export function etagFor(t: Pick<Ticket, "revision" | "version" | "publicRevision">, caller: Principal | null): string {
  return caller === null || isAgent(caller) ? `${etagOf(t)}.${t.version}` : `p${publicRevisionOf(t)}`;
}

/**
 * Whether a write's If-Match still holds: a requester's against their own ETag; an
 * agent's against the revision alone (etagOf, with or without the version etagFor adds),
 * so that the system's bookkeeping never makes an agent's write stale.
 */
export function ifMatchHolds(
  ifMatch: string,
  t: Pick<Ticket, "revision" | "version" | "publicRevision">,
  caller: Principal | null,
): boolean {
  if (caller !== null && !isAgent(caller)) return ifMatch === etagFor(t, caller);
  const revision = /^r(\d+)(?:\.\d+)?$/.exec(ifMatch)?.[1];
  return revision !== undefined && Number(revision) === t.revision;
}

export interface UpdateExtras {
  /**
   * Reads what the decision depends on besides the ticket (a comment's idempotency
   * receipt): on every attempt, after the ticket is at hand and before deciding.
   */
  load?: () => Promise<void>;
  /** Records written in the change's batch, made from the change (a comment's receipt names its entry). */
  records?: (change: Change) => TicketRecord[];
  /** True when the request repeats one already applied: If-Match then no longer applies. */
  isReplay?: () => boolean;
}

export type Updated = StoredTicket & { entries: TimelineEntry[] };

/**
 * How long a write under contention keeps trying, and how it waits between tries:
 * after its n-th "stale", a pause drawn uniformly from [0, min(capMs, baseMs * 2^(n-1)))
 * ("full jitter"), so writers that collided spread out instead of colliding again in
 * step. When the next pause would end past the budget, the write gives up with 503.
 */
export interface Backoff {
  budgetMs: number;
  baseMs: number;
  capMs: number;
}

/** A few seconds in all: well inside an HTTP client's patience, and enough for 100 writers on one ticket. */
export const CONTENTION_BACKOFF: Backoff = { budgetMs: 5000, baseMs: 10, capMs: 500 };

export interface WriterDeps {
  store: TicketStore;
  outbox: Outbox;
  /** The clock of the budget and the timer of the pauses; the system's unless a test brings its own. */
  scheduler?: Scheduler;
  /** Uniform in [0, 1): the jitter. */
  random?: () => number;
  backoff?: Backoff;
  /**
   * The SLA policy in force (kept a few seconds: shared/sla/policy-source.ts), read afresh when
   * the one kept is older than `atLeast` (another instance stored a newer one, which a ticket
   * follows already); the defaults without it.
   */
  slaPolicy?: (atLeast: number) => Promise<SlaPolicy>;
}

export class TicketWriter {
  private readonly cache = new TicketCache(1000);

  constructor(private readonly deps: WriterDeps) {}

  /** Waits before the `retry`-th retry (1, 2, ...); false when that wait would end past `deadline`. */
  private async pause(retry: number, deadline: number): Promise<boolean> {
    const { scheduler = systemScheduler, random = Math.random, backoff = CONTENTION_BACKOFF } = this.deps;
    const ms = random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** (retry - 1));
    if (scheduler.now().getTime() + ms > deadline) return false;
    await new Promise<void>((resolve) => scheduler.after(ms, resolve));
    return true;
  }

  /** The stored ticket, read fresh; remembered for the next write. */
  async read(id: string): Promise<StoredTicket | null> {
    const stored = await this.deps.store.get(id);
    if (stored) this.cache.set(stored);
    else this.cache.delete(id);
    return stored;
  }

  /**
   * The copy of the ticket this instance last saw, perhaps stale, else one read now: only for
   * what never changes (its requester, and so who may see it; its salt), never to decide a
   * change on. An instance that has seen the ticket answers without a round trip.
   */
  async known(id: string): Promise<StoredTicket | null> {
    return this.cache.get(id) ?? this.read(id);
  }

  /** A ticket read fresh by another query (a timeline page carries it): remembered for the next write. */
  remember(stored: StoredTicket): void {
    this.cache.set(stored);
  }

  /** The policy to judge a change of `ticket` by: never older than the one it follows. */
  private policy(ticket: Ticket | null): Promise<SlaPolicy> {
    return this.deps.slaPolicy?.(ticket?.sla?.policyVersion ?? 0) ?? Promise.resolve(DEFAULT_SLA_POLICY);
  }

  /**
   * Stores a new ticket with its opening change, and the records made from it (an open's
   * receipt holds the ticket). Failure "exists" if its id is taken.
   */
  async create(
    opening: Change,
    salt: string,
    requestId: string,
    records: (change: Change) => TicketRecord[] = () => [],
  ): Promise<StoredTicket> {
    const change = withSla(null, opening, await this.policy(null));
    const outbox = this.deps.outbox.entriesFor(change, requestId);
    const stored = await this.deps.store.create(
      { ticket: change.ticket, salt },
      { entries: change.entries, outbox, records: records(change) },
    );
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
    decide: (ticket: Ticket) => Change,
    extras: UpdateExtras = {},
  ): Promise<Updated> {
    const { scheduler = systemScheduler, backoff = CONTENTION_BACKOFF } = this.deps;
    const deadline = scheduler.now().getTime() + backoff.budgetMs;
    let stale = 0;
    for (let attempt = 0; ; attempt++) {
      const cached = attempt === 0 ? this.cache.get(id) : undefined;
      const stored = cached ?? (await this.read(id));
      const fromCache = cached !== undefined;
      let change: Change;
      try {
        if (!stored || (caller && !canSee(stored.ticket, caller))) throw notFound();
        await extras.load?.();
        // If-Match names the version the client saw: their own ETag (etagFor).
        if (options.ifMatch !== undefined && !ifMatchHolds(options.ifMatch, stored.ticket, caller) && !extras.isReplay?.()) {
          throw new Failure("precondition_failed", "The ticket has changed since that version (If-Match).");
        }
        change = withSla(stored.ticket, decide(stored.ticket), await this.policy(stored.ticket));
      } catch (e) {
        if (fromCache && e instanceof Failure) continue;
        throw e;
      }
      if (change.entries.length === 0) {
        if (fromCache) continue;
        return { ...stored, entries: [] };
      }
      const outbox = this.deps.outbox.entriesFor(change, options.requestId);
      const records = extras.records?.(change) ?? [];
      try {
        const write = { entries: change.entries, outbox, records };
        const next = await this.deps.store.commit(stored.etag, { ticket: change.ticket, salt: stored.salt }, write);
        this.cache.set(next);
        if (outbox.length) this.deps.outbox.written(outbox);
        return { ...next, entries: change.entries };
      } catch (e) {
        if (!isFailure(e, "stale")) throw e;
        // Changed meanwhile: decide again on a fresh read (If-Match included), after a pause.
        this.cache.delete(id);
        if (!(await this.pause(++stale, deadline))) {
          // Its last try lost on If-Match: nothing of it was written.
          throw new Failure("unavailable", "The ticket is changing too fast; retry.", { retryAfter: 1, nothingWritten: true });
        }
      }
    }
  }
}
