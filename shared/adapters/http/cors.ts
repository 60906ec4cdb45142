/**
 * CORS for browser clients, answered by the code in Azure as on the local host:
 * the platform's CORS cannot expose response headers, and a browser client needs
 * to read ETag (for If-Match), Location and the request id.
 */
export const EXPOSED_HEADERS =
  "ETag, Location, Retry-After, x-request-id, Idempotent-Replayed, WWW-Authenticate, RateLimit, RateLimit-Policy";
const ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, x-request-id";
const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

/**
 * Headers for a response to `origin`: the CORS ones only if it is allowed, and, once any
 * origin is configured, `Vary: Origin` on every response, so that a cache never hands an
 * answer made for one origin (with or without CORS headers) to another.
 */
export function corsHeaders(origin: string | null, allowed: readonly string[]): Record<string, string> {
  if (allowed.length === 0) return {};
  if (!origin || !allowed.includes(origin)) return { vary: "Origin" };
  return { "access-control-allow-origin": origin, vary: "Origin", "access-control-expose-headers": EXPOSED_HEADERS };
}

/** The answer to a preflight (OPTIONS) request. */
export function preflight(
  origin: string | null,
  allowed: readonly string[],
  requestId: string,
): { status: number; headers: Record<string, string> } {
  const headers: Record<string, string> = { "x-request-id": requestId, ...corsHeaders(origin, allowed) };
  if (headers["access-control-allow-origin"]) {
    Object.assign(headers, {
      "access-control-allow-methods": ALLOWED_METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": "600",
    });
  }
  return { status: 204, headers };
}
