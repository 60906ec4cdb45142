import { messageFor, type OutboxEntry } from "./outbox.js";
import type { Publisher } from "./publisher.js";

/** Where unsent outbox entries are found and marked sent (the Cosmos DB adapter). */
export interface OutboxStore {
  unsentOutbox(options: { createdBefore?: string; limit: number }): Promise<OutboxEntry[]>;
  markOutboxSent(entry: OutboxEntry): Promise<void>;
}

/**
 * Publishes outbox entries to the queue, then marks them sent. A crash between
 * the two republishes the same messageId later, which the queue's duplicate
 * detection drops (and the notifier's delivery records would catch): no entry is
 * lost and no alert is sent twice.
 */
export class Dispatcher {
  constructor(
    private readonly outbox: OutboxStore,
    private readonly publisher: Publisher,
  ) {}

  /** Throws if the queue does not take them, so the caller (change feed, sweep) retries. */
  async dispatch(entries: OutboxEntry[]): Promise<number> {
    const unsent = entries.filter((e) => e.type === "outbox" && !e.sent);
    if (unsent.length === 0) return 0;
    await this.publisher.publish(unsent.map(messageFor));
    await Promise.all(unsent.map((e) => this.outbox.markOutboxSent(e)));
    return unsent.length;
  }

  /** Entries still unsent after `ageMs`: the change feed missed them or their publish failed. */
  async sweep(ageMs: number, now = new Date()): Promise<number> {
    const createdBefore = new Date(now.getTime() - ageMs).toISOString();
    let total = 0;
    for (;;) {
      const batch = await this.outbox.unsentOutbox({ createdBefore, limit: 100 });
      total += await this.dispatch(batch);
      if (batch.length < 100) return total;
    }
  }
}

export function isUnsentOutbox(doc: unknown): doc is OutboxEntry {
  const d = doc as Partial<OutboxEntry> | null;
  return d?.type === "outbox" && d.sent === false && typeof d.messageId === "string";
}
