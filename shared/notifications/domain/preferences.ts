import * as z from "zod";

/**
 * What a person wants to be told of their tickets (issue "Tell the requester"): an email on
 * every public reply, resolution, close or reopen by an agent, unless they turned it off.
 */
export const NotificationPreferences = z.strictObject({
  email: z.boolean().describe("Emails about your tickets: a public reply, a resolution, a close or a reopen by an agent"),
});
export type NotificationPreferences = z.infer<typeof NotificationPreferences>;

/** Everyone's until they say otherwise: a requester hears of their ticket. */
export const DEFAULT_PREFERENCES: NotificationPreferences = { email: true };
