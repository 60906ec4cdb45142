import type { Alert } from "../domain/alert.js";
import type { Channel } from "../ports.js";
import { factList, summaryLine } from "./format.js";
import { urlChannel, type UrlChannelOptions } from "./http.js";

/**
 * Microsoft Teams through a Workflows webhook ("When a Teams webhook request is
 * received"), which replaced the retired Office 365 connectors: it takes a
 * message whose attachment is an Adaptive Card and posts the card to the chat
 * or channel the workflow names. Card version 1.4 is what Teams renders
 * everywhere, mobile included.
 *
 * Teams has no idempotency key: a retry after a lost answer can post the card
 * twice. The card says the page number, so a duplicate is recognisable.
 */

export type TeamsChannelOptions = UrlChannelOptions;

/** Adaptive Card text colours: red while someone must act, amber once someone has (or soon must), green when done. */
const COLOUR: Record<Alert["event"], "Attention" | "Warning" | "Good"> = {
  triggered: "Attention",
  repaged: "Attention",
  acknowledged: "Warning",
  resolved: "Good",
  sla_breached: "Attention",
  "sla.warning": "Warning",
  "sla.breached": "Attention",
};

export function teamsMessage(alert: Alert) {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: summaryLine(alert), weight: "Bolder", size: "Medium", color: COLOUR[alert.event], wrap: true },
            { type: "FactSet", facts: factList(alert).map((f) => ({ title: f.label, value: f.value })) },
          ],
          actions: [{ type: "Action.OpenUrl", title: "Open ticket", url: alert.link }],
          // Otherwise Teams renders the card at a narrow fixed width and wraps every fact.
          msteams: { width: "Full" },
        },
      },
    ],
  };
}

export function teamsChannel(options: TeamsChannelOptions): Channel {
  return urlChannel("teams", options, teamsMessage);
}
