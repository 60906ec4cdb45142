import * as z from "zod";
import { endpoint, type HttpContext, type HttpHandler } from "../../adapters/http/endpoint.js";
import { Failure } from "../../kernel/failure.js";
import { SlaCalendar, SlaPolicyBody } from "../domain/policy.js";
import type { SlaPolicyUseCases } from "../policy-use-cases.js";

/** The policy as served: what an admin sends, with its version (0: the defaults, never replaced). */
export const SlaPolicyJson = z
  .object({ version: z.int().min(0), calendar: SlaCalendar, targets: SlaPolicyBody.shape.targets })
  .meta({ id: "SlaPolicy" });

/** A policy's ETag is its version: `"v3"`. */
const etagOf = (version: number) => `"v${version}"`;

/**
 * The version an If-Match names: undefined for none or `*`. Only a strong tag names one
 * (`"v3"`, as the ETag was sent); a weak tag, a list or anything else matches no version (412).
 */
function ifMatchVersion(header: string | null): number | undefined {
  if (header === null || header.trim() === "*") return undefined;
  const version = /^"v(0|[1-9]\d*)"$/.exec(header.trim())?.[1];
  if (version === undefined)
    throw new Failure("precondition_failed", 'If-Match names no version of the SLA policy (send the ETag as read: "v3").');
  return Number(version);
}

/** GET and PUT /api/sla/policy. */
export function slaPolicyHandlers(http: HttpContext, policies: () => Promise<SlaPolicyUseCases>): Record<string, HttpHandler> {
  return {
    getSlaPolicy: endpoint(http, { auth: true }, async (call) => {
      const policy = await (await policies()).read(call.principal);
      return { status: 200, body: policy, headers: { etag: etagOf(policy.version) } };
    }),
    replaceSlaPolicy: endpoint(http, { auth: true }, async (call) => {
      // The role before the body: a requester learns nothing from how a policy is validated.
      if (call.principal.role !== "admin") throw new Failure("forbidden", "Only admins may replace the SLA policy.");
      const { value: body } = await call.body(SlaPolicyBody);
      const policy = await (await policies()).replace(call.principal, body, ifMatchVersion(call.request.headers.get("if-match")));
      return { status: 200, body: policy, headers: { etag: etagOf(policy.version) } };
    }),
  };
}
