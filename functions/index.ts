import { app } from "@azure/functions";
import { httpRoutes } from "../shared/api.js";
import { App } from "../shared/composition.js";
import { BINDING_CONNECTIONS, loadSettings } from "../shared/config/settings.js";
import { isUnsentOutbox } from "../shared/escalation/dispatcher.js";
import { LEASES_CONTAINER, TICKETS_CONTAINER } from "../shared/store/cosmos/names.js";

/**
 * The Azure Functions entry point: registers every function. Settings are
 * decoded here, at start-up, so a missing one fails the host load with its name
 * rather than the first request. Clients are built on first use (shared/composition.ts).
 */
const settings = loadSettings();
const root = new App(settings);

for (const route of httpRoutes(root)) {
  app.http(route.name, {
    route: route.route,
    methods: route.methods as ("GET" | "POST" | "PUT" | "PATCH" | "DELETE")[],
    // Authentication is the API's own (Bearer JWT verified in shared/identity), not function keys.
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
    await (await root.dispatcher()).dispatch(documents.filter(isUnsentOutbox));
  },
});

// Safety net: entries still unsent a minute after they were written (a publish that kept failing).
app.timer("sweepOutbox", {
  schedule: "0 */1 * * * *",
  handler: async () => {
    await (await root.dispatcher()).sweep(60_000);
  },
});

// Notifier: one queue message, every configured alert channel. Throwing makes Service Bus redeliver.
app.serviceBusQueue("notifyOps", {
  connection: BINDING_CONNECTIONS.serviceBus,
  queueName: settings.ESCALATION_QUEUE_NAME,
  handler: async (message, context) => {
    const messageId = String(context.triggerMetadata?.messageId ?? "");
    await (await root.notifier()).handle({ messageId, body: message });
  },
});
