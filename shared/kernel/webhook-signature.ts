import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How every webhook of the help desk is signed, the alerts' (shared/escalation/channels/webhook.ts)
 * and the apps' events (shared/notifications/): one scheme, so a receiver verifies both one way.
 */

/**
 * The headers of one signed attempt: the event (to route without parsing), the delivery id (the
 * same on every retry), and a fresh timestamp (a retry hours later must still pass the
 * receiver's staleness check) with the signature over it and the body.
 */
export function signedHeaders(secret: string, event: string, delivery: string, body: string, now: Date): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    "x-helpdesk-event": event,
    "x-helpdesk-delivery": delivery,
    "x-helpdesk-timestamp": timestamp,
    "x-helpdesk-signature": signWebhook(secret, timestamp, body),
  };
}

/** `sha256=` + hex HMAC-SHA256 over `<timestamp>.<body>`; the timestamp is signed so it cannot be swapped for a fresh one. */
export function signWebhook(secret: string, timestamp: string, body: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex")}`;
}

export interface VerifyWebhookSignature {
  /** The raw request body, exactly as received. */
  body: string | Uint8Array;
  /** The X-Helpdesk-Timestamp header (missing headers fail). */
  timestamp: string | null | undefined;
  /** The X-Helpdesk-Signature header. */
  signature: string | null | undefined;
  secret: string;
  /** How far the timestamp may be from the receiver's clock, either way. */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * What a receiver must do before trusting a request: check the timestamp is
 * recent (a captured request cannot be replayed later) and the signature
 * matches, compared in constant time (so timing does not reveal how much of a
 * forged signature was right).
 */
export function verifyWebhookSignature(input: VerifyWebhookSignature): boolean {
  const { body, timestamp, signature, secret, toleranceSeconds = 300, now = new Date() } = input;
  if (!secret || !timestamp || !signature) return false;
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1], "hex");
  const expected = Buffer.from(signWebhook(secret, timestamp, body).slice("sha256=".length), "hex");
  return timingSafeEqual(given, expected);
}
