import { app } from "@azure/functions";
import { LEASES_CONTAINER, TICKETS_CONTAINER } from "../shared/adapters/cosmos/names.js";
import { Composition } from "../shared/app/composition.js";
import { BINDING_CONNECTIONS, loadConfig } from "../shared/app/config.js";

/**
 * The Azure Functions entry point: registrations only. Settings are decoded here, at
 * start-up, so a missing one fails the host load with its name rather than the first
 * request; clients are built on first use (shared/app/composition.ts). The token
 * issuer (AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI) is required wherever this runs:
 * it never trusts the development issuer. Outside Azure (`func start` on a developer's
 * machine) an unset store or queue falls back to the local host's stand-ins; in Azure
 * nothing does.
 */
// Request bodies arrive as streams, so the API reads no more of one than its 64 KiB limit
// (without it, the host buffers every body whole before the function runs).
app.setup({ enableHttpStream: true });

const config = loadConfig(process.env, { requireIssuer: true });
const root = new Composition(
  config,
  config.insideAzure
    ? {}
    : {
        standIns: async () => (await import("../shared/local/stand-ins.js")).localStandIns(),
      },
);

// The issuer's keys are fetched as the host loads, not after the first request is read.
root.warmUp();

for (const route of root.routes()) {
  app.http(route.name, {
    route: route.route,
    methods: route.methods as ("GET" | "POST" | "PUT" | "PATCH" | "DELETE")[],
    // Authentication is the API's own (Bearer JWT verified in shared/adapters/identity), not function keys.
    authLevel: "anonymous",
    handler: route.handler,
  });
}

// Dispatcher: every change to the tickets container; publishes the unsent outbox entries.
app.cosmosDB("dispatchOutbox", {
  connection: BINDING_CONNECTIONS.cosmosDB,
  databaseName: "%COSMOS_DATABASE_NAME%",
  containerName: TICKETS_CONTAINER,
  leaseContainerName: LEASES_CONTAINER,
  // infra/ declares the leases container; creating it at run time would need more than data-plane rights.
  createLeaseContainerIfNotExists: false,
  // A failed publish must be retried, not skipped past by the change feed's checkpoint.
  retry: { strategy: "exponentialBackoff", maxRetryCount: -1, minimumInterval: { seconds: 2 }, maximumInterval: { minutes: 1 } },
  handler: async (documents: unknown[]) => {
    await (await root.dispatcher()).dispatchChanged(documents);
  },
});

// Safety net: entries still unsent two minutes after they were written (the change feed
// takes an entry within seconds and keeps retrying a failed publish, so these are rare).
// Every 5 minutes, not every minute: each run wakes an instance of the plan and queries
// the store, and an entry it finds has waited minutes already.
app.timer("sweepOutbox", {
  schedule: "0 */5 * * * *",
  handler: async () => {
    await (await root.dispatcher()).sweep(2 * 60_000, new Date());
  },
});

/**
 * A Service Bus trigger: each message to `handle`, with its id as Service Bus gave it. No id
 * stays no id (""): every handler refuses such a message rather than guess one. Throwing makes
 * Service Bus redeliver, and past maxDeliveryCount dead-letter.
 */
function queueTrigger(name: string, queueName: string, handle: (message: { messageId: string; body: unknown }) => Promise<void>): void {
  app.serviceBusQueue(name, {
    connection: BINDING_CONNECTIONS.serviceBus,
    queueName,
    handler: async (message, context) => {
      const id = context.triggerMetadata?.messageId;
      await handle({ messageId: typeof id === "string" ? id : "", body: message });
    },
  });
}

// Notifier: one queue message, every configured alert channel.
queueTrigger("notifyOps", config.escalation.queue, async (message) => (await root.notifier()).handle(message));

// SLA timers: a warning or a breach scheduled for its instant.
queueTrigger("slaTimers", config.timers.queue, root.handleTimer);

// Incidents: what one ticket's change asks of another (a link told to its incident).
queueTrigger("ticketCommands", config.ticketCommands.queue, root.handleTicketCommand);

// Notifications: a requester's email, an app's webhook event.
queueTrigger("notifications", config.notifications.queue, root.handleNotification);
