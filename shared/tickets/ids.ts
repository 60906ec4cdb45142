import { createHash, randomBytes, randomInt } from "node:crypto";

/**
 * How tickets and the people they belong to are named. Ids are derived, not drawn:
 * a ticket's id from its number (so a duplicate number is a conflicting create), and
 * the id of someone a ticket is opened on behalf of from their email (so their tickets
 * list together).
 */
export interface Randomness {
  /** A random 8-digit ticket number. */
  randomNumber: () => string;
  /** Random hex (32 characters): ticket salts, cursor nonces. */
  randomHex: () => string;
  /** Hex SHA-256: ids derived from numbers, emails and idempotency keys. */
  hash: (text: string) => string;
}

/** SHA-256 in hex: what every id derived from a text is made with. */
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** The process's own randomness (the tests fix their own where they need to). */
export const systemRandomness: Randomness = {
  randomNumber: () => String(randomInt(10_000_000, 100_000_000)),
  randomHex: () => randomBytes(16).toString("hex"),
  hash: sha256,
};

/** The form of every ticket id (ticketIdOf): anything else names no ticket. */
export const TICKET_ID = /^[0-9a-f]{24}$/;

export const ticketIdOf = (hash: Randomness["hash"], number: string): string => hash(`ticket:${number}`).slice(0, 24);

export const requesterIdOf = (hash: Randomness["hash"], email: string): string => `email:${hash(email.toLowerCase()).slice(0, 32)}`;

/** 8 digits, not starting with 0, from a hex hash. */
export function numberFromHash(hex: string): string {
  return String(10_000_000 + (Number.parseInt(hex.slice(0, 12), 16) % 90_000_000));
}
