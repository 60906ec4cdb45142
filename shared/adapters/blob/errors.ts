import { Failure } from "../../kernel/failure.js";
import { firstLine, isNetworkFailure, NETWORK_ERROR_CODES } from "../network-errors.js";

/**
 * The one place Blob Storage's errors become the domain's failure kinds (as
 * shared/adapters/cosmos/errors.ts does for Cosmos DB):
 *
 * - 404 BlobNotFound: "not_found" (the attachment's blob is not there: never uploaded, or
 *   deleted); the port's `facts` answers null for it instead;
 * - any other 404 (ContainerNotFound, or an account URL that names no account): the
 *   container infra/ declares is missing, which no retry by the client cures but an
 *   operator can, so "unavailable" (503), as for an outage;
 * - 401 and 403: Blob Storage refuses the app's identity (its data roles missing or not yet
 *   in effect after a deploy, or the development key wrong): "unavailable" with the cause in
 *   the log, not a 500 that reads as a bug;
 * - throttling, timeouts, outages, network errors, and a managed identity that gives no
 *   token: "unavailable" with a Retry-After;
 * - anything else is a bug and stays what it is (500).
 */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set<string>([...NETWORK_ERROR_CODES, "REQUEST_SEND_ERROR"]);
/** @azure/identity's errors: the managed identity endpoint gave no token. */
const CREDENTIAL_ERRORS = new Set(["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError"]);

const BLOBS_UNAVAILABLE = "The attachment store is not answering; retry later.";
const BLOB_NOT_FOUND = "The attachment's file is not in the store.";

interface SdkError {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
  details?: { errorCode?: string };
  response?: { headers?: { get(name: string): string | undefined } };
}

/** Storage's error code: in the body, or for a HEAD (which has none) in the x-ms-error-code header. */
export function storageErrorCode(e: unknown): string | undefined {
  const err = (e ?? {}) as SdkError;
  return err.details?.errorCode ?? err.response?.headers?.get("x-ms-error-code") ?? err.code;
}

/** A 404 that says the blob is not there (not its container, nor its account). */
export const isBlobMissing = (e: unknown): boolean =>
  (e as SdkError | undefined)?.statusCode === 404 && storageErrorCode(e) === "BlobNotFound";

/** `operation` names the call for the log ("get tags of tickets/x/y"). */
function blobFailure(e: unknown, operation: string): unknown {
  if (e instanceof Failure) return e;
  const err = (e ?? {}) as SdkError;
  const status = err.statusCode;
  const code = storageErrorCode(e);
  if (isBlobMissing(e)) return new Failure("not_found", BLOB_NOT_FOUND, { cause: e });
  if (status === 404)
    return new Failure("unavailable", BLOBS_UNAVAILABLE, {
      retryAfter: 5,
      cause: new Error(`blob store unavailable: ${operation} answered 404 ${code ?? ""} (the container or account is missing).`),
    });
  if (status === 401 || status === 403)
    return new Failure("unavailable", BLOBS_UNAVAILABLE, {
      retryAfter: 30,
      cause: new Error(
        `blob store unavailable: Blob Storage refused ${operation} (${status} ${code ?? ""}): the app's data roles on the account ` +
          `(Storage Blob Data Contributor; blob index tags need tags/read, which infra/ gives in a role of its own; Storage Blob ` +
          `Delegator for delegation keys) may be missing or not yet in effect. Storage said: ${firstLine(err.message)}`,
      ),
    });
  const transient =
    (status !== undefined && TRANSIENT_STATUS.has(status)) ||
    (err.name !== undefined && CREDENTIAL_ERRORS.has(err.name)) ||
    isNetworkFailure({ code, name: err.name, message: err.message }, NETWORK_CODES);
  if (!transient) return e;
  const retryAfterHeader = Number(err.response?.headers?.get("retry-after"));
  return new Failure("unavailable", BLOBS_UNAVAILABLE, {
    retryAfter: Number.isFinite(retryAfterHeader) && retryAfterHeader > 0 ? Math.ceil(retryAfterHeader) : 1,
    cause: new Error(`blob store unavailable: ${operation} did not answer (${status ?? code ?? err.name ?? "unknown"}).`, { cause: e }),
  });
}

/** Runs one SDK call; its errors leave as failure kinds. */
export async function translated<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw blobFailure(e, operation);
  }
}
