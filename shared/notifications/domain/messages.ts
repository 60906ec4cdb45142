import * as z from "zod";

/**
 * The `notifications` queue's messages (issue "Tell the requester"), version 1:
 * - `email`: one email to a ticket's requester, as the change that caused it decided it
 *   (requester-email.ts), sent unless they turned emails off;
 * - `event`: one event for the apps' webhooks, fanned out to each subscription that wants it;
 * - `webhook`: that event, to one subscription.
 * A retry is the same message again, `attempt` one more, scheduled after a backoff.
 */

const Ref = z.object({ id: z.string().min(1), number: z.string().min(1) });

export const EmailMessage = z.object({
  version: z.literal(1),
  kind: z.literal("email"),
  ticket: Ref,
  /** The entry the email is about: with the recipient, what makes it one email. */
  seq: z.number().int().min(1),
  /** Whose preferences say whether it goes. */
  requesterId: z.string().min(1),
  about: z.enum(["reply", "resolved", "closed", "reopened", "opened_for_you"]),
  to: z.object({ name: z.string(), email: z.string().min(1) }),
  subject: z.string(),
  text: z.string(),
  attempt: z.number().int().min(0),
});
export type EmailMessage = z.infer<typeof EmailMessage>;

/** The events an app may subscribe to: only public facts of a ticket. */
export const APP_EVENTS = ["ticket.opened", "ticket.status_changed", "ticket.public_reply"] as const;
export const AppEventType = z.enum(APP_EVENTS);
export type AppEventType = z.infer<typeof AppEventType>;

/**
 * What a webhook receives of an event: thin, public, and enough to fetch the rest with the
 * API. Its id is opaque (random): one made from the entry's seq would tell how many internal entries there are.
 */
export const AppEvent = z.object({
  id: z.string().min(1),
  type: AppEventType,
  ticket: Ref,
  at: z.iso.datetime(),
});
export type AppEvent = z.infer<typeof AppEvent>;

const EventMessage = z.object({ version: z.literal(1), kind: z.literal("event"), event: AppEvent });
export type EventMessage = z.infer<typeof EventMessage>;

export const WebhookMessage = z.object({
  version: z.literal(1),
  kind: z.literal("webhook"),
  subscriptionId: z.string().min(1),
  event: AppEvent,
  attempt: z.number().int().min(0),
});
export type WebhookMessage = z.infer<typeof WebhookMessage>;

export const NotificationMessage = z.discriminatedUnion("kind", [EmailMessage, EventMessage, WebhookMessage]);
export type NotificationMessage = z.infer<typeof NotificationMessage>;
