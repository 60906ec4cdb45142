import type { NotificationPreferences } from "./domain/preferences.js";
import type { Subscription } from "./domain/webhook.js";

/** Where each person's preferences are kept (the Cosmos DB adapter: a partition of their own). */
export interface PreferenceStore {
  /** Theirs, or null when they never set any. */
  get(userId: string): Promise<NotificationPreferences | null>;
  put(userId: string, preferences: NotificationPreferences): Promise<void>;
}

/** One email to one person: what the sender needs, and nothing of the ticket it does not show. */
export interface OutgoingEmail {
  to: { name: string; email: string };
  subject: string;
  /** Plain text: the public words, then the link to the ticket. */
  text: string;
  /**
   * Unique to the change and the recipient, and the same on every redelivery: the sender
   * passes it on where the service can use it (Communication Services' Operation-Id is a UUID
   * derived from it), the .eml writer names its file by it.
   */
  key: string;
}

/**
 * What the service said of an email it answered: accepted, or refused for good (its recipient:
 * a 400 naming the recipients, or an operation that ended Failed). Anything else (a timeout, a
 * 5xx, throttling, our credential or our sender refused, any other 4xx) throws, and the email is
 * tried again, then dead-letters.
 */
export type EmailOutcome = { kind: "accepted"; id: string } | { kind: "refused"; code: string; message: string };

/** Sends the requester emails: Communication Services Email, or the local host's .eml files. */
export interface EmailSender {
  /** Where the emails go, for the log line: "communication services (host)", ".eml files in <dir>". */
  readonly describe: string;
  /** It logs each email it takes itself (the local .eml files: one line each), so the handler adds none. */
  readonly announces?: true;
  send(email: OutgoingEmail): Promise<EmailOutcome>;
}

/** The apps' webhook subscriptions (the Cosmos DB adapter: a partition of their own). */
export interface WebhookStore {
  list(): Promise<Subscription[]>;
  get(id: string): Promise<Subscription | null>;
  /** Stores a new one. */
  create(subscription: Subscription): Promise<void>;
  /**
   * Changes one as `change` says (null: leave it), on the copy stored now: a write that lost a
   * race with another is made again on the newer copy, so failures counted at once all count.
   * Nothing when there is none.
   */
  update(id: string, change: (subscription: Subscription) => Subscription | null): Promise<void>;
  /** False when there was none. */
  delete(id: string): Promise<boolean>;
}

/** One signed POST of an event to a subscription's URL: resolves on 2xx, throws otherwise (its message names no secret; its `status`, the receiver's answer, if any). */
export type PostEvent = (request: { url: string; body: string; headers: Record<string, string>; secrets: string[] }) => Promise<void>;
