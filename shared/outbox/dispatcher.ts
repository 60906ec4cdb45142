import * as z from "zod";
import { messageOf, OutboxEntry, type OutboxStore, type Publisher, type QueueName } from "./ports.js";

/** An outbox entry as stored and not yet published: what the change feed hands over among other documents. */
const LooksUnsent = z.object({ type: z.literal("outbox"), sent: z.literal(false) });
const UnsentDocument = OutboxEntry.extend(LooksUnsent.shape);

/**
 * Publishes outbox entries to their queues, then marks them sent. A crash between
 * the two republishes the same messageId later, which the queue's duplicate
 * detection drops (and the consumers' own records would catch): no entry is lost
 * and no message is sent twice.
 */
export class Dispatcher {
  constructor(
    private readonly outbox: OutboxStore,
    private readonly publishers: Record<QueueName, Publisher>,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  /**
   * Dispatches the unsent outbox entries among changed documents of any kind (the change
   * feed's batch). An unsent entry this code cannot read is logged and left: retrying the
   * batch would not make it readable, and would hold back every change after it.
   */
  async dispatchChanged(documents: unknown[]): Promise<number> {
    const entries = documents.flatMap((doc) => {
      const parsed = UnsentDocument.safeParse(doc);
      if (parsed.success) return [parsed.data];
      if (LooksUnsent.safeParse(doc).success)
        this.log(`outbox: entry ${describeDoc(doc)} is not readable, left unsent: ${parsed.error.message}`);
      return [];
    });
    return this.dispatch(entries);
  }

  /**
   * Throws if a queue did not take them all, so the caller (change feed, sweep)
   * retries; the ones taken are marked sent, so one entry a queue keeps refusing
   * does not hold back the others.
   */
  async dispatch(entries: OutboxEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const send = async (batch: OutboxEntry[]) => {
      for (const queue of new Set(batch.map((e) => e.queue))) {
        await this.publishers[queue].publish(batch.filter((e) => e.queue === queue).map(messageOf));
      }
      await this.outbox.markOutboxSent(batch);
    };
    try {
      await send(entries);
      return entries.length;
    } catch (e) {
      if (entries.length === 1) throw e;
    }
    const results = await Promise.allSettled(entries.map((entry) => send([entry])));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length) throw new Error(`${failed.length} of ${entries.length} outbox entries not published: ${String(failed[0]!.reason)}`);
    return entries.length;
  }

  /** Entries still unsent after `ageMs`: the change feed missed them or their publish failed. */
  async sweep(ageMs: number, now: Date): Promise<number> {
    const createdBefore = new Date(now.getTime() - ageMs).toISOString();
    let total = 0;
    for (;;) {
      const batch = await this.outbox.unsentOutbox({ createdBefore, limit: 100 });
      total += await this.dispatch(batch);
      if (batch.length < 100) return total;
    }
  }
}

const describeDoc = (doc: unknown): string => {
  const { ticketId, id } = doc as { ticketId?: unknown; id?: unknown };
  return `${String(ticketId)}/${String(id)}`;
};
