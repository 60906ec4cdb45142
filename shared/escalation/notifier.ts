import { parseQueueBody, type Publisher, type QueueMessage } from "../outbox/ports.js";
import type { TicketStore } from "../tickets/ports.js";
import { isFailure } from "../kernel/failure.js";
import { DeliveryError } from "./channels/errors.js";
import { ticketLink } from "./channels/link.js";
import type { Deliveries } from "./deliveries.js";
import { ALERT_KIND, ticketFacts, type Alert } from "./domain/alert.js";
import { EscalationMessage, messageIdOf, retryIdOf, subjectOf } from "./domain/messages.js";
import type { Channel } from "./ports.js";

/**
 * Handles one message of the `escalations` queue: delivers the alert to every
 * channel that has not had it yet, and records each delivery on the ticket's
 * timeline. Idempotent per (message, channel): a redelivered message sends
 * nothing to a channel that already got it, and a failing channel does not make
 * the others repeat. It throws while any channel is left, so the queue redelivers
 * and, past its maxDeliveryCount, dead-letters: nothing is dropped silently.
 *
 * An escalation's steps and an SLA breach paged go to every channel; the SLA's
 * notices only to NOTICE_CHANNELS (alert.ts ALERT_KIND says which is which).
 */

/**
 * Where the SLA's notices go: the generic webhook, for programs, and the local host's
 * console. Chat and PagerDuty are for what people must act on now: a warning there
 * would teach them to look past the pages.
 */
export const NOTICE_CHANNELS: ReadonlySet<string> = new Set(["webhook", "console"]);

export interface NotifierSettings {
  ackTimeoutSeconds: number;
  maxRepages: number;
  ticketUrlTemplate: string;
  /** First delay before a retry of what some channel did not take; doubles each time. */
  retrySeconds: number;
  /** Retries before the message is left to dead-letter. */
  maxRetries: number;
}

export interface QueuedMessage {
  messageId: string;
  body: unknown;
}

export interface NotifierDeps {
  tickets: Pick<TicketStore, "get">;
  deliveries: Deliveries;
  channels: Channel[];
  publisher: Publisher;
  settings: NotifierSettings;
  now: () => Date;
  log: (line: string) => void;
}

/** Re-page n of a cycle: a scheduled message, delivered only if still unacknowledged then. */
export function repageFor(trigger: EscalationMessage, page: number, at: Date, correlationId?: string): QueueMessage {
  const body: EscalationMessage = { ...trigger, event: "repaged", page };
  return {
    messageId: `${trigger.ticketId}.${trigger.cycle}.page-${page}`,
    subject: subjectOf("repaged"),
    body,
    correlationId,
    scheduledAt: at,
  };
}

/** A later copy of a message, for the channels that did not take it. */
export function retryFor(message: EscalationMessage, messageId: string, attempt: number, at: Date): QueueMessage {
  const body: EscalationMessage = { ...message, retryOf: messageId, attempt };
  return { messageId: retryIdOf(messageId, attempt), subject: subjectOf(message.event), body, scheduledAt: at };
}

/** What a dependency the notifier cannot do without failed to do: the message waits for it. */
class DependencyFailed extends Error {
  override name = "DependencyFailed";
}

/**
 * Why the message should wait and be tried again, or null when it should fail as it is:
 * the store failing in any way (just after a first deploy its data role is still
 * propagating, and it refuses the app for a few minutes), and any other dependency
 * that reports itself unavailable (the queue, when scheduling a re-page).
 */
function transientCause(e: unknown): string | null {
  if (e instanceof DependencyFailed) return e.message;
  if (isFailure(e, "unavailable")) return `a dependency (${e.message})`;
  return null;
}

/** What one attempt at a message has done so far: kept when the attempt is cut short. */
interface Progress {
  givenUp: Set<string>;
  /** The next page is still to be scheduled by this message (or its retry). */
  repageOwed: boolean;
}

export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  async handle(message: QueuedMessage): Promise<void> {
    // Delivery records are keyed by message id: without one, deliveries would collide.
    if (!message.messageId) throw new Error("An escalation message without a messageId cannot be delivered exactly once.");
    const parsed = EscalationMessage.safeParse(parseQueueBody(message.body));
    // A body we cannot read will not become readable: fail so it dead-letters for a person to look at.
    if (!parsed.success) throw new Error(`Message ${message.messageId} is not an escalation message v1: ${parsed.error.message}`);
    const body = parsed.data;
    // A retry delivers the first message, to the channels that have not had it. Only the
    // notifier's own retries may speak for another message (their ids say whose).
    if (body.retryOf && message.messageId !== retryIdOf(body.retryOf, body.attempt ?? 0)) {
      throw new Error(`Message ${message.messageId} claims to retry ${body.retryOf} but is not its retry.`);
    }
    const messageId = body.retryOf ?? message.messageId;
    const progress: Progress = { givenUp: new Set(body.givenUp), repageOwed: !body.retryOf || body.repageOwed === true };
    const retryBody = (): EscalationMessage => ({ ...body, givenUp: [...progress.givenUp], repageOwed: progress.repageOwed });
    let left: string[];
    try {
      left = await this.deliver(body, message.messageId, messageId, progress);
    } catch (e) {
      // Thrown, the message would come back at once and spend its deliveries in seconds
      // while the store is away; a scheduled copy waits for it, with backoff. What was
      // delivered is recorded, so the copy sends nothing twice.
      const why = transientCause(e);
      if (!why) throw e;
      await this.retryLater(retryBody(), messageId, `waits for ${why}`);
      return;
    }
    if (left.length) await this.retryLater(retryBody(), messageId, `not yet delivered to ${left.join(", ")}`);
    // Once only refusals are left, the message dead-letters: a person must look at the channel.
    else if (progress.givenUp.size) throw new Error(`escalation ${messageId} refused for good by ${[...progress.givenUp].join(", ")}`);
  }

  /** Delivers to every channel that has not had the alert; returns the ones left for a retry. */
  private async deliver(body: EscalationMessage, receivedId: string, messageId: string, progress: Progress): Promise<string[]> {
    const { tickets, deliveries, channels, settings, log } = this.deps;
    const store = <T>(run: () => Promise<T>): Promise<T> =>
      run().catch((e: unknown) => {
        throw new DependencyFailed(`the ticket store (${(e as Error)?.message ?? String(e)})`, { cause: e });
      });
    const stored = await store(() => tickets.get(body.ticketId));
    if (!stored) {
      log(`escalation ${receivedId}: ticket ${body.ticketId} is gone; nothing to send`);
      return [];
    }
    const ticket = stored.ticket;
    const kind = ALERT_KIND[body.event];
    const paging = body.event === "triggered" || body.event === "repaged";
    if (kind === "escalation") {
      const current = ticket.escalation.state === "triggered" && ticket.escalation.cycle === body.cycle;
      if (body.event === "repaged" && !current) {
        log(`escalation #${ticket.number}: re-page ${body.page} not sent, escalation is ${ticket.escalation.state}`);
        return [];
      }
      // Anything of an escalation a newer one replaced would be taken for the newer one where
      // alerts are keyed by ticket (PagerDuty's dedup_key): a late resolve would close it, a
      // late page reopen an incident nobody resolves.
      if (ticket.escalation.cycle > body.cycle) {
        log(`escalation #${ticket.number}: ${body.event} of an earlier escalation not sent, a newer one is ${ticket.escalation.state}`);
        return [];
      }
      // Schedule the next page before delivering this one: a crash mid-delivery must not end the re-pages.
      if (paging && current && progress.repageOwed) await this.scheduleNextPage(body, ticket.escalation.triggeredAt, messageId);
    }
    // The SLA's events are no step of an escalation, and none of the above applies to them: a
    // breach is paged once, whatever state or cycle the escalation is in by now (none may be
    // open, or a newer one: a trigger on the ticket's key then lands on that one's alert), is
    // never re-paged, and waits for no trigger; nor does a notice.
    progress.repageOwed = false;
    const recipients = kind === "notice" ? channels.filter((c) => NOTICE_CHANNELS.has(c.name)) : channels;
    // A notice is for a receiver that asked for them; without one, there is nobody to tell, and nothing to retry.
    if (kind === "notice" && recipients.length === 0) {
      log(`escalation #${ticket.number}: ${body.event} notice not sent: no webhook is configured (ALERT_WEBHOOK_URL)`);
      return [];
    }

    // A re-page tells the ticket as it is now; other events as they were when they happened.
    const facts = body.event === "repaged" ? { ...body.facts, ...ticketFacts(ticket) } : body.facts;
    const alert: Alert = {
      ...facts,
      event: body.event,
      page: body.page,
      link: ticketLink(settings.ticketUrlTemplate, { id: ticket.id, number: ticket.number }),
    };
    const triggerId = messageIdOf(ticket.id, body.cycle);
    const left: string[] = [];
    for (const channel of recipients) {
      if (progress.givenUp.has(channel.name) || (await store(() => deliveries.wasDelivered(ticket.id, messageId, channel.name)))) continue;
      // A resolve or acknowledge never reaches a channel before the page it closes.
      if (kind === "escalation" && !paging && !(await store(() => deliveries.wasDelivered(ticket.id, triggerId, channel.name)))) {
        left.push(`${channel.name} (its trigger is not delivered yet)`);
        continue;
      }
      try {
        await channel.deliver(alert, deliveries.idOf(messageId, channel.name));
      } catch (e) {
        // A refusal no retry can cure (4xx) is not retried; the others still are.
        if (e instanceof DeliveryError && e.permanent) progress.givenUp.add(channel.name);
        else left.push(`${channel.name} (${(e as Error).message})`);
        log(`escalation ${messageId}: ${channel.name} failed: ${(e as Error).message}`);
        continue;
      }
      // Delivered but not recorded (the store failed here): the retry delivers it again with
      // the same delivery id, which the receiver drops; nothing else can be sure of once.
      await store(() => deliveries.record(ticket.id, { channel: channel.name, event: body.event, page: body.page, messageId }));
      log(`escalation #${ticket.number}: ${body.event}${paging ? ` page ${body.page}` : ""} delivered to ${channel.name}`);
    }
    return left;
  }

  /**
   * What some channel did not take is tried again later, by a scheduled copy of the
   * message: Service Bus redelivers an abandoned message at once, which would spend
   * every delivery in a moment while a channel is briefly down or a trigger is on
   * its way. The last retry throws, and the message dead-letters for a person to see.
   */
  private async retryLater(body: EscalationMessage, messageId: string, why: string): Promise<void> {
    const { retrySeconds, maxRetries } = this.deps.settings;
    const attempt = (body.attempt ?? 0) + 1;
    if (attempt > maxRetries) throw new Error(`escalation ${messageId} ${why}`);
    const at = new Date(this.deps.now().getTime() + retrySeconds * 1000 * 2 ** (attempt - 1));
    await this.deps.publisher.publish([retryFor(body, messageId, attempt, at)]);
    this.deps.log(`escalation ${messageId} ${why}; retry ${attempt} at ${at.toISOString()}`);
  }

  private async scheduleNextPage(body: EscalationMessage, triggeredAt: string | null, correlationId: string): Promise<void> {
    const { ackTimeoutSeconds, maxRepages } = this.deps.settings;
    if (body.page > maxRepages || !triggeredAt) return;
    // Pages keep the cadence of the trigger (every timeout after it), however late a delivery ran.
    const at = new Date(Date.parse(triggeredAt) + body.page * ackTimeoutSeconds * 1000);
    await this.deps.publisher.publish([repageFor(body, body.page + 1, at, correlationId)]);
  }
}
