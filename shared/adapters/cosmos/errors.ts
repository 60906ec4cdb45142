import type { ItemResponse, JSONObject } from "@azure/cosmos";
import { Failure } from "../../kernel/failure.js";
import { firstLine, isNetworkFailure, NETWORK_ERROR_CODES } from "../network-errors.js";

/**
 * The one place Cosmos DB's errors become the domain's failure kinds:
 *
 * - 409 on a create: "exists"; 412 on a conditional replace: "stale" (the use cases
 *   handle both);
 * - 404 from anything but a point read (which answers null instead): the database or
 *   container is missing, which no retry by the client cures but an operator can, so
 *   "unavailable" (503), as for an outage;
 * - 401 and 403: Cosmos DB refuses the app's identity, as it does for a few minutes
 *   after a first deploy while the data role propagates (or for good, if it was never
 *   granted): "unavailable" (503) with the cause in the log, not a 500 that reads as a bug;
 * - throttling (429) once the SDK's own retries are spent, timeouts, outages and
 *   network errors: "unavailable" with a Retry-After;
 * - anything else is a bug and stays what it is (500).
 */
const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
const NETWORK_CODES = new Set<string>([...NETWORK_ERROR_CODES, "TimeoutError"]);

export const STORE_UNAVAILABLE = "The ticket store is not answering; retry later.";

interface SdkError {
  code?: unknown;
  name?: string;
  retryAfterInMs?: number;
  cause?: { code?: unknown };
  message?: string;
}

export function cosmosFailure(e: unknown): unknown {
  if (e instanceof Failure) return e;
  const err = (e ?? {}) as SdkError;
  const code = err.code ?? err.cause?.code;
  if (code === 409) return new Failure("exists", "A document with this id exists.", { cause: e });
  if (code === 412) return new Failure("stale", "The document changed since it was read.", { cause: e });
  if (code === 404)
    return new Failure("unavailable", STORE_UNAVAILABLE, {
      retryAfter: 5,
      cause: new Error("store unavailable: Cosmos DB answered 404 (the database or container is missing, or the document was deleted)."),
    });
  if (code === 401 || code === 403) {
    // The substatus and Cosmos DB's own words tell a role still propagating (5301) from a
    // firewall or a full partition, which no wait cures: the log keeps them.
    const substatus = (e as { substatus?: number }).substatus;
    const said = firstLine(err.message);
    return new Failure("unavailable", STORE_UNAVAILABLE, {
      retryAfter: 30,
      cause: new Error(
        `store unavailable: Cosmos DB refused the request (${code}${substatus === undefined ? "" : `/${substatus}`}): ` +
          `the app's data role may be missing or not yet in effect. Cosmos DB said: ${said}`,
      ),
    });
  }
  const transient = (typeof code === "number" && TRANSIENT_STATUS.has(code)) || isNetworkFailure(err, NETWORK_CODES);
  if (!transient) return e;
  const retryAfter = Math.max(1, Math.ceil((err.retryAfterInMs ?? 1000) / 1000));
  return new Failure("unavailable", STORE_UNAVAILABLE, {
    retryAfter,
    cause: new Error(
      `store unavailable: Cosmos DB did not answer (${typeof code === "string" || typeof code === "number" ? code : (err.name ?? "unknown")}).`,
    ),
  });
}

/** Runs one SDK call; its errors leave as failure kinds. */
export async function translated<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw cosmosFailure(e);
  }
}

/**
 * A point read's answer: its document, or null when there is none. Cosmos DB answers a
 * read in a missing container with 404 too, but with substatus 1003 ("owner resource
 * does not exist"): that is an outage, not an absent document. (The embedded endpoint
 * sends no substatus, so there a missing container reads as absent documents; ping
 * still tells.)
 */
export async function pointRead(read: () => Promise<ItemResponse<JSONObject>>): Promise<JSONObject | null> {
  const response = await translated(read);
  if (response.statusCode === 404) {
    if (response.substatus === 1003) throw cosmosFailure({ code: 404 });
    return null;
  }
  return response.resource ?? null;
}

/** A delete's answer: true when it removed the document, false when there was none (a missing container, substatus 1003, is an outage). */
export async function deleted(run: () => Promise<unknown>): Promise<boolean> {
  return translated(async () => {
    try {
      await run();
      return true;
    } catch (e) {
      const { code, substatus } = e as { code?: number; substatus?: number };
      if (code === 404 && substatus !== 1003) return false;
      throw e;
    }
  });
}
