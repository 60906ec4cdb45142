import { TokenBucket } from "limiter";
import { LRUCache } from "lru-cache";
import { Failure } from "../../kernel/failure.js";

/**
 * Limits per caller: a token bucket per principal (and per client address on the
 * anonymous routes), so that one caller cannot spend the account's request units and
 * give everyone else 503s. A bucket holds `points` and refills at `points` per window,
 * steadily: a caller who spent it all may make a cheap request again after a fraction
 * of the window, and can never spend more than `points` in a moment. The buckets are
 * `limiter`'s, kept in this process's memory: in Azure the limit holds per instance
 * (README, Limits).
 *
 * Every answer says where the caller stands, in the IETF RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "caller";q=600;w=60` and
 * `RateLimit: "caller";r=<left>;t=<seconds until the bucket is full again>`.
 */
export interface RatePolicy {
  /** The policy's name in the headers: "caller" or "anonymous". */
  name: string;
  /** Points a bucket holds, and refills per window. */
  points: number;
  windowSeconds: number;
}

export interface RateLimit {
  /**
   * Spends `cost` points of `key`'s bucket: the headers to send, or Failure
   * "rate_limited" (429, with Retry-After and the same headers) when it holds fewer.
   */
  take(key: string, cost: number): Promise<Record<string, string>>;
}

/** Buckets kept at most: past it the least recently used is dropped (and starts full again). */
const MAX_BUCKETS = 100_000;

export function rateLimit(policy: RatePolicy): RateLimit {
  const windowMs = policy.windowSeconds * 1000;
  // A bucket untouched for a whole window is full again, as a new one is: dropping it
  // then forgets nothing.
  // Bounded by a size of 1 a bucket rather than by `max`, which makes lru-cache allocate all
  // 100,000 slots up front (8 ms of every cold start, for each of the two limiters).
  const buckets = new LRUCache<string, TokenBucket>({
    maxSize: MAX_BUCKETS,
    sizeCalculation: () => 1,
    ttl: windowMs,
    updateAgeOnGet: true,
  });
  const bucketOf = (key: string): TokenBucket => {
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({ bucketSize: policy.points, tokensPerInterval: policy.points, interval: windowMs });
      bucket.content = policy.points; // the library's start empty
      buckets.set(key, bucket);
    }
    return bucket;
  };
  const headers = (bucket: TokenBucket) => {
    const untilFull = ((policy.points - bucket.content) / policy.points) * policy.windowSeconds;
    return {
      "ratelimit-policy": `"${policy.name}";q=${policy.points};w=${policy.windowSeconds}`,
      ratelimit: `"${policy.name}";r=${Math.floor(bucket.content)};t=${Math.ceil(untilFull)}`,
    };
  };
  return {
    take(key, cost) {
      const bucket = bucketOf(key);
      // A cost above the bucket's size could never be paid: it takes the whole bucket.
      const spend = Math.min(cost, policy.points);
      if (bucket.tryRemoveTokens(spend)) return Promise.resolve(headers(bucket));
      const retryAfter = Math.max(1, Math.ceil(bucket.getWaitTime(spend) / 1000));
      return Promise.reject(
        new Failure("rate_limited", `Too many requests; retry in ${retryAfter} s.`, { retryAfter, headers: headers(bucket) }),
      );
    },
  };
}
