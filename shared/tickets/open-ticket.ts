import { Failure, isFailure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import * as commands from "./domain/commands.js";
import type { Change } from "./domain/change.js";
import type { OpenInput } from "./domain/inputs.js";
import type { Ticket } from "./domain/model.js";
import { numberFromHash, requesterIdOf, ticketIdOf, type Randomness } from "./ids.js";
import { InFlightKeys, keyHashOf, keyReused, OPEN_RECEIPT_ID, OpenReceipt, type IdempotencyOptions } from "./idempotency.js";
import {
  outcomeOfFailure,
  type AttachmentCheck,
  type PreparedFiles,
  type TicketRecord,
  type TicketStore,
  type WriteOutcome,
} from "./ports.js";
import { etagFor, type TicketWriter } from "./ticket-writer.js";

export interface OpenDeps {
  store: TicketStore;
  writer: TicketWriter;
  randomness: Randomness;
  now: () => Date;
  inFlight: InFlightKeys;
  /** Checks the files an opening names; without it, naming one is refused. */
  attachments?: AttachmentCheck;
}

export interface Opened {
  ticket: Ticket;
  /** The ETag of the response (see etagFor). */
  etag: string;
  replayed: boolean;
}

/** Draws left before giving up on a free ticket number (8 digits: collisions are rare). */
const NUMBER_ATTEMPTS = 5;

/**
 * POST /api/tickets: a new ticket under a fresh number. With an Idempotency-Key the
 * numbers drawn are fixed by the key, so a retry lands on its first ticket's number,
 * finds the receipt there, and replays the first response.
 *
 * Files the opening names (uploaded with POST /api/attachments) are checked and copied for
 * the ticket each number is drawn for, and their records created in its batch. A keyed retry
 * looks for its first ticket before it checks them: their uploads were spent by the first.
 */
export async function openTicket(
  deps: OpenDeps,
  caller: Principal,
  input: OpenInput,
  options: { requestId: string; idempotency?: IdempotencyOptions },
): Promise<Opened> {
  const { hash } = deps.randomness;
  const idem = options.idempotency;
  const keyHash = idem ? keyHashOf(hash, caller, idem.key) : null;
  const numberOf = (attempt: number) => (keyHash ? numberFromHash(hash(`${keyHash}:${attempt}`)) : deps.randomness.randomNumber());
  /** The first response, if the ticket with this id is the one this key opened. */
  const replayAt = async (id: string): Promise<Opened | null> => {
    if (!idem || !keyHash) return null;
    const receipt = await deps.store.record(id, OPEN_RECEIPT_ID, OpenReceipt);
    if (receipt?.keyHash !== keyHash) return null;
    if (receipt.requestHash !== idem.requestHash) throw keyReused();
    return { ticket: receipt.ticket, etag: etagFor(receipt.ticket, caller), replayed: true };
  };
  /** A keyed retry's first ticket, looked for along the numbers its key draws, up to the first that is free. */
  const firstOpened = async (): Promise<Opened | null> => {
    for (let attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
      const id = ticketIdOf(hash, numberOf(attempt));
      const replay = await replayAt(id);
      if (replay || !(await deps.store.get(id))) return replay;
    }
    return null;
  };
  return deps.inFlight.run(keyHash, async () => {
    const ids = input.attachments;
    if (ids && keyHash) {
      const replay = await firstOpened();
      if (replay) return replay;
    }
    for (let attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
      const number = numberOf(attempt);
      const id = ticketIdOf(hash, number);
      const opening = (files: PreparedFiles | null) =>
        commands.openTicket(
          input,
          caller,
          { id, number, requesterId: (email) => requesterIdOf(hash, email) },
          deps.now().toISOString(),
          files?.refs,
        );
      const files = ids ? await prepareFiles(id, ids) : null;
      let outcome: WriteOutcome = "not_written";
      try {
        const change = opening(files);
        // The receipt holds the ticket as stored (its clocks started), to replay the first response.
        const records = (stored: Change): TicketRecord[] => {
          const attached = files?.records(stored.entries[0]!.seq, "public") ?? [];
          if (!idem || !keyHash) return attached;
          const receipt: OpenReceipt = { callerId: caller.id, keyHash, requestHash: idem.requestHash, ticket: stored.ticket };
          return [{ id: OPEN_RECEIPT_ID, type: "receipt", ...receipt }, ...attached];
        };
        const stored = await deps.writer.create(change, deps.randomness.randomHex(), options.requestId, records);
        outcome = "written";
        return { ticket: stored.ticket, etag: etagFor(stored.ticket, caller), replayed: false };
      } catch (e) {
        if (!isFailure(e, "exists")) {
          outcome = outcomeOfFailure(e);
          throw e;
        }
        const replay = await replayAt(id);
        if (replay) return replay;
        // Another ticket has this number: draw again.
      } finally {
        await files?.settle(outcome);
      }
    }
    throw new Failure("unavailable", "Could not allocate a ticket number; try again.", { retryAfter: 1 });
  });

  function prepareFiles(ticketId: string, ids: readonly string[]): Promise<PreparedFiles> {
    if (!deps.attachments) throw new Failure("invalid", "This host takes no attachments.");
    return deps.attachments.prepare(caller, ticketId, ids, "opening");
  }
}
