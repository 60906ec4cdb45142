import { Failure, isFailure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import * as commands from "./domain/commands.js";
import type { CommentInput } from "./domain/inputs.js";
import type { TimelineEntry } from "./domain/model.js";
import {
  CommentReceipt,
  commentReceiptId,
  commentReceiptRecord,
  InFlightKeys,
  keyHashOf,
  keyReused,
  type IdempotencyOptions,
} from "./idempotency.js";
import { outcomeOfFailure, type AttachmentCheck, type PreparedFiles, type TicketStore, type WriteOutcome } from "./ports.js";
import { canSee, notFound } from "./domain/visibility.js";
import type { TimelineSeal } from "./timeline-seal.js";
import { etagFor, type TicketWriter, type Updated, type WriteOptions } from "./ticket-writer.js";

export interface CommentDeps {
  store: TicketStore;
  writer: TicketWriter;
  hash: (text: string) => string;
  now: () => Date;
  inFlight: InFlightKeys;
  seal: TimelineSeal;
  /** Checks the files a comment names; without it, naming one is refused. */
  attachments?: AttachmentCheck;
}

export interface Commented {
  /** The comment's timeline entry, its id sealed. */
  entry: TimelineEntry;
  /** The ticket's ETag right after the comment: on a replay, the first response's. */
  etag: string;
  replayed: boolean;
}

/**
 * POST /api/tickets/{id}/comments: a public reply or an internal note, honouring Idempotency-Key.
 *
 * A keyed comment's receipt is a document of its own in the ticket's partition, its id
 * fixed by the key, created in the same batch as the comment: the ticket's replace with
 * `ifMatch`, the comment's timeline entry, the receipt. The batch is all-or-nothing (on
 * Cosmos DB, and on the embedded endpoint as patched), so a retry whose first request
 * was written fails on the receipt's create ("exists") and writes nothing. So the first
 * attempt does not read the receipt: a keyed comment is one round trip on a warm
 * instance, as one without a key. Any refusal of that attempt (the receipt exists; the
 * client's If-Match no longer holds, or the ticket is closed, because the first request
 * moved it on) is decided again with the receipt read after the ticket, on every attempt,
 * so that a retry replays the first response wherever the ticket has gone since.
 *
 * Files the comment names are claimed, checked and copied first (AttachmentCheck), once,
 * outside the write's retries, and the batch creates their records. A keyed retry of a
 * comment written already attaches nothing again: its receipt is read before the files are
 * (that read is the one a keyed comment with files costs more).
 */
export async function commentOnTicket(
  deps: CommentDeps,
  caller: Principal,
  id: string,
  input: CommentInput,
  options: WriteOptions & { idempotency?: IdempotencyOptions },
): Promise<Commented> {
  const idem = options.idempotency;
  const keyHash = idem ? keyHashOf(deps.hash, caller, idem.key) : null;
  // What the latest attempt read of the receipt (an object: it is set inside the writer's loop).
  const seen: { first: CommentReceipt | null } = { first: null };
  const readReceipt = async () => {
    if (keyHash) seen.first = await deps.store.record(id, commentReceiptId(keyHash), CommentReceipt);
  };
  const attempt = (files: PreparedFiles | null, readFirst: boolean): Promise<Updated> =>
    deps.writer.update(
      caller,
      id,
      options,
      (ticket) => {
        const { first } = seen;
        if (first && first.requestHash !== idem?.requestHash) throw keyReused();
        // A retry changes nothing: the comment it repeats is already there.
        return first ? { ticket, entries: [], events: [] } : commands.comment(ticket, caller, input, deps.now().toISOString(), files?.refs);
      },
      {
        load: readFirst ? readReceipt : undefined,
        isReplay: () => idem !== undefined && seen.first?.requestHash === idem.requestHash,
        records: (change) => {
          const seq = change.entries[0]!.seq;
          const receipt =
            keyHash && idem
              ? [
                  commentReceiptRecord({
                    keyHash,
                    requestHash: idem.requestHash,
                    seq,
                    revision: change.ticket.revision,
                    publicRevision: change.ticket.publicRevision,
                    version: change.ticket.version,
                    at: change.ticket.updatedAt,
                  }),
                ]
              : [];
          return [...receipt, ...(files?.records(seq, input.visibility) ?? [])];
        },
      },
    );
  return deps.inFlight.run(keyHash, async () => {
    const files = input.attachments ? await prepareFiles(input.attachments) : null;
    let result: Updated | undefined;
    let outcome: WriteOutcome = "not_written";
    try {
      if (keyHash) {
        try {
          result = await attempt(files, false);
        } catch (e) {
          if (!(e instanceof Failure) || e.kind === "unavailable") throw e;
        }
      }
      // The receipt was there after all (a read that lagged the write; Cosmos DB applied nothing
      // of the batch): again, and the read finds it. A read that keeps lagging is an outage.
      for (let tries = 0; !result; tries++) {
        try {
          result = await attempt(files, true);
        } catch (e) {
          if (!keyHash || !isFailure(e, "exists")) throw e;
          if (tries === 2)
            throw new Failure("unavailable", "The first request with this Idempotency-Key is not readable yet; retry.", {
              retryAfter: 1,
              nothingWritten: true,
            });
        }
      }
      if (result.entries.length > 0) outcome = "written";
    } catch (e) {
      outcome = outcomeOfFailure(e);
      throw e;
    } finally {
      await files?.settle(outcome);
    }
    const first = result.entries.length === 0 ? seen.first : null;
    if (!first)
      return { entry: deps.seal.published(result.salt, result.entries[0]!), etag: etagFor(result.ticket, caller), replayed: false };
    const entry = await deps.store.entry(id, first.seq);
    if (!entry) throw new Failure("unavailable", "The first response is not readable yet; retry.", { retryAfter: 1 });
    // The first response's ETag: the caller's, of the ticket right after that comment.
    return {
      entry: deps.seal.published(result.salt, entry),
      etag: etagFor({ ...first, version: first.version ?? first.seq }, caller),
      replayed: true,
    };
  });

  /** The files checked, for a caller who may see the ticket (a stranger gets its 404 first); none for a keyed retry. */
  async function prepareFiles(ids: readonly string[]): Promise<PreparedFiles | null> {
    // Who may see a ticket never changes: the copy this instance last saw will do.
    const known = await deps.writer.known(id);
    if (!known || !canSee(known.ticket, caller)) throw notFound();
    await readReceipt();
    if (seen.first) return null;
    if (!deps.attachments) throw new Failure("invalid", "This host takes no attachments.");
    return deps.attachments.prepare(caller, id, ids, "ticket");
  }
}
