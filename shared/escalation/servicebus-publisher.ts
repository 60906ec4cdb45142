import type { TokenCredential } from "@azure/identity";
import type { RetryOptions, ServiceBusClient, ServiceBusMessage, ServiceBusSender } from "@azure/service-bus";
import type { Settings } from "../config/settings.js";
import type { Publisher, QueueMessage } from "./publisher.js";

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

/** Where the namespace is and how to sign in to it; the consumer (servicebus-consumer.ts) takes the same. */
export type ServiceBusConnection =
  | { fullyQualifiedNamespace: string; credential: TokenCredential }
  /** The Service Bus emulator or a test broker. */
  | { connectionString: string };

/**
 * Few, quick retries: an outage must surface as an error within seconds, because
 * the caller keeps the outbox entry unsent and its own sweep retries later.
 */
export const DEFAULT_RETRY: RetryOptions = { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, timeoutInMs: 10_000 };

/**
 * The retries alone do not bound a publish: a send already written when the
 * connection hangs or drops waits the full timeoutInMs on every attempt (the SDK
 * does not fail in-flight sends on disconnect). The deadline does.
 */
export const DEFAULT_DEADLINE_MS = 15_000;

export type ServiceBusSettings = Pick<Settings, "SERVICE_BUS_NAMESPACE" | "SERVICE_BUS_CONNECTION_STRING" | "AZURE_CLIENT_ID" | "ESCALATION_QUEUE_NAME">;

/** In Azure: the namespace and the managed identity. Locally: a connection string (emulator, test broker). */
export async function serviceBusPublisherFromSettings(settings: ServiceBusSettings): Promise<ServiceBusPublisher> {
  return new ServiceBusPublisher({ queueName: settings.ESCALATION_QUEUE_NAME, ...(await serviceBusConnectionFromSettings(settings)) });
}

export async function serviceBusConnectionFromSettings(settings: ServiceBusSettings): Promise<ServiceBusConnection> {
  if (settings.SERVICE_BUS_NAMESPACE) {
    // Loaded only here: the identity library is large and only Azure needs it.
    const { DefaultAzureCredential } = await import("@azure/identity");
    const credential = new DefaultAzureCredential({ managedIdentityClientId: settings.AZURE_CLIENT_ID });
    return { fullyQualifiedNamespace: hostOf(settings.SERVICE_BUS_NAMESPACE), credential };
  }
  if (settings.SERVICE_BUS_CONNECTION_STRING) return { connectionString: settings.SERVICE_BUS_CONNECTION_STRING };
  throw new Error("Set SERVICE_BUS_NAMESPACE (Azure) or SERVICE_BUS_CONNECTION_STRING (emulator) to use Service Bus.");
}

/**
 * Loaded on first use: a cold start that never touches the queue does not pay for the SDK.
 * One client is one AMQP connection, which the SDK reopens after a drop.
 */
export async function createServiceBusClient(connection: ServiceBusConnection, retry?: RetryOptions): Promise<ServiceBusClient> {
  const { ServiceBusClient } = await import("@azure/service-bus");
  const clientOptions = { retryOptions: { ...DEFAULT_RETRY, ...retry } };
  return "connectionString" in connection
    ? new ServiceBusClient(connection.connectionString, clientOptions)
    : new ServiceBusClient(connection.fullyQualifiedNamespace, connection.credential, clientOptions);
}

/** The SDK wants a bare host; a Bicep endpoint output (`https://x.servicebus.windows.net:443/`) is accepted too. */
function hostOf(namespace: string): string {
  return namespace.replace(/^[a-z]+:\/\//i, "").replace(/:443\/?$|\/+$/, "");
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
      throw new Error(`Publishing ${messages.length} message(s) to Service Bus queue ${this.options.queueName} failed: ${reason}`, { cause: error });
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

/** The SDK reports exhausted retries as an AggregateError with an empty message. */
/** Error text for logs: the SDK throws an AggregateError with an empty message when retries run out. */
export function describe(error: unknown): string {
  if (error instanceof AggregateError) return [...new Set(error.errors.map(describe))].join("; ") || "unknown error";
  return error instanceof Error ? error.message || error.name : String(error);
}
