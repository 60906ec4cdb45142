import * as commands from "./commands.js";
import { Failure, notFound } from "./errors.js";
import { isAgent, type Principal, type Ticket, type TimelineEntry } from "./model.js";
import {
  StoreConflict,
  StorePreconditionFailed,
  type Agent,
  type KeyRecord,
  type ListPosition,
  type ListQuery,
  type OpenReceipt,
  type SideDocument,
  type StoredTicket,
  type TicketStore,
} from "./ports.js";
import { TicketCache } from "./ticket-cache.js";
import { TimelineSeal } from "./timeline-seal.js";

/**
 * The use cases: load, decide (commands.ts), store in one batch. Optimistic
 * concurrency throughout: a write is a compare-and-swap on the ticket's etag,
 * retried on a concurrent change unless the caller pinned a version with If-Match.
 */

export interface Deps {
  store: TicketStore;
  now: () => Date;
  /** A random 8-digit ticket number. */
  randomNumber: () => string;
  /** Hex SHA-256, used to derive ids from idempotency keys. */
  hash: (text: string) => string;
  /** Random hex (32 characters): ticket salts, cursor nonces. */
  randomHex: () => string;
  /**
   * Documents written in the same batch as a change: the escalation outbox
   * (DESIGN.md section 6), derived from the change's timeline entries.
   */
  sideDocuments?: (change: commands.Change, requestId: string) => SideDocument[];
  /** Told of the side documents of every change once it is stored. */
  onCommitted?: (side: SideDocument[]) => void;
}

export interface WriteOptions {
  ifMatch?: string;
  requestId: string;
}

export interface IdempotencyOptions {
  key: string;
  /** Hash of the request body: a retry must send the same one. */
  requestHash: string;
}

export interface Written<T> {
  value: T;
  /** The ticket's ETag after the request (see etagOf). */
  etag: string;
  replayed: boolean;
}

/**
 * The ticket's entity tag as clients see it: its revision, which every change a
 * person makes bumps. The notifier's bookkeeping (delivery entries, pages) does
 * not, so an agent's If-Match is not broken by an alert being delivered.
 */
export const etagOf = (t: Pick<Ticket, "revision">): string => `r${t.revision}`;

/** The form of every ticket id (see TicketService.ticketId). */
export const TICKET_ID = /^[0-9a-f]{24}$/;

const MAX_ATTEMPTS = 8;
const KEY_RETENTION_MS = 24 * 3600 * 1000;
const NUMBER_ATTEMPTS = 5;

export class TicketService {
  private readonly cache = new TicketCache(1000);
  private readonly inFlight = new Set<string>();
  private readonly knownAgents = new Map<string, Agent>();
  private readonly seal: TimelineSeal;

  constructor(private readonly deps: Deps) {
    this.seal = new TimelineSeal(deps.hash, deps.randomHex);
  }

  /** An entry as clients see it: its id sealed (TimelineSeal). */
  private published(stored: Pick<StoredTicket, "salt">, entry: TimelineEntry): TimelineEntry {
    return { ...entry, id: this.seal.entryId(stored.salt, entry.seq) };
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  /** Ticket ids are derived from the number, so a duplicate number is a conflicting create. */
  ticketId(number: string): string {
    return this.deps.hash(`ticket:${number}`).slice(0, 24);
  }

  /** An id for a user opened on behalf of, stable per email, so their tickets list together. */
  private requesterId = (email: string): string => `email:${this.deps.hash(email.toLowerCase()).slice(0, 32)}`;

  private side(change: commands.Change, requestId: string): SideDocument[] {
    return this.deps.sideDocuments?.(change, requestId) ?? [];
  }

  async open(
    caller: Principal,
    input: commands.OpenInput,
    options: { requestId: string; idempotency?: IdempotencyOptions },
  ): Promise<Written<Ticket>> {
    const idem = options.idempotency;
    return this.once(caller, idem, async () => {
      const keyHash = idem ? this.deps.hash(`${caller.id}\n${idem.key}`) : null;
      for (let attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
        // With a key, the number sequence is fixed by the key, so a retry finds its first ticket.
        const number = keyHash ? numberFromHash(this.deps.hash(`${keyHash}:${attempt}`)) : this.deps.randomNumber();
        const id = this.ticketId(number);
        const change = commands.openTicket(input, caller, { id, number, requesterId: this.requesterId }, this.nowIso());
        const side = this.side(change, options.requestId);
        if (idem && keyHash) {
          const receipt: OpenReceipt = { callerId: caller.id, keyHash, requestHash: idem.requestHash, ticket: change.ticket };
          side.push({ id: "open-receipt", type: "receipt", ...receipt });
        }
        try {
          const stored = await this.deps.store.create({ ticket: change.ticket, keys: {}, salt: this.deps.randomHex() }, change.entries, side);
          this.cache.set(stored);
          if (side.length) this.deps.onCommitted?.(side);
          return { value: stored.ticket, etag: etagOf(stored.ticket), replayed: false };
        } catch (e) {
          if (!(e instanceof StoreConflict)) throw e;
          if (idem && keyHash) {
            const receipt = await this.deps.store.getSide<OpenReceipt & SideDocument>(id, "open-receipt");
            if (receipt?.keyHash === keyHash) {
              if (receipt.requestHash !== idem.requestHash) throw keyReused();
              return { value: receipt.ticket, etag: etagOf(receipt.ticket), replayed: true };
            }
          }
          // Another ticket has this number: draw again.
        }
      }
      throw new Failure("unavailable", "Could not allocate a ticket number; try again.", [], 1);
    });
  }

  async get(caller: Principal, id: string): Promise<StoredTicket> {
    const stored = await this.load(id);
    if (!stored || !commands.canSee(stored.ticket, caller)) throw notFound();
    return stored;
  }

  triage(caller: Principal, id: string, input: commands.TriageInput, options: WriteOptions) {
    return this.update(caller, id, options, (t) => commands.triage(t, caller, input, this.nowIso()));
  }

  async assign(caller: Principal, id: string, agentId: string | null, options: WriteOptions) {
    let agent: { id: string; name: string } | null = null;
    // A requester is refused by the command itself (404 or 403), before any lookup.
    if (agentId !== null && isAgent(caller)) {
      const known = await this.agent(agentId);
      if (!known) throw new Failure("invalid", "Unknown agent.", [{ path: "agentId", message: "No agent with this id has used the help desk." }]);
      agent = { id: known.id, name: known.name };
    }
    return this.update(caller, id, options, (t) => commands.assign(t, caller, agent, this.nowIso()));
  }

  move(caller: Principal, id: string, input: commands.MoveInput, options: WriteOptions) {
    return this.update(caller, id, options, (t) => commands.move(t, caller, input, this.nowIso()));
  }

  async comment(
    caller: Principal,
    id: string,
    input: commands.CommentInput,
    options: WriteOptions & { idempotency?: IdempotencyOptions },
  ): Promise<Written<TimelineEntry>> {
    const idem = options.idempotency;
    const keyHash = idem ? this.deps.hash(`${caller.id}\n${idem.key}`) : null;
    return this.once(caller, idem, async () => {
      const result = await this.update(
        caller,
        id,
        options,
        (t, stored) => {
          const first = keyHash ? stored.keys[keyHash] : undefined;
          if (first && first.requestHash !== idem?.requestHash) throw keyReused();
          // A retry changes nothing: the comment it repeats is already there.
          return first ? { ticket: t, entries: [] } : commands.comment(t, caller, input, this.nowIso());
        },
        {
          isReplay: (stored) => keyHash !== null && stored.keys[keyHash]?.requestHash === idem?.requestHash,
          keys: (stored, change) => {
            if (!keyHash || !idem) return stored.keys;
            // Keys live on the ticket, so the compare-and-swap that adds the comment also
            // claims the key: two concurrent retries cannot both succeed.
            const cutoff = Date.parse(change.ticket.updatedAt) - KEY_RETENTION_MS;
            const kept = Object.entries(stored.keys).filter(([, r]) => Date.parse(r.at) >= cutoff);
            const record: KeyRecord = { requestHash: idem.requestHash, seq: change.entries[0]!.seq, revision: change.ticket.revision, at: change.ticket.updatedAt };
            return { ...Object.fromEntries(kept), [keyHash]: record };
          },
        },
      );
      const first = result.entries.length === 0 && keyHash ? result.keys[keyHash] : undefined;
      if (!first) return { value: this.published(result, result.entries[0]!), etag: etagOf(result.ticket), replayed: false };
      const entry = await this.deps.store.entry(id, first.seq);
      if (!entry) throw new Failure("unavailable", "The first response is not readable yet; retry.", [], 1);
      // The first response's ETag: the ticket's revision right after that comment.
      return { value: this.published(result, entry), etag: `r${first.revision}`, replayed: true };
    });
  }

  acknowledge(caller: Principal, id: string, options: WriteOptions) {
    return this.update(caller, id, options, (t) => commands.acknowledge(t, caller, this.nowIso()));
  }

  /**
   * Records one channel's delivery of one queue message on the ticket's timeline,
   * with a delivery document whose id is fixed by (message, channel): recording
   * the same delivery twice fails on that document and changes nothing.
   */
  async recordDelivery(ticketId: string, delivery: commands.Delivery): Promise<void> {
    const receipt: SideDocument = { id: this.deliveryId(delivery.messageId, delivery.channel), type: "delivery", ...delivery };
    try {
      await this.update(null, ticketId, { requestId: delivery.messageId }, (t) => commands.recordDelivery(t, delivery, this.nowIso()), { side: [receipt] });
    } catch (e) {
      if (!(e instanceof StoreConflict)) throw e;
    }
  }

  async wasDelivered(ticketId: string, messageId: string, channel: string): Promise<boolean> {
    return (await this.deps.store.getSide(ticketId, this.deliveryId(messageId, channel))) !== null;
  }

  /** One delivery: one queue message to one channel. Stable, so retries of it can be recognised. */
  deliveryId(messageId: string, channel: string): string {
    return `delivery-${this.deps.hash(`${messageId}\n${channel}`).slice(0, 32)}`;
  }

  /** A page of the history, oldest first; requesters get public entries only. */
  async timeline(caller: Principal, id: string, cursor: string | undefined, limit: number) {
    const stored = await this.get(caller, id);
    const afterSeq = cursor === undefined ? 0 : this.seal.seqOf(stored.salt, cursor);
    if (afterSeq === null) {
      throw new Failure("invalid", "The cursor is invalid.", [{ path: "cursor", message: "Use a nextCursor from a previous page of this timeline." }]);
    }
    const page = await this.deps.store.timeline(id, { afterSeq, limit, publicOnly: !isAgent(caller) });
    const last = page.entries.at(-1);
    return {
      entries: page.entries.map((e) => this.published(stored, e)),
      nextCursor: page.more && last ? this.seal.cursor(stored.salt, last.seq) : null,
    };
  }

  async list(caller: Principal, query: Omit<ListQuery, "after"> & { after?: ListPosition }) {
    if (!isAgent(caller)) {
      if (query.requester && query.requester !== caller.id) {
        throw new Failure("forbidden", "Requesters can only list their own tickets.");
      }
      query = { ...query, requester: caller.id };
    }
    return this.deps.store.list(query);
  }

  /** Makes an agent known to `GET /api/agents` on their first call (once per process). */
  async recordAgent(caller: Principal): Promise<void> {
    if (!isAgent(caller) || this.knownAgents.has(caller.id)) return;
    const agent: Agent = { id: caller.id, name: caller.name, email: caller.email, firstSeenAt: this.nowIso() };
    const existing = await this.deps.store.getAgent(caller.id);
    if (!existing || existing.name !== agent.name || existing.email !== agent.email) {
      await this.deps.store.putAgent({ ...agent, firstSeenAt: existing?.firstSeenAt ?? agent.firstSeenAt });
    }
    this.knownAgents.set(caller.id, existing ?? agent);
  }

  async agents(caller: Principal): Promise<Agent[]> {
    if (!isAgent(caller)) throw new Failure("forbidden", "Only agents may list agents.");
    return this.deps.store.listAgents();
  }

  private async agent(id: string): Promise<Agent | null> {
    const cached = this.knownAgents.get(id);
    if (cached) return cached;
    const agent = await this.deps.store.getAgent(id);
    if (agent) this.knownAgents.set(id, agent);
    return agent;
  }

  private async load(id: string): Promise<StoredTicket | null> {
    const stored = await this.deps.store.get(id);
    if (stored) this.cache.set(stored);
    else this.cache.delete(id);
    return stored;
  }

  /**
   * One command on one ticket: compare-and-swap on the store's etag. The first
   * attempt uses the cached ticket when there is one, so a warm write is one round
   * trip. The cache is only trusted to write: anything decided on a cached copy
   * that writes nothing (a no-op, a refusal, a 412) is decided again on a fresh
   * read, and a stale copy costs a 412 from the store and a re-read, never a lost
   * update.
   */
  private async update(
    caller: Principal | null,
    id: string,
    options: WriteOptions,
    decide: (ticket: Ticket, stored: StoredTicket) => commands.Change,
    extra: {
      keys?: (stored: StoredTicket, change: commands.Change) => StoredTicket["keys"];
      side?: SideDocument[];
      /** True when the request repeats one already applied: If-Match then no longer applies. */
      isReplay?: (stored: StoredTicket) => boolean;
    } = {},
  ): Promise<StoredTicket & { entries: TimelineEntry[] }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const cached = attempt === 0 ? this.cache.get(id) : undefined;
      const stored = cached ?? (await this.load(id));
      const fromCache = cached !== undefined;
      let change: commands.Change;
      try {
        // A null caller is the system itself (the escalation notifier): it sees every ticket.
        if (!stored || (caller && !commands.canSee(stored.ticket, caller))) throw notFound();
        // If-Match names the version the client saw: its revision (see etagOf).
        if (options.ifMatch !== undefined && options.ifMatch !== etagOf(stored.ticket) && !extra.isReplay?.(stored)) {
          throw preconditionFailed();
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
      const side = [...this.side(change, options.requestId), ...(extra.side ?? [])];
      const keys = extra.keys?.(stored, change) ?? stored.keys;
      try {
        const next = await this.deps.store.commit(stored.etag, { ticket: change.ticket, keys, salt: stored.salt }, change.entries, side);
        this.cache.set(next);
        if (side.length) this.deps.onCommitted?.(side);
        return { ...next, entries: change.entries };
      } catch (e) {
        if (!(e instanceof StorePreconditionFailed)) throw e;
        // Changed meanwhile: decide again on a fresh read (If-Match included).
        this.cache.delete(id);
      }
    }
    throw new Failure("unavailable", "The ticket is changing too fast; retry.", [], 1);
  }

  /** Refuses a second request with the same key while the first is still running. */
  private async once<T>(caller: Principal, idem: IdempotencyOptions | undefined, run: () => Promise<T>): Promise<T> {
    if (!idem) return run();
    const slot = `${caller.id}\n${idem.key}`;
    if (this.inFlight.has(slot)) throw new Failure("in_flight", "A request with this Idempotency-Key is still being processed.");
    this.inFlight.add(slot);
    try {
      return await run();
    } finally {
      this.inFlight.delete(slot);
    }
  }
}

const keyReused = () => new Failure("key_reused", "This Idempotency-Key was used with a different request body.");
const preconditionFailed = () => new Failure("precondition_failed", "The ticket has changed since that version (If-Match).");

/** 8 digits, not starting with 0, from a hex hash. */
export function numberFromHash(hex: string): string {
  return String(10_000_000 + (Number.parseInt(hex.slice(0, 12), 16) % 90_000_000));
}
