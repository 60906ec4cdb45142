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

  /** A cursor after `seq`: a fresh nonce each time, and the number masked by a keyed pad. */
  cursor(salt: string, seq: number): string {
    const nonce = this.random().slice(0, 12);
    const masked = BigInt(seq) ^ this.pad(salt, nonce);
    return `${nonce}${masked.toString(16).padStart(12, "0")}`;
  }

  /** The number a cursor stands for, or null if it is not one of this ticket's cursors. */
  seqOf(salt: string, cursor: string): number | null {
    if (!/^[0-9a-f]{24}$/.test(cursor)) return null;
    const seq = Number(BigInt(`0x${cursor.slice(12)}`) ^ this.pad(salt, cursor.slice(0, 12)));
    return Number.isSafeInteger(seq) && seq >= 0 && seq < 2 ** 32 ? seq : null;
  }

  private pad(salt: string, nonce: string): bigint {
    return BigInt(`0x${this.hash(`cursor:${salt}:${nonce}`).slice(0, 12)}`);
  }
}
