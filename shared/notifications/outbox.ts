import { createHash, randomBytes } from "node:crypto";
import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import type { TimelineEntry } from "../tickets/domain/model.js";
import type { AppEventType, NotificationMessage } from "./domain/messages.js";
import { requesterEmailsOf } from "./domain/requester-email.js";

/**
 * The tickets' outbox, as notifications fill it, in the change's own batch: a message to the
 * `notifications` queue for each email the change sends its requester (requester-email.ts),
 * and one for each event of it the apps may subscribe to. So no change is stored without its
 * email, and no email is sent for a change that was not stored.
 */
export function notificationEntries(
  change: Change,
  requestId: string,
  /** Whether any app may want events of this type (kept-subscriptions.ts); an event nobody would get is not written. */
  wanted: (type: AppEventType) => boolean = () => true,
): OutboxEntry[] {
  const { ticket } = change;
  const ref = { id: ticket.id, number: ticket.number };
  const entry = (name: string, at: string, body: NotificationMessage): OutboxEntry => {
    const id = `outbox-${name}`;
    return {
      id,
      ticketId: ticket.id,
      queue: "notifications",
      messageId: `${ticket.id}.${id}`,
      subject: `notification.${body.kind}`,
      body,
      correlationId: requestId,
      createdAt: at,
    };
  };
  const emails = requesterEmailsOf(change).map((email) =>
    entry(emailKeyOf(email.seq, email.to.email), change.entries.find((e) => e.seq === email.seq)!.at, {
      version: 1,
      kind: "email",
      ticket: ref,
      seq: email.seq,
      requesterId: ticket.requester.id,
      about: email.kind,
      to: email.to,
      subject: email.subject,
      text: email.text,
      attempt: 0,
    }),
  );
  const events = change.entries.flatMap((e) => {
    const type = eventOf(e);
    if (!type || !wanted(type)) return [];
    // Random, and kept with the entry: anything made from the entry's seq could be counted back to it.
    const id = `evt_${randomBytes(16).toString("hex")}`;
    return [entry(`${e.seq}-event`, e.at, { version: 1, kind: "event", event: { id, type, ticket: ref, at: e.at } })];
  });
  return [...emails, ...events];
}

/** Which event an entry is for the apps: only public facts (an internal entry is none). */
function eventOf(entry: TimelineEntry): AppEventType | null {
  if (entry.visibility !== "public") return null;
  switch (entry.type) {
    case "opened":
      return "ticket.opened";
    case "status_changed":
      return "ticket.status_changed";
    case "comment":
      return "ticket.public_reply";
    default:
      return null;
  }
}

/**
 * One email's identity: the entry it is about and its recipient (the same address, the same key;
 * the address itself never in an id). Its outbox entry and its record in the ticket's partition
 * are named by it.
 */
export const emailKeyOf = (seq: number, email: string): string =>
  `email-${seq}-${createHash("sha256").update(email.toLowerCase()).digest("hex").slice(0, 16)}`;
