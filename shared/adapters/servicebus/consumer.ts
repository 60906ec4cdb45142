import type { ProcessErrorArgs, RetryOptions, ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from "@azure/service-bus";
import { createServiceBusClient, describe, serviceBusConnection, type ServiceBusConnection, type ServiceBusTarget } from "./connection.js";

/**
 * Runs a handler for each message of the Service Bus `escalations` queue, with the
 * real SDK: what the `notifyOps` trigger does in Azure, for a local host that is
 * configured for Service Bus (nothing else would run the notifier there).
 *
 * Peek-lock: a message is completed only once its handler succeeded, and abandoned
 * when the handler throws, so Service Bus delivers it again and, past the queue's
 * maxDeliveryCount, dead-letters it. A message whose settlement is lost (lock expired,
 * connection dropped) comes back too: the handler must be idempotent, as the notifier is.
 */
export interface ConsumedMessage {
  messageId: string;
  body: unknown;
}

export type MessageHandler = (message: ConsumedMessage) => Promise<void>;

export type ServiceBusConsumerOptions = {
  queueName: string;
  handler: MessageHandler;
  /** Messages handled at once (default DEFAULT_MAX_CONCURRENT_CALLS). */
  maxConcurrentCalls?: number;
  /** Wait before abandoning a first failure (default DEFAULT_RETRY_DELAY_MS); doubles per delivery, up to MAX_RETRY_DELAY_MS. */
  retryDelayMs?: number;
  retry?: RetryOptions;
  log?: (line: string) => void;
} & ServiceBusConnection;

/** Alerts are few; a handful at once keeps one slow channel from holding up the others. */
export const DEFAULT_MAX_CONCURRENT_CALLS = 4;
/**
 * Service Bus redelivers an abandoned message at once. Without a pause, a handler that
 * fails for a second (the store restarting, say) would use up the delivery count in
 * milliseconds and dead-letter the alert; holding the lock a little before abandoning
 * spaces the attempts out, as the in-process queue does. The SDK renews the lock meanwhile.
 */
export const DEFAULT_RETRY_DELAY_MS = 100;
export const MAX_RETRY_DELAY_MS = 10_000;
/**
 * How long the SDK keeps renewing a message's lock: more than the slowest handler
 * (a few channels at their 10 s timeout, then the pause above). It also bounds how
 * long a message stays locked when its settlement was lost with the connection,
 * since the SDK goes on renewing such a lock (5 minutes by default).
 */
export const MAX_LOCK_RENEWAL_MS = 2 * 60_000;
/**
 * close() waits this long for handlers under way. A settlement sent just before a
 * reconnect can wait for its full timeout, several times over; giving up on it
 * loses nothing, as its message comes back when the lock runs out.
 */
export const CLOSE_GRACE_MS = 5_000;

export async function serviceBusConsumer(
  target: ServiceBusTarget,
  queueName: string,
  handler: MessageHandler,
): Promise<ServiceBusConsumer> {
  return new ServiceBusConsumer({ queueName, handler, ...(await serviceBusConnection(target)) });
}

interface Running {
  client: ServiceBusClient;
  receiver: ServiceBusReceiver;
  subscription: { close(): Promise<void> };
  /** Ends the SDK's reconnect loop, which otherwise retries forever while Service Bus is away. */
  abort: AbortController;
}

export class ServiceBusConsumer {
  private running: Promise<Running> | undefined;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Pauses before an abandon, cut short by close() so the message goes back at once. */
  private readonly pauses = new Set<() => void>();
  private lastError: string | undefined;

  constructor(private readonly options: ServiceBusConsumerOptions) {}

  private get log(): (line: string) => void {
    return this.options.log ?? ((line) => console.error(line));
  }

  /** Subscribes and returns: the SDK connects, and reconnects after a drop, in the background. */
  async start(): Promise<void> {
    if (this.closed) throw new Error("The Service Bus consumer is closed.");
    this.running ??= this.subscribe().catch((error: unknown) => {
      this.running = undefined; // e.g. the SDK failed to load: a later start() tries again
      throw error;
    });
    await this.running;
  }

  private async subscribe(): Promise<Running> {
    const o = this.options;
    const client = await createServiceBusClient(o, o.retry);
    const receiver = client.createReceiver(o.queueName, { receiveMode: "peekLock", maxAutoLockRenewalDurationInMs: MAX_LOCK_RENEWAL_MS });
    const abort = new AbortController();
    const subscription = receiver.subscribe(
      {
        processMessage: (message) => this.track(this.process(receiver, message)),
        processError: async (args) => this.reportError(args),
      },
      {
        // Settled here: the SDK would abandon a failed message at once, without the pause above.
        autoCompleteMessages: false,
        maxConcurrentCalls: o.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS,
        abortSignal: abort.signal,
      },
    );
    return { client, receiver, subscription, abort };
  }

  /** The SDK grants the next message once this returns: the returned promise is what bounds concurrency. */
  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private async process(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage): Promise<void> {
    // No id stays no id: the handler refuses such a message rather than guessing one.
    const id = message.messageId === undefined ? "" : String(message.messageId);
    // The SDK reports the deliveries before this one (AMQP's delivery-count).
    const delivery = (message.deliveryCount ?? 0) + 1;
    try {
      await this.options.handler({ messageId: id, body: message.body });
    } catch (error) {
      this.log(`Service Bus consumer: message ${id} failed on delivery ${delivery}; abandoning it so it comes back: ${describe(error)}`);
      await this.pause(Math.min((this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) * 2 ** (delivery - 1), MAX_RETRY_DELAY_MS));
      await this.settle(() => receiver.abandonMessage(message), "abandon", id);
      return;
    }
    this.lastError = undefined; // the queue works again: the next error is news
    await this.settle(() => receiver.completeMessage(message), "complete", id);
  }

  private async settle(action: () => Promise<void>, what: string, id: string): Promise<void> {
    try {
      await action();
    } catch (error) {
      // The lock is gone (it expired, or the connection went with it): Service Bus delivers the message again.
      this.log(`Service Bus consumer: could not ${what} message ${id}, it will be delivered again: ${describe(error)}`);
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pauses.add(done);
    });
  }

  /** While Service Bus is away the SDK reports every reconnect attempt: one line per distinct error is enough. */
  private reportError(args: ProcessErrorArgs): void {
    if (this.closed) return; // close() itself ends the SDK's loops with errors
    const line = `Service Bus consumer (${args.errorSource}) on ${this.options.queueName}: ${describe(args.error)}`;
    if (line === this.lastError) return;
    this.lastError = line;
    this.log(line);
  }

  /** Stops taking messages, lets the handlers under way settle theirs, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    for (const cutShort of [...this.pauses]) cutShort();
    const running = this.running;
    this.running = undefined;
    const r = await running?.catch(() => undefined);
    if (!r) return;
    try {
      r.abort.abort();
      await r.subscription.close();
      await settledWithin(CLOSE_GRACE_MS, [...this.inFlight]);
      await r.receiver.close();
    } finally {
      await r.client.close();
    }
  }
}

async function settledWithin(ms: number, work: Promise<unknown>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled(work), timeout]);
  clearTimeout(timer);
}
