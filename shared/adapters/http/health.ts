import * as z from "zod";
import { endpoint, type HttpContext, type HttpHandler } from "./endpoint.js";

/**
 * GET /api/health: liveness, and whether the store answers. A degraded store is a
 * status report, not an error of the request: 503 with this body and Retry-After.
 */
export const Health = z.object({ status: z.enum(["ok", "degraded"]), store: z.enum(["ok", "unavailable"]) }).meta({ id: "Health" });

/** How long one probe of the store answers for: anonymous callers cannot make every request a store read. */
export const HEALTH_PROBE_CACHE_MS = 5_000;

export function healthHandler(http: HttpContext, pingStore: () => Promise<void>, now: () => number = Date.now): HttpHandler {
  let probe: { at: number; result: Promise<"ok" | "unavailable"> } | undefined;
  const storeState = () => {
    if (!probe || now() - probe.at >= HEALTH_PROBE_CACHE_MS) {
      probe = {
        at: now(),
        result: pingStore().then(
          () => "ok" as const,
          () => "unavailable" as const,
        ),
      };
    }
    return probe.result;
  };
  return endpoint(http, { auth: false }, async () => {
    const store = await storeState();
    const headers: Record<string, string> = { "cache-control": "no-store" };
    if (store !== "ok") headers["retry-after"] = "5";
    const body: z.infer<typeof Health> = { status: store === "ok" ? "ok" : "degraded", store };
    return { status: store === "ok" ? 200 : 503, body, headers };
  });
}
