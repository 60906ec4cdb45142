import * as z from "zod";
import type { Channel } from "../ports.js";
import type { Fetch } from "./http.js";
import { pagerDutyChannel } from "./pagerduty.js";
import { slackChannel } from "./slack.js";
import { teamsChannel } from "./teams.js";
import type { AlertChannelSetting, ChannelSettings } from "./settings.js";
import { webhookChannel } from "./webhook.js";

/**
 * The ops channels the settings configure, in a fixed order (webhook, Teams, Slack,
 * PagerDuty), each validated here, when the notifier is built: a channel whose
 * setting is invalid, or is a Key Vault reference Azure did not resolve (the app
 * setting then holds the text `@Microsoft.KeyVault(...)` itself), is left off and
 * named in `skipped` (never its value), so one bad secret neither stops the HTTP API
 * nor signs alerts with the reference's text.
 */

export interface ConfiguredChannels {
  channels: Channel[];
  /** Why each channel that is set is not used: "TEAMS_WEBHOOK_URL must be an http(s) URL". */
  skipped: string[];
}

const KEY_VAULT_REFERENCE = "@Microsoft.KeyVault(";

const url = z.url({ protocol: /^https?$/ });

interface ChannelSpec {
  /** The setting that turns the channel on. */
  on: AlertChannelSetting;
  /** Each setting the channel reads, and what it must be. */
  settings: Partial<Record<AlertChannelSetting, { schema: z.ZodType<string>; what: string; optional?: boolean }>>;
  build: (values: ChannelSettings, fetch: Fetch) => Channel;
}

const SPECS: ChannelSpec[] = [
  {
    on: "ALERT_WEBHOOK_URL",
    settings: {
      ALERT_WEBHOOK_URL: { schema: url, what: "an http(s) URL" },
      // An unsigned alert could not be told from a forged one.
      ALERT_WEBHOOK_SECRET: { schema: z.string().min(16), what: "16 characters or more (webhook alerts are signed)" },
    },
    build: (v, fetch) => webhookChannel({ url: v.ALERT_WEBHOOK_URL!, secret: v.ALERT_WEBHOOK_SECRET!, fetch }),
  },
  {
    on: "TEAMS_WEBHOOK_URL",
    settings: { TEAMS_WEBHOOK_URL: { schema: url, what: "an http(s) URL" } },
    build: (v, fetch) => teamsChannel({ url: v.TEAMS_WEBHOOK_URL!, fetch }),
  },
  {
    on: "SLACK_WEBHOOK_URL",
    settings: { SLACK_WEBHOOK_URL: { schema: url, what: "an http(s) URL" } },
    build: (v, fetch) => slackChannel({ url: v.SLACK_WEBHOOK_URL!, fetch }),
  },
  {
    on: "PAGERDUTY_ROUTING_KEY",
    settings: {
      PAGERDUTY_ROUTING_KEY: { schema: z.string().min(1), what: "a routing key" },
      PAGERDUTY_EVENTS_URL: { schema: url, what: "an http(s) URL", optional: true },
    },
    build: (v, fetch) => pagerDutyChannel({ routingKey: v.PAGERDUTY_ROUTING_KEY!, url: v.PAGERDUTY_EVENTS_URL, fetch }),
  },
];

export function channelsFromConfig(settings: ChannelSettings, fetchImpl: Fetch = fetch): ConfiguredChannels {
  const channels: Channel[] = [];
  const skipped: string[] = [];
  for (const spec of SPECS) {
    if (settings[spec.on] === undefined) continue;
    const problems = Object.entries(spec.settings).flatMap(([name, rule]) => {
      const value = settings[name as AlertChannelSetting];
      if (value === undefined) return rule.optional ? [] : [`${name} is not set`];
      if (value.startsWith(KEY_VAULT_REFERENCE)) return [`${name} is a Key Vault reference that was not resolved`];
      return rule.schema.safeParse(value).success ? [] : [`${name} must be ${rule.what}`];
    });
    if (problems.length) skipped.push(...problems);
    else channels.push(spec.build(settings, fetchImpl));
  }
  return { channels, skipped };
}
