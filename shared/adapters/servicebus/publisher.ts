import type { RetryOptions, ServiceBusClient, ServiceBusMessage, ServiceBusSender } from "@azure/service-bus";
import { Failure } from "../../kernel/failure.js";
import type { Publisher, QueueMessage } from "../../outbox/ports.js";
import { createServiceBusClient, describe, serviceBusConnection, type ServiceBusConnection, type ServiceBusTarget } from "./connection.js";

/**
 * The retries alone do not bound a publish: a send already written when the
 * connection hangs or drops waits the full timeoutInMs on every attempt (the SDK
 * does not fail in-flight sends on disconnect). The deadline does.
 */
export const DEFAULT_DEADLINE_MS = 15_000;

/**
 * Publishes to the Service Bus `escalations` queue (DESIGN.md section 6) with the
 * real SDK. The queue's duplicate detection keys on `messageId`, so republishing
 * an outbox entry after an unclear failure is safe.
 */
export type ServiceBusPublisherOptions = {
  queueName: string;
  retry?: RetryOptions;
  /** Upper bound for one publish() call, retries included (default DEFAULT_DEADLINE_MS). */
  deadlineMs?: number;
} & ServiceBusConnection;

/** In Azure: the namespace and the managed identity. Locally: a connection string (emulator, test broker). */
export async function serviceBusPublisher(target: ServiceBusTarget, queueName: string): Promise<ServiceBusPublisher> {
  return new ServiceBusPublisher({ queueName, ...(await serviceBusConnection(target)) });
}

export class ServiceBusPublisher implements Publisher {
  private connection: Promise<{ client: ServiceBusClient; sender: ServiceBusSender }> | undefined;
  private closed = false;

  constructor(private readonly options: ServiceBusPublisherOptions) {}

  async publish(messages: QueueMessage[]): Promise<void> {
    if (this.closed) throw new Error("The Service Bus publisher is closed.");
    if (messages.length === 0) return;
    const { sender } = await this.connect();
    const deadlineMs = this.options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const abortSignal = AbortSignal.timeout(deadlineMs);
    try {
      const now = messages.filter((m) => !m.scheduledAt);
      if (now.length > 0) await sendInBatches(sender, now.map(toServiceBusMessage), abortSignal);
      for (const message of messages) {
        // A management request per re-page: they are rare, and one each keeps failures simple.
        if (message.scheduledAt) await sender.scheduleMessages(toServiceBusMessage(message), message.scheduledAt, { abortSignal });
      }
    } catch (error) {
      const reason = abortSignal.aborted ? `no answer within ${deadlineMs} ms` : describe(error);
      // The SDK's failure as the domain names it: the queue is not answering, nothing may be marked sent.
      throw new Failure(
        "unavailable",
        `Publishing ${messages.length} message(s) to Service Bus queue ${this.options.queueName} failed: ${reason}`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    const { client, sender } = await connection;
    try {
      await sender.close();
    } finally {
      await client.close();
    }
  }

  /** One client and one sender per process, made on first use; the SDK reconnects them after a drop. */
  private connect(): Promise<{ client: ServiceBusClient; sender: ServiceBusSender }> {
    this.connection ??= (async () => {
      const client = await createServiceBusClient(this.options, this.options.retry);
      return { client, sender: client.createSender(this.options.queueName) };
    })().catch((error: unknown) => {
      this.connection = undefined; // e.g. the SDK failed to load: let the next publish try again
      throw error;
    });
    return this.connection;
  }
}

export function toServiceBusMessage(message: QueueMessage): ServiceBusMessage {
  return {
    messageId: message.messageId,
    subject: message.subject,
    body: message.body,
    contentType: "application/json",
    ...(message.correlationId !== undefined ? { correlationId: message.correlationId } : {}),
  };
}

/**
 * As few sends as the namespace's message size allows. If a later batch fails the
 * earlier ones stay sent; the caller republishes all and duplicate detection drops them.
 */
async function sendInBatches(sender: ServiceBusSender, messages: ServiceBusMessage[], abortSignal: AbortSignal): Promise<void> {
  let batch = await sender.createMessageBatch({ abortSignal });
  for (const message of messages) {
    if (batch.tryAddMessage(message)) continue;
    if (batch.count === 0) throw new Error(`Message ${String(message.messageId)} is larger than the queue accepts.`);
    await sender.sendMessages(batch, { abortSignal });
    batch = await sender.createMessageBatch({ abortSignal });
    if (!batch.tryAddMessage(message)) throw new Error(`Message ${String(message.messageId)} is larger than the queue accepts.`);
  }
  await sender.sendMessages(batch, { abortSignal });
}
