import type { Alert } from "../escalation/domain/alert.js";
import type { Channel } from "../escalation/ports.js";

/** The local host prints every alert, so a developer sees escalations without any channel configured. */
export function consoleChannel(print: (line: string) => void): Channel {
  return {
    name: "console",
    async deliver(alert: Alert) {
      const page = alert.event === "triggered" || alert.event === "repaged" ? ` (page ${alert.page})` : "";
      // A page is an alarm; an SLA notice is a heads-up.
      const mark = alert.event.startsWith("sla.") ? "⏰ NOTICE" : "🚨 ALERT";
      print(
        `${mark} ${alert.event.toUpperCase()}${page}: #${alert.ticketNumber} ` +
          `[${alert.priority}${alert.severity ? `, ${alert.severity}` : ""}] assignee ${alert.assignee?.name ?? "none"}; ` +
          `by ${alert.actor.name}: ${alert.reason} ${alert.link}`,
      );
    },
  };
}
