import { Failure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import * as commands from "./domain/commands.js";
import type { CommentInput } from "./domain/inputs.js";
import type { TimelineEntry } from "./domain/model.js";
import { InFlightKeys, keyHashOf, keyReused, keysWith, type IdempotencyOptions } from "./idempotency.js";
import type { TicketStore } from "./ports.js";
import type { TimelineSeal } from "./timeline-seal.js";
import { etagOf, type TicketWriter, type WriteOptions } from "./ticket-writer.js";

export interface CommentDeps {
  store: TicketStore;
  writer: TicketWriter;
  hash: (text: string) => string;
  now: () => Date;
  inFlight: InFlightKeys;
  seal: TimelineSeal;
}

export interface Commented {
  /** The comment's timeline entry, its id sealed. */
  entry: TimelineEntry;
  /** The ticket's ETag right after the comment: on a replay, the first response's. */
  etag: string;
  replayed: boolean;
}

/** POST /api/tickets/{id}/comments: a public reply or an internal note, honouring Idempotency-Key. */
export async function commentOnTicket(
  deps: CommentDeps,
  caller: Principal,
  id: string,
  input: CommentInput,
  options: WriteOptions & { idempotency?: IdempotencyOptions },
): Promise<Commented> {
  const idem = options.idempotency;
  const keyHash = idem ? keyHashOf(deps.hash, caller, idem.key) : null;
  const firstOf = (keys: Record<string, { requestHash: string }>) => (keyHash ? keys[keyHash] : undefined);
  return deps.inFlight.run(keyHash, async () => {
    const result = await deps.writer.update(
      caller,
      id,
      options,
      (ticket, stored) => {
        const first = firstOf(stored.keys);
        if (first && first.requestHash !== idem?.requestHash) throw keyReused();
        // A retry changes nothing: the comment it repeats is already there.
        return first ? { ticket, entries: [], events: [] } : commands.comment(ticket, caller, input, deps.now().toISOString());
      },
      {
        isReplay: (stored) => firstOf(stored.keys)?.requestHash === idem?.requestHash && keyHash !== null,
        keys: (stored, change) =>
          keyHash && idem
            ? keysWith(stored.keys, keyHash, {
                requestHash: idem.requestHash,
                seq: change.entries[0]!.seq,
                revision: change.ticket.revision,
                at: change.ticket.updatedAt,
              })
            : stored.keys,
      },
    );
    const first = result.entries.length === 0 && keyHash ? result.keys[keyHash] : undefined;
    if (!first) return { entry: deps.seal.published(result.salt, result.entries[0]!), etag: etagOf(result.ticket), replayed: false };
    const entry = await deps.store.entry(id, first.seq);
    if (!entry) throw new Failure("unavailable", "The first response is not readable yet; retry.", { retryAfter: 1 });
    // The first response's ETag: the ticket's revision right after that comment.
    return { entry: deps.seal.published(result.salt, entry), etag: etagOf(first), replayed: true };
  });
}
