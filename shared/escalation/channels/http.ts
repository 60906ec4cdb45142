import type { Alert } from "../domain/alert.js";
import type { Channel } from "../ports.js";
import { DeliveryError } from "./errors.js";

/** The fetch the channels use: the global one in production, injected in tests. */
export type Fetch = typeof globalThis.fetch;

export const DEFAULT_TIMEOUT_MS = 10_000;
/** How much of a failed answer goes into the error: enough to see why, not a whole HTML error page. */
const SNIPPET_CHARS = 200;

export interface PostJson {
  channel: string;
  url: string;
  /** The exact JSON text to send (the webhook signs these very bytes). */
  body: string;
  headers?: Record<string, string>;
  fetch?: Fetch | undefined;
  timeoutMs?: number | undefined;
  /**
   * Strings that must never appear in an error message: the signing secret, the
   * routing key, webhook URLs (Slack's and Teams' URLs are themselves the
   * credential). A receiver may echo them back, and fetch puts a bad URL in its
   * own error message.
   */
  secrets: readonly (string | undefined)[];
}

/**
 * POSTs one JSON document and resolves on 2xx; anything else throws a
 * DeliveryError. One attempt only: retrying is the queue's job, and it keeps the
 * delivery id stable across attempts.
 */
export async function postJson(req: PostJson): Promise<void> {
  const doFetch = req.fetch ?? globalThis.fetch;
  const redact = redactor(req.secrets);
  let res: Response;
  try {
    res = await doFetch(req.url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "helpdesk-api", ...req.headers },
      body: req.body,
      // Without a deadline a receiver that never answers would hold the function until the host kills it.
      signal: AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      // Report a redirect instead of following it (see isPermanentStatus).
      redirect: "manual",
    });
  } catch (e) {
    throw new DeliveryError(req.channel, `${req.channel}: ${redact(describeFetchFailure(e, req.timeoutMs ?? DEFAULT_TIMEOUT_MS))}`);
  }
  if (res.ok) {
    // Nothing in the answer is needed; release the connection instead of waiting for the body.
    await res.body?.cancel().catch(() => undefined);
    return;
  }
  const snippet = await readSnippet(res, redact);
  const message = `${req.channel}: HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`;
  throw new DeliveryError(req.channel, message, res.status);
}

function describeFetchFailure(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `no answer within ${timeoutMs} ms`;
  // undici says "fetch failed" and keeps the useful part (ECONNREFUSED...) in the cause.
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `request failed: ${e instanceof Error ? e.message : String(e)}${cause}`;
}

async function readSnippet(res: Response, redact: (text: string) => string): Promise<string> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return "";
  }
  // Redact before cutting, so a secret straddling the cut cannot leak its first half.
  const clean = redact(text.slice(0, 16 * SNIPPET_CHARS))
    .replace(/\s+/g, " ")
    .trim();
  return clean.length > SNIPPET_CHARS ? `${clean.slice(0, SNIPPET_CHARS)}…` : clean;
}

function redactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  // Longest first, so a URL is replaced whole before a secret inside it would split it.
  const list = [...new Set(secrets.filter((s): s is string => !!s && s.length >= 4))].sort((a, b) => b.length - a.length);
  return (text) => list.reduce((t, s) => t.replaceAll(s, "[redacted]"), text);
}

/** Options of a channel whose URL is its whole credential (Teams Workflows, Slack incoming webhooks). */
export interface UrlChannelOptions {
  url: string;
  fetch?: Fetch | undefined;
  timeoutMs?: number | undefined;
}

/** A channel that posts `message(alert)` as JSON to a URL that is itself the credential: whoever has it can post. */
export function urlChannel(name: string, options: UrlChannelOptions, message: (alert: Alert) => unknown): Channel {
  return {
    name,
    async deliver(alert: Alert) {
      await postJson({
        channel: name,
        url: options.url,
        body: JSON.stringify(message(alert)),
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        secrets: [options.url],
      });
    },
  };
}
