import type { Dispatcher } from "./dispatcher.js";
import type { OutboxEntry } from "./outbox.js";

/**
 * The local host's dispatcher loop (Azure uses the change feed and a timer
 * instead): it dispatches a change's outbox entries as soon as the change is
 * stored and, while any dispatch has failed (the queue was unreachable), sweeps
 * the unsent entries every `retryMs` until they are all out.
 */
export class OutboxPump {
  private timer?: NodeJS.Timeout;
  private pending = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly dispatcher: () => Promise<Dispatcher>,
    private readonly log: (line: string) => void,
    private readonly retryMs = 1000,
  ) {}

  /** Sweeps once now: entries left unsent by an earlier run. */
  start(): void {
    this.retrySoon(0);
  }

  nudge(entries: OutboxEntry[]): void {
    if (entries.length && !this.stopped) this.track(this.dispatcher().then((d) => d.dispatch(entries)));
  }

  private track(work: Promise<unknown>): void {
    const p = work
      .catch((e: unknown) => {
        this.log(`outbox: dispatch failed, retrying in ${this.retryMs} ms: ${(e as Error).message}`);
        this.retrySoon(this.retryMs);
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private retrySoon(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.track(this.dispatcher().then((d) => d.sweep(0)));
    }, delayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.pending]);
  }
}
