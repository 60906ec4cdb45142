import { systemScheduler, type Scheduler } from "../kernel/scheduler.js";
import type { Publisher, QueueMessage } from "../outbox/ports.js";

/**
 * The local host's stand-in for the `escalations` queue: same contract as the
 * Service Bus queue infra/ declares (duplicate detection on messageId, scheduled
 * messages, redelivery with a delivery count, dead-lettering past the maximum),
 * run in process. Not for production: it keeps nothing across restarts.
 */
export interface LocalQueueOptions {
  maxDeliveryCount: number;
  /**
   * Messages handled at once, at most (default 16: a Functions instance's Service Bus trigger
   * takes as many): the rest wait their turn, so that a burst (an incident told of a thousand
   * links) writes one document a few at a time, not all at once against each other.
   */
  maxConcurrentCalls?: number;
  /** First redelivery delay; doubles each time. */
  retryDelayMs: number;
  log: (line: string) => void;
  scheduler?: Scheduler;
}

/** How long a message id is remembered for duplicate detection: the window infra/ gives the queues (7 days). */
export const DUPLICATE_WINDOW_MS = 7 * 24 * 60 * 60_000;

export class LocalQueue implements Publisher {
  /** Message ids seen, with when, oldest first (a Map keeps insertion order): forgotten after the window. */
  private readonly seen = new Map<string, number>();
  private readonly timers = new Set<() => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly scheduler: Scheduler;
  private closed = false;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly handler: (message: QueueMessage) => Promise<void>,
    private readonly options: LocalQueueOptions,
  ) {
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  async publish(messages: QueueMessage[]): Promise<void> {
    if (this.closed) throw new Error("The local queue is closed.");
    const now = this.scheduler.now().getTime();
    this.forget(now);
    for (const message of messages) {
      if (this.seen.has(message.messageId)) continue; // duplicate detection
      this.seen.set(message.messageId, now);
      const delay = message.scheduledAt ? Math.max(0, message.scheduledAt.getTime() - now) : 0;
      this.later(delay, () => this.deliver(message, 1));
    }
  }

  /** Ids seen before the window are forgotten, as Service Bus forgets them: a long-running host does not keep every id. */
  private forget(now: number): void {
    for (const [id, at] of this.seen) {
      if (at >= now - DUPLICATE_WINDOW_MS) break;
      this.seen.delete(id);
    }
  }

  private later(delayMs: number, run: () => Promise<void>): void {
    const cancel = this.scheduler.after(delayMs, () => {
      this.timers.delete(cancel);
      const p = run().finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      return p;
    });
    this.timers.add(cancel);
  }

  /** A turn among the messages handled at once; the function it gives back ends it. */
  private async turn(): Promise<() => void> {
    // A turn ending is handed to the first waiting, never freed for a newcomer to take first.
    if (this.active >= (this.options.maxConcurrentCalls ?? 16)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  private async deliver(message: QueueMessage, count: number): Promise<void> {
    const done = await this.turn();
    try {
      await this.handler(message);
    } catch (e) {
      const error = (e as Error).message;
      if (count >= this.options.maxDeliveryCount) {
        this.options.log(`dead-lettered ${message.messageId} after ${count} deliveries: ${error}`);
        return;
      }
      if (!this.closed) this.later(this.options.retryDelayMs * 2 ** (count - 1), () => this.deliver(message, count + 1));
    } finally {
      done();
    }
  }

  /** Stops scheduling and waits for deliveries under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}
