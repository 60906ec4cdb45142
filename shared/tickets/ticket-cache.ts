import type { StoredTicket } from "./ports.js";

/**
 * The last version of recently touched tickets, so that a write right after a
 * read or another write needs no second read. Safe because every write is a
 * compare-and-swap on the etag: a stale entry costs a retry, never a lost update.
 */
export class TicketCache {
  private readonly entries = new Map<string, StoredTicket>();

  constructor(private readonly capacity: number) {}

  get(id: string): StoredTicket | undefined {
    const hit = this.entries.get(id);
    if (hit) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(id);
      this.entries.set(id, hit);
    }
    return hit;
  }

  set(stored: StoredTicket): void {
    this.entries.delete(stored.ticket.id);
    this.entries.set(stored.ticket.id, stored);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(id: string): void {
    this.entries.delete(id);
  }
}
