import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { Failure } from "../../kernel/failure.js";

/**
 * Limits per caller: a token bucket per principal (and per client address on the
 * anonymous routes), so that one caller cannot spend the account's request units and
 * give everyone else 503s. rate-limiter-flexible keeps the buckets in this process's
 * memory: in Azure the limit holds per instance (README, Settings).
 *
 * Every answer says where the caller stands, in the IETF RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "caller";q=600;w=60` and
 * `RateLimit: "caller";r=<left>;t=<seconds until the window resets>`.
 */
export interface RatePolicy {
  /** The policy's name in the headers: "caller" or "anonymous". */
  name: string;
  /** Points a key may spend per window. */
  points: number;
  windowSeconds: number;
}

export interface RateLimit {
  /**
   * Spends `cost` points of `key`'s bucket: the headers to send, or Failure
   * "rate_limited" (429, with Retry-After and the same headers) once it is empty.
   */
  take(key: string, cost: number): Promise<Record<string, string>>;
}

export function rateLimit(policy: RatePolicy): RateLimit {
  const limiter = new RateLimiterMemory({ points: policy.points, duration: policy.windowSeconds });
  const headers = (res: RateLimiterRes) => ({
    "ratelimit-policy": `"${policy.name}";q=${policy.points};w=${policy.windowSeconds}`,
    ratelimit: `"${policy.name}";r=${Math.max(0, res.remainingPoints)};t=${Math.ceil(res.msBeforeNext / 1000)}`,
  });
  return {
    async take(key, cost) {
      try {
        return headers(await limiter.consume(key, cost));
      } catch (e) {
        // The library rejects with its result object when the bucket is empty; anything else is a bug.
        if (!(e instanceof RateLimiterRes)) throw e;
        const retryAfter = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        throw new Failure("rate_limited", `Too many requests; retry in ${retryAfter} s.`, { retryAfter, headers: headers(e) });
      }
    },
  };
}
