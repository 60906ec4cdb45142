import type { Alert } from "./domain/alert.js";

/** An ops channel: Teams, Slack, PagerDuty, the generic webhook (channels/), or the local host's console. */
export interface Channel {
  /** Stable name, used in delivery records and timeline entries: "webhook", "teams", "slack", "pagerduty". */
  readonly name: string;
  /**
   * Sends one alert. `deliveryId` is the same on every retry of this alert to this
   * channel, so a receiver can drop duplicates. Throws a DeliveryError on any failure
   * (non-2xx, network), saying whether a retry could succeed.
   */
  deliver(alert: Alert, deliveryId: string): Promise<void>;
}
