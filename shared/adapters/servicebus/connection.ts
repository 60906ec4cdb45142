import { azureCredential } from "../identity/azure-credential.js";
import type { TokenCredential } from "@azure/identity";
import type { RetryOptions, ServiceBusClient } from "@azure/service-bus";

/** Where the namespace is and how to sign in to it; the publisher and the consumer take the same. */
export type ServiceBusConnection =
  | { fullyQualifiedNamespace: string; credential: TokenCredential }
  /** The Service Bus emulator or a test broker. */
  | { connectionString: string };

/**
 * Few, quick retries: an outage must surface as an error within seconds, because
 * the caller keeps the outbox entry unsent and its own sweep retries later.
 */
export const DEFAULT_RETRY: RetryOptions = { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, timeoutInMs: 10_000 };

/** Where the queue is: a namespace (Azure, managed identity) or a connection string (emulator, test broker). */
export interface ServiceBusTarget {
  namespace?: string | undefined;
  connectionString?: string | undefined;
  managedIdentityClientId?: string | undefined;
}

export async function serviceBusConnection(target: ServiceBusTarget): Promise<ServiceBusConnection> {
  if (target.namespace) {
    return { fullyQualifiedNamespace: hostOf(target.namespace), credential: await azureCredential(target.managedIdentityClientId) };
  }
  if (target.connectionString) return { connectionString: target.connectionString };
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

/** Error text for logs: the SDK throws an AggregateError with an empty message when retries run out. */
export function describe(error: unknown): string {
  if (error instanceof AggregateError) return [...new Set(error.errors.map(describe))].join("; ") || "unknown error";
  return error instanceof Error ? error.message || error.name : String(error);
}
