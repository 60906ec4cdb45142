import { createHash } from "node:crypto";
import type { Publisher, QueueMessage } from "../outbox/ports.js";
import { parseQueueBody } from "../outbox/ports.js";
import type { RefusedEmail } from "../tickets/domain/commands.js";
import { firstIdOf, retryIdOf } from "../kernel/retry-id.js";
import { NotificationMessage, type AppEvent, type EmailMessage, type WebhookMessage } from "./domain/messages.js";
import { DEFAULT_PREFERENCES } from "./domain/preferences.js";
import { deliveredOnce, failedOnce, wants, type Subscription } from "./domain/webhook.js";
import { isFailure } from "../kernel/failure.js";
import { signedHeaders } from "../kernel/webhook-signature.js";
import { emailKeyOf } from "./outbox.js";
import type { EmailSender, PostEvent, PreferenceStore, WebhookStore } from "./ports.js";

/** What the notifications need of the tickets: each email's record, and the entry of a refusal. */
export interface EmailRecords {
  /** Whether this email was sent (or refused) already. */
  done(ticketId: string, recordId: string): Promise<boolean>;
  /** It was accepted: a redelivery sends nothing. */
  sent(ticketId: string, recordId: string): Promise<void>;
  /** Refused for good: an internal entry, and the record, in one change (shared/tickets/use-cases.ts emailRefused). False: no such ticket. */
  refused(ticketId: string, refused: RefusedEmail, recordId: string, requestId: string): Promise<boolean>;
}

export interface NotificationDeps {
  emails: EmailSender;
  records: EmailRecords;
  preferences: PreferenceStore;
  webhooks: WebhookStore;
  post: PostEvent;
  /** The `notifications` queue itself: retries and an event's fan-out go there. */
  publisher: Publisher;
  /** The link an email gives to its ticket (TICKET_URL_TEMPLATE). */
  ticketUrl: (ticket: { id: string; number: string }) => string;
  settings: { retrySeconds: number; maxRetries: number };
  now: () => Date;
  log: (line: string) => void;
}

/**
 * One message of the `notifications` queue. Each is idempotent: an email is sent once per entry
 * and recipient (its record, checked first and written once the service accepted it), a webhook
 * delivery keeps one delivery id on every attempt, for its receiver to drop repeats.
 *
 * What a receiver did not take is tried again, as a message scheduled after a backoff
 * (retrySeconds, doubling) up to maxRetries; then an email's last attempt throws, so the
 * message dead-letters for a person to see, and a webhook's failure counts towards pausing its
 * subscription. A refusal no retry can cure (an address the email service will not take) is
 * recorded on the ticket, internally, and not tried again. A body that is no notification
 * throws: it will not become one.
 */
export async function handleNotification(deps: NotificationDeps, message: { messageId: string; body: unknown }): Promise<void> {
  // Every id below is made from the message's: without one, retries and deliveries of different
  // tickets would share ids, and the queue's duplicate detection would drop all but the first.
  if (!message.messageId) throw new Error("A notification without a message id: refused, to dead-letter.");
  const parsed = NotificationMessage.safeParse(parseQueueBody(message.body));
  if (!parsed.success) throw new Error(`Message ${message.messageId} is not a notification v1: ${parsed.error.message}`);
  const body = parsed.data;
  switch (body.kind) {
    case "email":
      return sendEmail(deps, message.messageId, body);
    case "event":
      return fanOut(deps, message.messageId, body.event);
    case "webhook":
      return deliver(deps, message.messageId, body);
  }
}

async function sendEmail(deps: NotificationDeps, messageId: string, message: EmailMessage): Promise<void> {
  const { ticket, to } = message;
  const recordId = emailKeyOf(message.seq, to.email);
  const about = `email ${ticket.id}/${message.seq}`;
  if (await deps.records.done(ticket.id, recordId)) return deps.log(`${about}: sent already`);
  const preferences = (await deps.preferences.get(message.requesterId)) ?? DEFAULT_PREFERENCES;
  if (!preferences.email) return deps.log(`${about}: not sent, the requester turned emails off`);
  let outcome;
  try {
    outcome = await deps.emails.send({
      to,
      subject: message.subject,
      text: `${message.text}\n\nYour ticket #${ticket.number}: ${deps.ticketUrl(ticket)}\n`,
      key: `${ticket.id}.${recordId}`,
    });
  } catch (e) {
    return retryLater(deps, messageId, message, `${about} not sent (${errorOf(e)})`);
  }
  if (outcome.kind === "accepted") {
    await recordSent(deps, ticket.id, recordId);
    if (!deps.emails.announces) deps.log(`${about}: accepted by ${deps.emails.describe} (${outcome.id})`);
    return;
  }
  const refused = { to: to.email, about: message.seq, code: outcome.code, message: outcome.message };
  if (!(await deps.records.refused(ticket.id, refused, recordId, messageId))) return deps.log(`${about}: refused, and the ticket is gone`);
  deps.log(`${about}: refused for good (${outcome.code}), not retried; recorded on the ticket`);
}

/**
 * The record of an email the service accepted, tried a few times before giving up: a message
 * redelivered without it sends the email again (under the same Operation-Id, which the
 * service may or may not drop: README, Known limits).
 */
async function recordSent(deps: NotificationDeps, ticketId: string, recordId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.records.sent(ticketId, recordId);
    } catch (e) {
      // Written by an earlier try whose answer was lost: it is there.
      if (isFailure(e, "exists")) return;
      if (attempt >= RECORD_ATTEMPTS) throw e;
      deps.log(`email record ${ticketId}/${recordId} not written (${errorOf(e)}); trying again`);
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

/** Tries of an accepted email's record: about 1.4 s in all, inside any queue lock. */
const RECORD_ATTEMPTS = 4;

/** One message per subscription that wants the event, under ids fixed by both: a fan-out delivered again sends nothing twice. */
async function fanOut(deps: NotificationDeps, messageId: string, event: AppEvent): Promise<void> {
  const subscriptions = (await deps.webhooks.list()).filter((s) => wants(s, event));
  const messages: QueueMessage[] = subscriptions.map((s) => ({
    messageId: `${messageId}.${s.id}`,
    subject: "notification.webhook",
    body: { version: 1, kind: "webhook", subscriptionId: s.id, event, attempt: 0 } satisfies WebhookMessage,
    correlationId: messageId,
  }));
  if (messages.length) await deps.publisher.publish(messages);
}

async function deliver(deps: NotificationDeps, messageId: string, message: WebhookMessage): Promise<void> {
  const subscription = await deps.webhooks.get(message.subscriptionId);
  // Deleted, or paused since: its receiver is not to be called.
  if (!subscription || !wants(subscription, message.event)) return;
  const delivery = deliveryIdOf(messageId);
  const body = JSON.stringify({
    version: 1,
    delivery,
    event: message.event.type,
    ticket: message.event.ticket,
    at: message.event.at,
    id: message.event.id,
  });
  try {
    await deps.post({
      url: subscription.url,
      body,
      headers: signedHeaders(subscription.secret, message.event.type, delivery, body, deps.now()),
      secrets: [subscription.secret],
    });
  } catch (e) {
    if (message.attempt < deps.settings.maxRetries)
      return retryLater(deps, messageId, message, `webhook ${subscription.id} ${message.event.type} not delivered (${errorOf(e)})`);
    deps.log(`webhook ${subscription.id} ${message.event.type} not delivered after its last retry (${errorOf(e)})`);
    return countFailure(deps, subscription, lastErrorOf(e));
  }
  if (subscription.failures > 0) await deps.webhooks.update(subscription.id, deliveredOnce);
}

async function countFailure(deps: NotificationDeps, subscription: Subscription, error: string): Promise<void> {
  let counted: Subscription | null = null;
  let paused = false;
  await deps.webhooks.update(subscription.id, (stored) => {
    counted = failedOnce(stored, error, deps.now().toISOString());
    paused = counted.status === "paused" && stored.status === "active";
    return counted;
  });
  const failures = (counted as Subscription | null)?.failures ?? 0;
  deps.log(`webhook ${subscription.id}: an event not delivered after every retry (${failures} in a row)${paused ? "; paused" : ""}`);
}

/** The same message, one attempt more, after the backoff; past the last retry an email throws, to dead-letter. */
async function retryLater(deps: NotificationDeps, messageId: string, message: EmailMessage | WebhookMessage, why: string): Promise<void> {
  const { retrySeconds, maxRetries } = deps.settings;
  if (message.attempt >= maxRetries) throw new Error(`${why}; no retries left`);
  const attempt = message.attempt + 1;
  const at = new Date(deps.now().getTime() + retrySeconds * 1000 * 2 ** (attempt - 1));
  await deps.publisher.publish([
    {
      messageId: retryIdOf(firstIdOf(messageId), attempt),
      subject: `notification.${message.kind}`,
      body: { ...message, attempt },
      scheduledAt: at,
    },
  ]);
  deps.log(`${why}; retry ${attempt} at ${at.toISOString()}`);
}

/**
 * The same on every attempt of a delivery (its retries' message ids name the first), and opaque:
 * the message id holds the entry's seq, which would tell how many internal entries there are.
 */
const deliveryIdOf = (messageId: string): string => `dlv_${createHash("sha256").update(firstIdOf(messageId)).digest("hex").slice(0, 32)}`;

const errorOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * What an admin sees of a subscription's last failure: its receiver's status, never its answer
 * or a network error's words (which name the address a host name resolved to); the log has them.
 */
function lastErrorOf(e: unknown): string {
  const { status } = e as { status?: unknown };
  return typeof status === "number" ? `HTTP ${status}` : "no answer (a network error or a timeout)";
}
