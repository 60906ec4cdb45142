import { z } from "zod";
import { endpoint, type HttpContext, type HttpHandler } from "./endpoint.js";

/**
 * GET /api/health: liveness, and whether the store answers. A degraded store is a
 * status report, not an error of the request: 503 with this body and Retry-After.
 */
export const Health = z.object({ status: z.enum(["ok", "degraded"]), store: z.enum(["ok", "unavailable"]) }).meta({ id: "Health" });

export function healthHandler(http: HttpContext, pingStore: () => Promise<void>): HttpHandler {
  return endpoint(http, { auth: false }, async () => {
    const store = await pingStore().then(
      () => "ok" as const,
      () => "unavailable" as const,
    );
    const headers: Record<string, string> = { "cache-control": "no-store" };
    if (store !== "ok") headers["retry-after"] = "5";
    const body: z.infer<typeof Health> = { status: store === "ok" ? "ok" : "degraded", store };
    return { status: store === "ok" ? 200 : 503, body, headers };
  });
}
