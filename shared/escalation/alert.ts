/**
 * What ops is told, whatever the channel. Built from the ticket at the time of
 * the event (DESIGN.md section 6); every channel formats the same facts.
 */
export type AlertEvent = "triggered" | "repaged" | "acknowledged" | "resolved";

export interface Alert {
  event: AlertEvent;
  /** Stable for the life of one escalation of one ticket: PagerDuty's dedup_key is the ticket id. */
  ticketId: string;
  ticketNumber: string;
  subject: string;
  priority: "low" | "normal" | "high" | "emergency";
  severity: "SEV-A" | "SEV-B" | "SEV-C" | "SEV-D" | null;
  status: string;
  requester: { name: string; email: string | null };
  assignee: { name: string } | null;
  /** Who made the change that caused this event (escalated, acknowledged, resolved), and why. */
  actor: { name: string; role: string };
  reason: string;
  /** Link to the ticket, from TICKET_URL_TEMPLATE with {id} and {number} replaced. */
  link: string;
  /** Page number: 1 for the first page, 2.. for re-pages. */
  page: number;
  occurredAt: string;
}

export interface Channel {
  /** Stable name, used in delivery records and timeline entries: "webhook", "teams", "slack", "pagerduty". */
  readonly name: string;
  /**
   * Sends one alert. `deliveryId` is the same on every retry of this alert to
   * this channel, so a receiver can drop duplicates. Throws on any failure
   * (non-2xx, network), so the message is redelivered.
   */
  deliver(alert: Alert, deliveryId: string): Promise<void>;
}
