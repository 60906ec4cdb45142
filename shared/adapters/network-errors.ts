/** The Node.js and undici error codes of a connection that failed or dropped: an outage to wait out, never a bug. */
export const NETWORK_ERROR_CODES = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
] as const;

/**
 * Whether an SDK error is the network failing (refused, reset, timed out, aborted), by its
 * code (these and the SDK's own `codes`), its name, or, for errors that keep the cause only in
 * their words, its message.
 */
export function isNetworkFailure(err: { code?: unknown; name?: string; message?: string }, codes: ReadonlySet<string>): boolean {
  return (
    (typeof err.code === "string" && codes.has(err.code)) ||
    err.name === "AbortError" ||
    err.name === "TimeoutError" ||
    /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed/i.test(err.message ?? "")
  );
}

/** What a service said, for a log line: its first line, at most 300 characters. */
export const firstLine = (message: string | undefined): string => (message ?? "").split("\n")[0]!.slice(0, 300);
