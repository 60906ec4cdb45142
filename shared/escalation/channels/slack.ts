import type { Alert } from "../domain/alert.js";
import type { Channel } from "../ports.js";
import { factList, summaryLine, truncate } from "./format.js";
import { urlChannel, type UrlChannelOptions } from "./http.js";

/**
 * Slack through an incoming webhook: Block Kit blocks for the message, and
 * `text` as the fallback Slack uses for notifications and screen readers.
 *
 * Everything a person typed (names, an agent's reason) goes into mrkdwn, where
 * `&`, `<` and `>` are control characters: unescaped, a reason like
 * `<!channel>` would ping the whole channel and `<https://evil|Open ticket>`
 * would disguise a link. They are escaped as Slack documents (&amp; &lt; &gt;).
 * The header is plain_text, which Slack does not parse, so it is left as is.
 *
 * Limits honoured: header ≤ 150 characters, ≤ 10 fields per section, field ≤
 * 2000 characters. Slack has no idempotency key: a retry after a lost answer can
 * post twice; the message says the page number, so a duplicate is recognisable.
 * The link is a mrkdwn link in a context block rather than a button: a button
 * needs an app with interactivity to acknowledge clicks, which an incoming
 * webhook does not have.
 */

export type SlackChannelOptions = UrlChannelOptions;

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const HEADER_MAX = 150;
const FIELDS_PER_SECTION = 10;
const FIELD_MAX = 2000;

export function slackMessage(alert: Alert) {
  // The link has its own block, so it is not repeated among the fields.
  const facts = factList(alert).filter((f) => f.label !== "Link");
  const fields = facts.map((f) => ({ type: "mrkdwn", text: truncate(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, FIELD_MAX) }));
  const sections = [];
  for (let i = 0; i < fields.length; i += FIELDS_PER_SECTION)
    sections.push({ type: "section", fields: fields.slice(i, i + FIELDS_PER_SECTION) });
  const summary = summaryLine(alert);
  const link = `<${escapeMrkdwn(alert.link)}|Open ticket #${escapeMrkdwn(alert.ticketNumber)}>`;
  return {
    text: `${escapeMrkdwn(summary)} ${link}`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: truncate(summary, HEADER_MAX), emoji: true } },
      ...sections,
      { type: "context", elements: [{ type: "mrkdwn", text: `${link} · ${escapeMrkdwn(alert.link)}` }] },
    ],
  };
}

export function slackChannel(options: SlackChannelOptions): Channel {
  return urlChannel("slack", options, slackMessage);
}
