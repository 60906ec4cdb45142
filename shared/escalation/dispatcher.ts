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

  /**
   * Throws if the queue did not take them all, so the caller (change feed, sweep)
   * retries; the ones it took are marked sent, so one entry the queue keeps
   * refusing does not hold back the others.
   */
  async dispatch(entries: OutboxEntry[]): Promise<number> {
    const unsent = entries.filter(isUnsentOutbox);
    if (unsent.length === 0) return 0;
    try {
      await this.publisher.publish(unsent.map(messageFor));
      await Promise.all(unsent.map((e) => this.outbox.markOutboxSent(e)));
      return unsent.length;
    } catch (e) {
      if (unsent.length === 1) throw e;
    }
    const results = await Promise.allSettled(unsent.map(async (entry) => {
      await this.publisher.publish([messageFor(entry)]);
      await this.outbox.markOutboxSent(entry);
    }));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length) throw new Error(`${failed.length} of ${unsent.length} outbox entries not published: ${String(failed[0]!.reason)}`);
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
