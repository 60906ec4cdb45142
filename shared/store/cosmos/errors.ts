import { StoreUnavailable } from "../../tickets/ports.js";

/**
 * Which SDK failures mean "the store is not answering right now": throttling
 * (429) once the SDK's own retries are spent, timeouts, outages and network
 * errors. Those become StoreUnavailable (503 with Retry-After); anything else is
 * a bug and stays an error.
 */
const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "TimeoutError", "UND_ERR_SOCKET"]);

export function toStoreError(e: unknown): unknown {
  const err = e as { code?: unknown; name?: string; retryAfterInMs?: number; cause?: { code?: unknown }; message?: string };
  const code = err?.code ?? err?.cause?.code;
  const transient =
    (typeof code === "number" && TRANSIENT_STATUS.has(code)) ||
    (typeof code === "string" && NETWORK_CODES.has(code)) ||
    err?.name === "AbortError" ||
    err?.name === "TimeoutError" ||
    /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed/i.test(err?.message ?? "");
  if (!transient) return e;
  const retryAfter = Math.max(1, Math.ceil((err.retryAfterInMs ?? 1000) / 1000));
  return new StoreUnavailable(`Cosmos DB did not answer (${String(code ?? err.name)}).`, retryAfter);
}
