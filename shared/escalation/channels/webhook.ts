import { signedHeaders } from "../../kernel/webhook-signature.js";
import type { Alert } from "../domain/alert.js";
import type { Channel } from "../ports.js";
import { factList, summaryLine, type Fact } from "./format.js";
import { postJson, type Fetch } from "./http.js";

/**
 * The generic webhook: for receivers we do not know (an on-call bot, a SIEM,
 * a ticket mirror). It sends the whole alert as data rather than formatted text,
 * and signs it so the receiver can tell our requests from anyone else's. It is the
 * one channel that gets the SLA's notices, besides every page.
 *
 * Request: POST <ALERT_WEBHOOK_URL>, `content-type: application/json`, body
 *
 *   { "version": 1, "delivery": "<delivery id>", "event": "triggered",
 *     "summary": "[EMERGENCY, SEV-A] #12345678: priority emergency: business-impacting",
 *     "facts": [{ "label": "Ticket", "value": "#12345678" }, ...],
 *     "alert": { ...the Alert, as in shared/escalation/domain/alert.ts } }
 *
 * `event` is one of: triggered, repaged, acknowledged, resolved (an escalation's
 * steps), sla_breached (an SLA target breached on a business-impacting ticket: a
 * page, as on every channel), sla.warning and sla.breached (the SLA's notices: a
 * warning, a breach on any other ticket). On the SLA's events `alert.sla` is
 * `{ "target": "firstResponse" | "resolution", "dueAt" }` and the actor is the SLA
 * clock (system).
 *
 * `alert` is for programs; `summary` and `facts` are the text the other
 * channels show, for receivers that only relay a message to people.
 *
 * Headers:
 *   X-Helpdesk-Event:     the alert's event, as in the body (route without parsing it)
 *   X-Helpdesk-Delivery:  the delivery id, the same on every retry of this alert:
 *                         drop a request whose id you have already processed
 *   X-Helpdesk-Timestamp: unix seconds when this attempt was sent
 *   X-Helpdesk-Signature: sha256=<hex HMAC-SHA256(ALERT_WEBHOOK_SECRET, "<timestamp>.<body>")>
 *
 * A receiver checks the signature over the raw body bytes exactly as received
 * (not re-serialised JSON) and rejects old timestamps, which is what
 * verifyWebhookSignature (shared/kernel/webhook-signature.ts) does. The delivery id is also inside the signed body,
 * because the header is not signed: someone replaying a captured request within
 * the tolerance could change the header, not the body.
 */

export const WEBHOOK_BODY_VERSION = 1;

export interface WebhookBody {
  version: typeof WEBHOOK_BODY_VERSION;
  delivery: string;
  event: Alert["event"];
  summary: string;
  facts: Fact[];
  alert: Alert;
}

export interface WebhookChannelOptions {
  url: string;
  secret: string;
  fetch?: Fetch | undefined;
  /** The clock, for the timestamp. */
  now?: (() => Date) | undefined;
  timeoutMs?: number | undefined;
}

export function webhookChannel(options: WebhookChannelOptions): Channel {
  const { url, secret } = options;
  // An unsigned alert could not be told from a forged one; refuse rather than send it.
  if (!secret) throw new Error("The webhook channel needs ALERT_WEBHOOK_SECRET to sign its requests");
  const now = options.now ?? (() => new Date());
  return {
    name: "webhook",
    async deliver(alert: Alert, deliveryId: string) {
      const payload: WebhookBody = {
        version: WEBHOOK_BODY_VERSION,
        delivery: deliveryId,
        event: alert.event,
        summary: summaryLine(alert),
        facts: factList(alert),
        alert,
      };
      const body = JSON.stringify(payload);
      await postJson({
        channel: "webhook",
        url,
        body,
        headers: signedHeaders(secret, alert.event, deliveryId, body, now()),
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        secrets: [secret, url],
      });
    },
  };
}
