import { endpoint, type HttpContext, type HttpHandler } from "../../adapters/http/endpoint.js";
import { NotificationPreferences } from "../domain/preferences.js";
import type { PreferenceUseCases } from "../preferences.js";

/** The caller's notification preferences, as the OpenAPI document names them. */
export const PreferencesJson = NotificationPreferences.meta({
  id: "NotificationPreferences",
  description: "What you are told of your tickets, and how. Everyone's emails are on until they turn them off.",
  examples: [{ email: false }],
});

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
