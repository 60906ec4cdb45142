/**
 * Failures a use case reports. They name what went wrong for the caller, not an
 * HTTP status: the HTTP layer maps each kind to one status (shared/http/problem.ts).
 */
export type FailureKind =
  | "invalid" // 400: a field is wrong, with `errors`
  | "forbidden" // 403: signed in, visible, but not allowed
  | "not_found" // 404: absent, or not visible to this caller
  | "conflict" // 409: a lifecycle move nobody may make
  | "in_flight" // 409: the same idempotency key is being processed
  | "precondition_failed" // 412: If-Match does not match
  | "key_reused" // 422: idempotency key reused with another body
  | "unavailable"; // 503: the store does not answer

export interface FieldError {
  path: string;
  message: string;
}

export class Failure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly errors: FieldError[] = [],
    /** Seconds a client should wait before retrying (503). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "Failure";
  }
}

export const notFound = () => new Failure("not_found", "No such ticket.");
