import * as z from "zod";
import { ALERT_KIND, AlertEvent, AlertFacts } from "./alert.js";

/**
 * The messages of the `escalations` queue: a versioned JSON body, the same for the
 * first page (from the outbox), the re-pages and the retries the notifier schedules, and
 * for the SLA's page and notices. `cycle` is the ticket's escalation cycle as of the event.
 */
export const EscalationMessage = z.object({
  version: z.literal(1),
  event: AlertEvent,
  ticketId: z.string().min(1),
  cycle: z.number().int().min(0),
  page: z.number().int().min(1),
  facts: AlertFacts,
  /** On a retry (a later copy the notifier scheduled): the first message's id, and the attempt. */
  retryOf: z.string().min(1).optional(),
  attempt: z.number().int().min(1).optional(),
  /** Channels that refused it for good (a 4xx): not tried again. */
  givenUp: z.array(z.string()).optional(),
  /**
   * On a retry of a page: the next page is still to be scheduled, because the attempt
   * before failed (the store did not answer) before it could schedule it.
   */
  repageOwed: z.boolean().optional(),
});
export type EscalationMessage = z.infer<typeof EscalationMessage>;

/** The id of an escalation event's message: the ticket and the sequence of the entry that records it. */
export const messageIdOf = (ticketId: string, seq: number): string => `${ticketId}.${seq}`;

/** A retry's id says whose retry it is: only the notifier's own retries may speak for another message. */
export { retryIdOf } from "../../kernel/retry-id.js";

/** `escalation.triggered`, `escalation.sla_breached`...; a notice is named by its event alone: `sla.warning`, `sla.breached`. */
export const subjectOf = (event: AlertEvent): string => (ALERT_KIND[event] === "notice" ? event : `escalation.${event}`);
