import type { Alert } from "../domain/alert.js";
import type { Channel } from "../ports.js";
import { DeliveryError } from "./errors.js";
import { factList, summaryLine, truncate } from "./format.js";
import { postJson, type Fetch } from "./http.js";

/**
 * PagerDuty through the Events API v2. One PagerDuty alert per escalation of a
 * ticket: dedup_key is the ticket id, so a re-page or a retried trigger lands on
 * the open alert instead of opening a second incident, and acknowledge and
 * resolve close the one that was opened. (Once PagerDuty's alert is resolved, a
 * new trigger with the same key opens a new one, which is what a ticket
 * escalated again needs.) An SLA breach paged is a trigger on the same key: on
 * an alert still open (triggered or acknowledged) PagerDuty appends it to that
 * alert's log, and notifies nobody anew; with none open it opens one, which a
 * person resolves (or the ticket's next escalation, when it ends). The SLA's
 * notices are not PagerDuty's: nobody is paged for a warning.
 *
 * Answers: 202 accepted; 400 the event is invalid, so sending it again cannot
 * help (a permanent DeliveryError); 429 and 5xx are worth retrying.
 */

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

export type PagerDutySeverity = "critical" | "error" | "warning" | "info";
export type PagerDutyAction = "trigger" | "acknowledge" | "resolve";

export interface PagerDutyChannelOptions {
  routingKey: string;
  url?: string | undefined;
  fetch?: Fetch | undefined;
  timeoutMs?: number | undefined;
}

/**
 * A re-page is a new trigger on the same dedup_key: PagerDuty logs it on the open alert.
 * A notice has no action: the notifier sends notices to the webhook only.
 */
export const PAGERDUTY_ACTION: Record<Alert["event"], PagerDutyAction | null> = {
  triggered: "trigger",
  repaged: "trigger",
  acknowledged: "acknowledge",
  resolved: "resolve",
  sla_breached: "trigger",
  "sla.warning": null,
  "sla.breached": null,
};

const RANK: PagerDutySeverity[] = ["info", "warning", "error", "critical"];

const FROM_PRIORITY: Record<Alert["priority"], PagerDutySeverity> = { emergency: "critical", high: "error", normal: "info", low: "info" };
const FROM_SEVERITY: Record<NonNullable<Alert["severity"]>, PagerDutySeverity> = {
  "SEV-A": "critical",
  "SEV-B": "error",
  "SEV-C": "warning",
  "SEV-D": "info",
};

/**
 * PagerDuty's severity is the more severe of what the priority and the
 * severity each say, so neither field can play down the other:
 *
 *   SEV-A or emergency → critical
 *   SEV-B or high      → error
 *   SEV-C              → warning
 *   otherwise          → info (low, normal, SEV-D, no severity)
 *
 * e.g. normal + SEV-A → critical; emergency + SEV-D → critical; high + SEV-C → error.
 */
export function pagerDutySeverity(priority: Alert["priority"], severity: Alert["severity"]): PagerDutySeverity {
  const a = RANK.indexOf(FROM_PRIORITY[priority]);
  const b = RANK.indexOf(severity ? FROM_SEVERITY[severity] : "info");
  return RANK[Math.max(a, b)] ?? "info";
}

const SUMMARY_MAX = 1024;

export function pagerDutyEvent(alert: Alert, routingKey: string) {
  const event_action = PAGERDUTY_ACTION[alert.event];
  // Sending it again cannot help: permanent, so the message dead-letters for a person to see.
  if (!event_action) throw new DeliveryError("pagerduty", `pagerduty: ${alert.event} is a notice, not a page`, undefined, true);
  const base = { routing_key: routingKey, event_action, dedup_key: alert.ticketId };
  // Acknowledge and resolve act on the alert by key alone; PagerDuty ignores a payload on them.
  if (event_action !== "trigger") return base;
  const facts = factList(alert);
  return {
    ...base,
    payload: {
      summary: truncate(summaryLine(alert), SUMMARY_MAX),
      source: "helpdesk",
      severity: pagerDutySeverity(alert.priority, alert.severity),
      timestamp: alert.occurredAt,
      class: alert.event === "sla_breached" ? "sla breach" : "ticket escalation",
      // Labels as keys: PagerDuty shows custom_details as a table to the responder.
      custom_details: Object.fromEntries(facts.map((f) => [f.label, f.value])),
    },
    links: [{ href: alert.link, text: `Ticket #${alert.ticketNumber}` }],
  };
}

export function pagerDutyChannel(options: PagerDutyChannelOptions): Channel {
  const { routingKey } = options;
  if (!routingKey) throw new Error("The PagerDuty channel needs PAGERDUTY_ROUTING_KEY");
  const url = options.url || PAGERDUTY_EVENTS_URL;
  return {
    name: "pagerduty",
    async deliver(alert: Alert) {
      await postJson({
        channel: "pagerduty",
        url,
        body: JSON.stringify(pagerDutyEvent(alert, routingKey)),
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        // PagerDuty's 400 answers can quote the event back, routing key included.
        secrets: [routingKey],
      });
    },
  };
}
