import { expect } from "vitest";
import type { TestHost } from "./local-host.js";

/**
 * What the escalation end-to-end tests share: the host's escalation settings (a short
 * acknowledgement timeout, two re-pages, quick retries) with a webhook receiver of the
 * test's own, and opening the ticket they escalate.
 */
export const ACK_TIMEOUT = 0.4; // seconds between pages
export const ACK_MS = ACK_TIMEOUT * 1000;
export const WEBHOOK_SECRET = "test-webhook-secret-0123456789";

export const escalationSettings = (webhookUrl: string): Record<string, string> => ({
  ALERT_WEBHOOK_URL: webhookUrl,
  ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  ESCALATION_ACK_TIMEOUT_SECONDS: String(ACK_TIMEOUT),
  ESCALATION_MAX_REPAGES: "2",
  ESCALATION_RETRY_SECONDS: "0.05",
});

/** A requester's ticket about an outage: what the tests raise to emergency. */
export async function openOutage(
  t: TestHost,
  requester: string,
  subject = "Mobile banking is down",
): Promise<{ id: string; number: string }> {
  const res = await t.call(requester, "POST", "/tickets", { body: { subject, description: "The entire mobile banking is down." } });
  expect(res.status).toBe(201);
  return res.body as { id: string; number: string };
}

/** Whether an alert request is about the ticket with this number. */
export const about = (number: string) => (d: { body: string }) => d.body.includes(number);
