import * as z from "zod";
import { endpoint, type HttpContext, type HttpHandler } from "../../adapters/http/endpoint.js";
import { Failure } from "../../kernel/failure.js";
import { APP_EVENTS } from "../domain/messages.js";
import { NotificationPreferences } from "../domain/preferences.js";
import { Subscription, WebhookInput } from "../domain/webhook.js";
import type { PreferenceUseCases } from "../preferences.js";
import type { WebhookUseCases } from "../webhooks.js";

/** The caller's notification preferences, as the OpenAPI document names them. */
export const PreferencesJson = NotificationPreferences.meta({
  id: "NotificationPreferences",
  description: "What you are told of your tickets, and how. Everyone's emails are on until they turn them off.",
  examples: [{ email: false }],
});

export const WebhookBody = WebhookInput.meta({
  id: "WebhookInput",
  description: `Where to POST which ticket events (${APP_EVENTS.join(", ")}), and the secret that signs them.`,
  examples: [
    {
      url: "https://push.example.com/helpdesk-events",
      events: ["ticket.public_reply", "ticket.status_changed"],
      secret: "a-long-random-secret-of-yours",
    },
  ],
});

export const WebhookJson = Subscription.omit({ secret: true })
  .extend({
    createdBy: z.string().describe("The admin who registered it"),
    status: z
      .enum(["active", "paused"])
      .describe(
        "`paused`: its events kept failing, each after all its retries; nothing is sent to it. Delete it and register it again once its receiver is mended",
      ),
    failures: z.number().int().min(0).describe("Events in a row not delivered after all their retries; paused at 5"),
    lastError: z.string().nullable().describe("Why the last event not delivered was not: its receiver's status (`HTTP 500`), or no answer"),
  })
  .meta({ id: "Webhook", description: "An app's subscription to the ticket events; its secret is never shown." });

export const WebhookList = z.object({ items: z.array(WebhookJson) }).meta({ id: "WebhookList" });

/** A subscription's id, as POST /api/webhooks made it. */
export const WebhookIdParam = z
  .string()
  .regex(/^wh_[0-9a-f]{24}$/)
  .describe("The subscription's id");

/** GET and PUT /api/me/notifications. */
export function notificationHandlers(http: HttpContext, preferences: () => Promise<PreferenceUseCases>): Record<string, HttpHandler> {
  return {
    getNotificationPreferences: endpoint(http, { auth: true }, async (call) => ({
      status: 200,
      body: await (await preferences()).get(call.principal),
    })),
    putNotificationPreferences: endpoint(http, { auth: true }, async (call) => {
      const { value } = await call.body(PreferencesJson);
      return { status: 200, body: await (await preferences()).put(call.principal, value) };
    }),
  };
}

/** POST, GET and DELETE /api/webhooks (admins). */
export function webhookHandlers(http: HttpContext, webhooks: () => Promise<WebhookUseCases>): Record<string, HttpHandler> {
  return {
    createWebhook: endpoint(http, { auth: true }, async (call) => {
      const { value } = await call.body(WebhookBody);
      return { status: 201, body: await (await webhooks()).create(call.principal, value) };
    }),
    listWebhooks: endpoint(http, { auth: true }, async (call) => ({
      status: 200,
      body: { items: await (await webhooks()).list(call.principal) },
    })),
    deleteWebhook: endpoint(http, { auth: true }, async (call) => {
      const id = call.param("id");
      if (!WebhookIdParam.safeParse(id).success) throw new Failure("not_found", "No such webhook subscription.");
      return { status: 200, body: await (await webhooks()).delete(call.principal, id) };
    }),
  };
}
