import type { Channel } from "../alert.js";
import type { Fetch } from "./http.js";
import { pagerDutyChannel } from "./pagerduty.js";
import { slackChannel } from "./slack.js";
import { teamsChannel } from "./teams.js";
import { webhookChannel } from "./webhook.js";

/**
 * The ops channels the settings configure, in a fixed order (webhook, Teams,
 * Slack, PagerDuty). A channel is on when its URL or key is set; none set means
 * no channel, and the caller decides what that means (the local host prints).
 */

export interface ChannelSettings {
  ALERT_WEBHOOK_URL?: string | undefined;
  ALERT_WEBHOOK_SECRET?: string | undefined;
  TEAMS_WEBHOOK_URL?: string | undefined;
  SLACK_WEBHOOK_URL?: string | undefined;
  PAGERDUTY_ROUTING_KEY?: string | undefined;
  PAGERDUTY_EVENTS_URL?: string | undefined;
}

export function channelsFromSettings(settings: ChannelSettings, fetchImpl: Fetch = fetch): Channel[] {
  const channels: Channel[] = [];
  if (settings.ALERT_WEBHOOK_URL) {
    // Fail at start-up, not at the first escalation: an unsigned webhook is a misconfiguration.
    if (!settings.ALERT_WEBHOOK_SECRET) throw new Error("ALERT_WEBHOOK_SECRET is required when ALERT_WEBHOOK_URL is set (webhook alerts are signed)");
    channels.push(webhookChannel({ url: settings.ALERT_WEBHOOK_URL, secret: settings.ALERT_WEBHOOK_SECRET, fetch: fetchImpl }));
  }
  if (settings.TEAMS_WEBHOOK_URL) channels.push(teamsChannel({ url: settings.TEAMS_WEBHOOK_URL, fetch: fetchImpl }));
  if (settings.SLACK_WEBHOOK_URL) channels.push(slackChannel({ url: settings.SLACK_WEBHOOK_URL, fetch: fetchImpl }));
  if (settings.PAGERDUTY_ROUTING_KEY) {
    channels.push(pagerDutyChannel({ routingKey: settings.PAGERDUTY_ROUTING_KEY, url: settings.PAGERDUTY_EVENTS_URL, fetch: fetchImpl }));
  }
  return channels;
}

export { ticketLink } from "./link.js";
export { DeliveryError, PermanentDeliveryError } from "./errors.js";
export { verifyWebhookSignature, signWebhook } from "./webhook.js";
export { webhookChannel, teamsChannel, slackChannel, pagerDutyChannel };
export { factList, summaryLine } from "./format.js";
export { pagerDutySeverity } from "./pagerduty.js";
