import * as z from "zod";
import { AppEventType, type AppEvent } from "./messages.js";

/**
 * An app's subscription to the ticket events (issue "Tell the requester"): where to POST them,
 * which ones, and the secret that signs them, as the alerts' webhook is signed. A subscription
 * whose events keep failing, each after all its retries, is paused, and says so when listed:
 * an admin deletes it and registers it again once the receiver is mended.
 */
export const WebhookInput = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), "no user or password in the url: the secret proves the events are ours")
    .describe("Where the events are POSTed: https (http only off Azure, for a local receiver)"),
  events: z
    .array(AppEventType)
    .min(1)
    .refine((events) => new Set(events).size === events.length, "each event once")
    .describe("The events wanted"),
  secret: z
    .string()
    .min(16)
    .max(256)
    .describe("Signs every request (X-Helpdesk-Signature: HMAC-SHA256 over timestamp and body); never shown again"),
});
export type WebhookInput = z.infer<typeof WebhookInput>;

export const Subscription = z.object({
  id: z.string().min(1),
  url: z.string(),
  events: z.array(AppEventType),
  secret: z.string(),
  createdAt: z.iso.datetime(),
  createdBy: z.string(),
  status: z.enum(["active", "paused"]),
  /** Events in a row not delivered after all their retries; a delivery puts it back to 0. */
  failures: z.number().int().min(0),
  pausedAt: z.iso.datetime().nullable(),
  lastError: z.string().nullable(),
});
export type Subscription = z.infer<typeof Subscription>;

/** Events in a row a subscription may fail before it is paused. */
export const PAUSE_AFTER = 5;

/** At most this many subscriptions: each event is one request to each. */
export const MAX_SUBSCRIPTIONS = 50;

export const wants = (subscription: Subscription, event: Pick<AppEvent, "type">): boolean =>
  subscription.status === "active" && subscription.events.includes(event.type);

/** An event not delivered after all its retries: one more failure in a row; paused at PAUSE_AFTER. */
export function failedOnce(subscription: Subscription, error: string, now: string): Subscription {
  const failures = subscription.failures + 1;
  const pause = failures >= PAUSE_AFTER && subscription.status === "active";
  return { ...subscription, failures, lastError: error, ...(pause ? { status: "paused", pausedAt: now } : {}) };
}

/** Delivered: the failures in a row are over (null: nothing to change). */
export const deliveredOnce = (subscription: Subscription): Subscription | null =>
  subscription.failures === 0 ? null : { ...subscription, failures: 0, lastError: null };

/** What an admin sees of a subscription: everything but its secret. */
export type SubscriptionView = Omit<Subscription, "secret">;
export const viewOf = ({ secret: _secret, ...view }: Subscription): SubscriptionView => view;
