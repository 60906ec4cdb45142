import { SLA_TARGET_LABEL, type Alert } from "../domain/alert.js";

/**
 * What every channel says about an alert, so Teams, Slack, PagerDuty and the
 * webhook cannot drift apart: each renders this one list of facts and this one
 * summary line in its own markup. The facts name the ticket (number, link), how
 * urgent it is (priority, severity), who is assigned, who caused this event and
 * why, and which page it is: never a requester's words (alert.ts).
 */

export interface Fact {
  label: string;
  value: string;
}

/** The label of the actor fact says what they did, so "Jane Doe (agent)" is never ambiguous. */
const ACTOR_LABEL: Record<Alert["event"], string> = {
  triggered: "Escalated by",
  // A re-page carries the trigger's actor and reason: nobody acts to re-page, the timer does.
  repaged: "Escalated by",
  acknowledged: "Acknowledged by",
  resolved: "Resolved by",
  // The SLA clock: "SLA clock (system)".
  sla_breached: "Detected by",
  "sla.warning": "Detected by",
  "sla.breached": "Detected by",
};

export function eventLabel(alert: Pick<Alert, "event" | "page">): string {
  switch (alert.event) {
    case "triggered":
      return `Escalated (page ${alert.page})`;
    case "repaged":
      return `Re-paged, not acknowledged (page ${alert.page})`;
    case "acknowledged":
      return "Acknowledged";
    case "resolved":
      return "Resolved";
    case "sla_breached":
      return "SLA breached (page)";
    case "sla.warning":
      return "SLA warning (notice)";
    case "sla.breached":
      return "SLA breached (notice)";
  }
}

/** Ordered as a responder reads them: what, how bad, who, why, where. */
export function factList(alert: Alert): Fact[] {
  const facts: Fact[] = [
    { label: "Ticket", value: `#${alert.ticketNumber}` },
    { label: "Event", value: eventLabel(alert) },
    { label: "Priority", value: alert.priority },
    { label: "Severity", value: alert.severity ?? "none" },
    { label: "Status", value: alert.status },
    // An incident: how many reports this one page stands for.
    ...(alert.linkedReports ? [{ label: "Linked reports", value: String(alert.linkedReports) }] : []),
    { label: "Assignee", value: alert.assignee?.name ?? "unassigned" },
    { label: ACTOR_LABEL[alert.event], value: `${alert.actor.name} (${alert.actor.role})` },
    { label: "Reason", value: alert.reason },
    { label: "Occurred at", value: alert.occurredAt },
    { label: "Link", value: alert.link },
  ];
  // Chat APIs reject empty text objects; a dash still shows that the value is missing.
  return facts.map((f) => ({ label: f.label, value: f.value.trim() ? f.value : "—" }));
}

const PREFIX: Record<Alert["event"], (page: number) => string> = {
  triggered: () => "",
  repaged: (page) => `Re-page ${page}: `,
  acknowledged: () => "Acknowledged: ",
  resolved: () => "Resolved: ",
  sla_breached: () => "SLA breached: ",
  "sla.warning": () => "SLA warning: ",
  "sla.breached": () => "SLA breached: ",
};

/** What happened, after the ticket: the reason, or which SLA target is (was) due when. */
function whatHappened(alert: Alert): string {
  if (!alert.sla) return oneLine(alert.reason);
  const target = SLA_TARGET_LABEL[alert.sla.target];
  return alert.event === "sla.warning" ? `${target} is due ${alert.sla.dueAt}` : `${target} was due ${alert.sla.dueAt}`;
}

/**
 * One line for notification previews and PagerDuty's incident title, e.g.
 * `[EMERGENCY, SEV-A] #12345678: severity SEV-A: mobile banking down`,
 * `Re-page 2: [HIGH] #12345678: raised by hand: printer on fire` or
 * `SLA breached: [EMERGENCY] #12345678: first response was due 2026-03-01T10:15:00.000Z`.
 * The reason's line breaks are folded: a title has one line.
 */
export function summaryLine(alert: Alert): string {
  const urgency = [alert.priority.toUpperCase(), alert.severity].filter(Boolean).join(", ");
  return `${PREFIX[alert.event](alert.page)}[${urgency}] #${alert.ticketNumber}: ${whatHappened(alert)}`;
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Cuts to at most `max` characters (code units), marking the cut, for APIs with hard length limits. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // Do not split a surrogate pair: half an emoji is invalid UTF-16 and some APIs reject it.
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
