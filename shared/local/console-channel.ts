import type { Alert } from "../escalation/domain/alert.js";
import type { Channel } from "../escalation/ports.js";

/** The local host prints every alert, so a developer sees escalations without any channel configured. */
export function consoleChannel(print: (line: string) => void): Channel {
  return {
    name: "console",
    async deliver(alert: Alert) {
      const page = alert.event === "triggered" || alert.event === "repaged" ? ` (page ${alert.page})` : "";
      print(
        `🚨 ALERT ${alert.event.toUpperCase()}${page}: #${alert.ticketNumber} ` +
          `[${alert.priority}${alert.severity ? `, ${alert.severity}` : ""}] assignee ${alert.assignee?.name ?? "none"}; ` +
          `by ${alert.actor.name}: ${alert.reason} ${alert.link}`,
      );
    },
  };
}
