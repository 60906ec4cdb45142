import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { installFunctionsCoreStandIn, type Registered } from "../support/functions-core-standin.js";

/**
 * What Azure would see: the real entry point (package.json `main`, from source
 * here) loaded with a stand-in for the worker's @azure/functions-core.
 */
const EXPECTED_HTTP: [name: string, route: string, methods: string[]][] = [
  ["openTicket", "tickets", ["POST"]],
  ["listTickets", "tickets", ["GET"]],
  ["getTicket", "tickets/{id}", ["GET"]],
  ["triageTicket", "tickets/{id}", ["PATCH"]],
  ["assignTicket", "tickets/{id}/assignee", ["PUT"]],
  ["unassignTicket", "tickets/{id}/assignee", ["DELETE"]],
  ["linkParent", "tickets/{id}/parent", ["PUT"]],
  ["unlinkParent", "tickets/{id}/parent", ["DELETE"]],
  ["ticketChildren", "tickets/{id}/children", ["GET"]],
  ["broadcastToReports", "tickets/{id}/broadcast", ["POST"]],
  ["broadcastStatus", "tickets/{id}/broadcasts/{broadcastId}", ["GET"]],
  ["commentOnTicket", "tickets/{id}/comments", ["POST"]],
  ["requestOpeningUpload", "attachments", ["POST"]],
  ["requestUpload", "tickets/{id}/attachments", ["POST"]],
  ["downloadAttachment", "tickets/{id}/attachments/{attachmentId}", ["GET"]],
  ["moveTicket", "tickets/{id}/status", ["POST"]],
  ["escalateTicket", "tickets/{id}/escalation", ["POST"]],
  ["acknowledgeEscalation", "tickets/{id}/escalation/acknowledge", ["POST"]],
  ["ticketTimeline", "tickets/{id}/timeline", ["GET"]],
  ["listAgents", "agents", ["GET"]],
  ["getNotificationPreferences", "me/notifications", ["GET"]],
  ["putNotificationPreferences", "me/notifications", ["PUT"]],
  ["createWebhook", "webhooks", ["POST"]],
  ["listWebhooks", "webhooks", ["GET"]],
  ["deleteWebhook", "webhooks/{id}", ["DELETE"]],
  ["getSlaPolicy", "sla/policy", ["GET"]],
  ["replaceSlaPolicy", "sla/policy", ["PUT"]],
  ["openApi", "openapi.json", ["GET"]],
  ["docsPage", "docs", ["GET"]],
  ["docsAsset", "docs/{file}", ["GET"]],
  ["corsPreflight", "{*path}", ["OPTIONS"]],
  ["health", "health", ["GET"]],
];

let registered: Registered[];
beforeAll(async () => {
  // The entry point requires a token issuer wherever it runs; its keys' prefetch (warmUp) fails
  // here, which is logged and leaves the first request to fetch them.
  vi.stubEnv("AUTH_ISSUER", "https://login.example.com/tenant/v2.0");
  vi.stubEnv("AUTH_AUDIENCE", "api://helpdesk");
  vi.stubEnv("AUTH_JWKS_URI", "http://127.0.0.1:9/never-fetched/keys");
  registered = installFunctionsCoreStandIn();
  await import("../../functions/index.js");
});
afterAll(() => vi.unstubAllEnvs());

describe("function registrations", () => {
  it("registers exactly the HTTP functions of the API, with their routes, methods and auth level", () => {
    const http = registered
      .map(({ metadata }) => {
        const trigger = Object.values(metadata.bindings).find((b) => b.type === "httpTrigger");
        return trigger ? [metadata.name, trigger.route, trigger.methods, trigger.authLevel, trigger.direction] : null;
      })
      .filter((x) => x !== null);
    expect(http).toEqual(EXPECTED_HTTP.map(([name, route, methods]) => [name, route, methods, "anonymous", "in"]));
  });

  it("gives every HTTP function an http output binding and a callable handler", () => {
    for (const { metadata, handler } of registered.filter((r) =>
      Object.values(r.metadata.bindings).some((b) => b.type === "httpTrigger"),
    )) {
      expect(Object.values(metadata.bindings).filter((b) => b.type === "http" && b.direction === "out")).toHaveLength(1);
      expect(typeof handler).toBe("function");
    }
  });

  it("registers the escalation pipeline, the SLA timers, the ticket commands and the notifications: change-feed dispatcher, timer sweep, Service Bus notifier, SLA timer, command and notification consumers", () => {
    const others = registered
      .filter((r) => !Object.values(r.metadata.bindings).some((b) => b.type === "httpTrigger"))
      .map((r) => ({ name: r.metadata.name, bindings: Object.values(r.metadata.bindings), retry: r.metadata.retryOptions }));
    expect(others.map((o) => o.name)).toEqual([
      "dispatchOutbox",
      "sweepOutbox",
      "notifyOps",
      "slaTimers",
      "ticketCommands",
      "notifications",
    ]);
    const [dispatch, sweep, notify, timers, commands, notifications] = others;
    expect(dispatch!.bindings).toEqual([
      expect.objectContaining({
        type: "cosmosDBTrigger",
        direction: "in",
        connection: "CosmosDBConnection",
        databaseName: "%COSMOS_DATABASE_NAME%",
        containerName: "tickets",
        leaseContainerName: "leases",
        createLeaseContainerIfNotExists: false,
      }),
    ]);
    // A failed publish is retried, never checkpointed past.
    expect(dispatch!.retry).toMatchObject({ strategy: "exponentialBackoff", maxRetryCount: -1 });
    // Every 5 minutes: a timer that fires every minute wakes an instance of the plan for nothing.
    expect(sweep!.bindings).toEqual([expect.objectContaining({ type: "timerTrigger", direction: "in", schedule: "0 */5 * * * *" })]);
    expect(notify!.bindings).toEqual([
      expect.objectContaining({ type: "serviceBusTrigger", direction: "in", connection: "ServiceBusConnection", queueName: "escalations" }),
    ]);
    // The SLA clocks' warnings and breaches, each a message scheduled for its instant.
    expect(timers!.bindings).toEqual([
      expect.objectContaining({
        type: "serviceBusTrigger",
        direction: "in",
        connection: "ServiceBusConnection",
        queueName: "ticket-timers",
      }),
    ]);
    // What one ticket's change asks of others (an incident's reports).
    expect(commands!.bindings).toEqual([
      expect.objectContaining({
        type: "serviceBusTrigger",
        direction: "in",
        connection: "ServiceBusConnection",
        queueName: "ticket-commands",
      }),
    ]);
    // The requester emails and the apps' webhook events.
    expect(notifications!.bindings).toEqual([
      expect.objectContaining({
        type: "serviceBusTrigger",
        direction: "in",
        connection: "ServiceBusConnection",
        queueName: "notifications",
      }),
    ]);
  });

  it("answers a request through the registered handler as the worker would call it", async () => {
    const health = registered.find((r) => r.metadata.name === "openApi")!;
    const { HttpRequest, InvocationContext } = await import("@azure/functions");
    const response = (await health.handler(
      // As the platform hands it over: TLS ended at its front end, which says so.
      new HttpRequest({
        method: "GET",
        url: "http://helpdesk.azurewebsites.net/api/openapi.json",
        headers: { "x-forwarded-proto": "https" },
      }),
      new InvocationContext(),
    )) as {
      status: number;
      body: string;
      headers: Record<string, string>;
    };
    expect(response.status).toBe(200);
    const document = JSON.parse(response.body);
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers).toEqual([{ url: "https://helpdesk.azurewebsites.net/api", description: expect.any(String) }]);
    expect(response.headers["x-request-id"]).toMatch(/.+/);
  });
});
