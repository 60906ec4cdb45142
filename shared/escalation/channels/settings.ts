/** The settings of the ops channels, by name: read as given, validated by channelsFromConfig. */
export const ALERT_CHANNEL_SETTINGS = [
  "ALERT_WEBHOOK_URL",
  "ALERT_WEBHOOK_SECRET",
  "TEAMS_WEBHOOK_URL",
  "SLACK_WEBHOOK_URL",
  "PAGERDUTY_ROUTING_KEY",
  "PAGERDUTY_EVENTS_URL",
] as const;
export type AlertChannelSetting = (typeof ALERT_CHANNEL_SETTINGS)[number];
export type ChannelSettings = Partial<Record<AlertChannelSetting, string>>;
