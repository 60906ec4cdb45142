import * as z from "zod";
import type { FailureKind, FieldError } from "../../kernel/failure.js";

/**
 * RFC 9457 problem details: the one table from a failure's kind to its HTTP status,
 * title and `type` (stable for clients to switch on). "internal" is a bug: anything that
 * is not a Failure, and the store's "exists" and "stale", which the use cases handle and
 * which reach a client only if one forgot to.
 */
export type ProblemKind = Exclude<FailureKind, "exists" | "stale"> | "internal";

export interface ProblemSpec {
  status: number;
  title: string;
  slug: string;
}

export const PROBLEMS: Record<ProblemKind, ProblemSpec> = {
  malformed: { status: 400, title: "Malformed request", slug: "malformed-request" },
  invalid: { status: 400, title: "Invalid request", slug: "validation-error" },
  unauthenticated: { status: 401, title: "Unauthenticated", slug: "unauthenticated" },
  forbidden: { status: 403, title: "Forbidden", slug: "forbidden" },
  not_found: { status: 404, title: "Not found", slug: "not-found" },
  conflict: { status: 409, title: "Conflict", slug: "lifecycle-conflict" },
  in_flight: { status: 409, title: "Request in progress", slug: "idempotency-in-flight" },
  scanning: { status: 409, title: "Being scanned", slug: "attachment-scanning" },
  malicious: { status: 410, title: "Malicious file", slug: "attachment-malicious" },
  unscannable: { status: 410, title: "Unscannable file", slug: "attachment-unscannable" },
  precondition_failed: { status: 412, title: "Precondition failed", slug: "precondition-failed" },
  too_large: { status: 413, title: "Content too large", slug: "content-too-large" },
  headers_too_large: { status: 431, title: "Request header fields too large", slug: "headers-too-large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type", slug: "unsupported-media-type" },
  key_reused: { status: 422, title: "Idempotency key reused", slug: "idempotency-key-reused" },
  rate_limited: { status: 429, title: "Too many requests", slug: "rate-limited" },
  internal: { status: 500, title: "Internal error", slug: "internal-error" },
  unavailable: { status: 503, title: "Service unavailable", slug: "service-unavailable" },
};

export const PROBLEM_TYPE_BASE = "https://helpdesk.example/problems/";

/** Whether a failure has an answer of its own in the table (the store's own kinds have none). */
export const isProblemKind = (kind: string): kind is ProblemKind => kind in PROBLEMS;

export function problemBody(kind: ProblemKind, detail: string, errors: FieldError[] = []) {
  const spec = PROBLEMS[kind];
  return {
    type: PROBLEM_TYPE_BASE + spec.slug,
    title: spec.title,
    status: spec.status,
    detail,
    ...(errors.length ? { errors } : {}),
  };
}

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem" });
