import { systemScheduler, type Scheduler } from "../kernel/scheduler.js";
import type { Dispatcher } from "../outbox/dispatcher.js";
import type { OutboxEntry } from "../outbox/ports.js";

/**
 * The local host's dispatcher loop (Azure uses the change feed and a timer
 * instead): it dispatches a change's outbox entries as soon as the change is
 * stored and, while any dispatch has failed (the queue was unreachable), sweeps
 * the unsent entries every `retryMs` until they are all out.
 */
export class OutboxPump {
  private cancelRetry?: () => void;
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly dispatcher: () => Promise<Dispatcher>,
    private readonly log: (line: string) => void,
    private readonly retryMs = 1000,
    private readonly scheduler: Scheduler = systemScheduler,
  ) {}

  /** Sweeps once now: entries left unsent by an earlier run. */
  start(): void {
    this.retrySoon(0);
  }

  /**
   * The entries a change just stored: dispatched with those of every other change stored in the
   * same turn of the event loop, so that the writes of a burst are marked sent in one request,
   * not one each (shared/adapters/cosmos/ticket-store.ts markOutboxSent).
   */
  nudge(entries: OutboxEntry[]): void {
    if (!entries.length || this.stopped) return;
    const first = this.queued.length === 0;
    this.queued.push(...entries);
    if (!first) return;
    // Tracked from now, so that stop() waits for what is queued too.
    const flushed = new Promise<OutboxEntry[]>((resolve) => setImmediate(() => resolve(this.queued.splice(0))));
    void this.track(flushed.then(async (batch) => (await this.dispatcher()).dispatch(batch)));
  }

  private readonly queued: OutboxEntry[] = [];

  private track(work: Promise<unknown>): Promise<unknown> {
    const p = work
      .catch((e: unknown) => {
        this.log(`outbox: dispatch failed, retrying in ${this.retryMs} ms: ${(e as Error).message}`);
        this.retrySoon(this.retryMs);
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
    return p;
  }

  private retrySoon(delayMs: number): void {
    if (this.cancelRetry || this.stopped) return;
    this.cancelRetry = this.scheduler.after(delayMs, () => {
      this.cancelRetry = undefined;
      return this.track(this.dispatcher().then((d) => d.sweep(0, this.scheduler.now())));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    await Promise.allSettled([...this.pending]);
  }
}
