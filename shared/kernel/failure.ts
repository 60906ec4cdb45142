/**
 * The one error type of the request path. Whatever goes wrong is named by its kind:
 * the domain's refusals, the HTTP plumbing's, and the adapters', which translate their
 * SDK's errors into kinds at their boundary. The HTTP layer maps each kind to one
 * status, in one table (shared/adapters/http/problem.ts).
 */
export type FailureKind =
  | "malformed" // 400: the body is not JSON
  | "invalid" // 400: a field is wrong, with `errors`
  | "unauthenticated" // 401: no token, or not a valid one
  | "forbidden" // 403: signed in, visible, but not allowed
  | "not_found" // 404: absent, or not visible to this caller
  | "conflict" // 409: a lifecycle move nobody may make
  | "in_flight" // 409: the same idempotency key is being processed
  | "scanning" // 409: the attachment is being scanned for malware, with Retry-After
  | "malicious" // 410: the malware scan found the attachment malicious: never served
  | "unscannable" // 410: the malware scan could not scan the attachment: never served
  | "precondition_failed" // 412: If-Match does not match
  | "too_large" // 413: the body is over the limit
  | "headers_too_large" // 431: the headers are (the local host's parser refuses them)
  | "unsupported_media_type" // 415: the body is not JSON
  | "key_reused" // 422: idempotency key reused with another body
  | "rate_limited" // 429: the caller spent their requests for now, with Retry-After
  | "unavailable" // 503: a service we depend on does not answer; nothing was applied
  // Outcomes of a store write that the use cases handle; one that escaped would be a bug.
  | "exists" // a document with this id exists already (a create that lost a race)
  | "stale"; // the stored document changed since it was read (a compare-and-swap that lost)

export interface FieldError {
  path: string;
  message: string;
}

export interface FailureDetails {
  errors?: FieldError[];
  /** Seconds a client should wait before retrying (503). */
  retryAfter?: number;
  /** What an adapter was told, for the log: never sent to the client. */
  cause?: unknown;
  /** Response headers that go with it (the rate limit's). */
  headers?: Record<string, string>;
  /** An outage ("unavailable") known to have written nothing: a write given up before its last try could land. */
  nothingWritten?: boolean;
}

export class Failure extends Error {
  override name = "Failure";
  readonly errors: FieldError[];
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;
  readonly nothingWritten: boolean;

  constructor(
    readonly kind: FailureKind,
    message: string,
    details: FailureDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.errors = details.errors ?? [];
    this.retryAfter = details.retryAfter;
    this.headers = details.headers ?? {};
    this.nothingWritten = details.nothingWritten ?? false;
  }
}

export const isFailure = (e: unknown, kind: FailureKind): e is Failure => e instanceof Failure && e.kind === kind;

/** 400 naming one field. */
export const invalid = (message: string, path: string, fieldMessage: string): Failure =>
  new Failure("invalid", message, { errors: [{ path, message: fieldMessage }] });
