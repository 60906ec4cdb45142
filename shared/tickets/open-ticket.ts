import { Failure, isFailure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import * as commands from "./domain/commands.js";
import type { Change } from "./domain/change.js";
import type { OpenInput } from "./domain/inputs.js";
import type { Ticket } from "./domain/model.js";
import { numberFromHash, requesterIdOf, ticketIdOf, type Randomness } from "./ids.js";
import { InFlightKeys, keyHashOf, keyReused, OPEN_RECEIPT_ID, OpenReceipt, type IdempotencyOptions } from "./idempotency.js";
import type { TicketRecord, TicketStore } from "./ports.js";
import { etagFor, type TicketWriter } from "./ticket-writer.js";

export interface OpenDeps {
  store: TicketStore;
  writer: TicketWriter;
  randomness: Randomness;
  now: () => Date;
  inFlight: InFlightKeys;
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
  return deps.inFlight.run(keyHash, async () => {
    for (let attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
      const number = keyHash ? numberFromHash(hash(`${keyHash}:${attempt}`)) : deps.randomness.randomNumber();
      const id = ticketIdOf(hash, number);
      const change = commands.openTicket(
        input,
        caller,
        { id, number, requesterId: (email) => requesterIdOf(hash, email) },
        deps.now().toISOString(),
      );
      // The receipt holds the ticket as stored (its clocks started), to replay the first response.
      const records = (stored: Change): TicketRecord[] => {
        if (!idem || !keyHash) return [];
        const receipt: OpenReceipt = { callerId: caller.id, keyHash, requestHash: idem.requestHash, ticket: stored.ticket };
        return [{ id: OPEN_RECEIPT_ID, type: "receipt", ...receipt }];
      };
      try {
        const stored = await deps.writer.create(change, deps.randomness.randomHex(), options.requestId, records);
        return { ticket: stored.ticket, etag: etagFor(stored.ticket, caller), replayed: false };
      } catch (e) {
        if (!isFailure(e, "exists")) throw e;
        if (idem && keyHash) {
          const receipt = await deps.store.record(id, OPEN_RECEIPT_ID, OpenReceipt);
          if (receipt?.keyHash === keyHash) {
            if (receipt.requestHash !== idem.requestHash) throw keyReused();
            return { ticket: receipt.ticket, etag: etagFor(receipt.ticket, caller), replayed: true };
          }
        }
        // Another ticket has this number: draw again.
      }
    }
    throw new Failure("unavailable", "Could not allocate a ticket number; try again.", { retryAfter: 1 });
  });
}
