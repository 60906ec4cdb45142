import type { TimelineEntry } from "./domain/model.js";

/**
 * Timeline entry ids and cursors that tell a requester nothing of the entries they
 * do not see. Entries are numbered 1, 2, 3... across all visibilities; ids or a
 * cursor derived from those numbers alone would let a requester count the internal
 * notes between two replies. Both are keyed by the ticket's secret salt instead
 * (stored with the ticket, never sent).
 */
export class TimelineSeal {
  constructor(
    private readonly hash: (text: string) => string,
    /** Random hex, at least 12 characters. */
    private readonly random: () => string,
  ) {}

  entryId(salt: string, seq: number): string {
    return this.hash(`entry:${salt}:${seq}`).slice(0, 20);
  }

  /** An entry as clients see it: its id sealed. */
  published(salt: string, entry: TimelineEntry): TimelineEntry {
    return { ...entry, id: this.entryId(salt, entry.seq) };
  }

  /**
   * A cursor after `seq`: a fresh nonce each time, the number masked by a keyed pad,
   * and a keyed tag, so that a cursor with flipped bits is refused rather than read
   * as another number (which would let a requester probe the numbering).
   */
  cursor(salt: string, seq: number): string {
    const nonce = this.random().slice(0, 12);
    const masked = BigInt(seq) ^ this.pad(salt, nonce);
    return `${nonce}${masked.toString(16).padStart(12, "0")}${this.tag(salt, nonce, seq)}`;
  }

  /** The number a cursor stands for, or null if it is not one of this ticket's cursors. */
  seqOf(salt: string, cursor: string): number | null {
    if (!/^[0-9a-f]{40}$/.test(cursor)) return null;
    const nonce = cursor.slice(0, 12);
    const seq = Number(BigInt(`0x${cursor.slice(12, 24)}`) ^ this.pad(salt, nonce));
    return cursor.slice(24) === this.tag(salt, nonce, seq) ? seq : null;
  }

  private tag(salt: string, nonce: string, seq: number): string {
    return this.hash(`tag:${salt}:${nonce}:${seq}`).slice(0, 16);
  }

  private pad(salt: string, nonce: string): bigint {
    return BigInt(`0x${this.hash(`cursor:${salt}:${nonce}`).slice(0, 12)}`);
  }
}
