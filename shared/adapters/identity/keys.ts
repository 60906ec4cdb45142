import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { Failure } from "../../kernel/failure.js";

/** What a caller is told when the issuer's keys are needed and cannot be had: our outage, not their token. */
export const KEYS_UNAVAILABLE = "The token issuer's keys cannot be fetched right now; retry.";

/**
 * The issuer's signing keys, fetched from its JWKS endpoint and kept. jose's
 * createRemoteJWKSet forgets nothing but also keeps nothing past a failed refresh: once
 * its cache is older than its max age, every token waits on the endpoint, and an outage
 * there is an outage here. This one keeps the last keys it fetched:
 *
 * - a set older than `maxAgeMs` is still used; the request that finds it old starts a
 *   refresh in the background (never awaited), at most one every `retryMs` after a
 *   failure, so an outage of the endpoint costs nothing to callers whose key was fetched;
 * - a token whose `kid` is not in the set waits for one refresh (the issuer rotated its
 *   keys), at most one every `cooldownMs` after a success, so forged kids cannot make us
 *   hammer the endpoint; still unknown after a good refresh: no such key (401);
 * - only when the keys could not be fetched and the token's key is not among those kept
 *   is the answer Failure "unavailable" (503, with Retry-After until the next attempt);
 * - each fetch gives up after `timeoutMs`.
 *
 * `now` is the clock (milliseconds), so tests move it rather than wait.
 */
export interface RemoteKeysOptions {
  now?: () => number;
  /** Refresh (in the background) a set older than this. Default: 10 minutes. */
  maxAgeMs?: number;
  /** After a good fetch, an unknown kid fetches again no sooner than this. Default: 30 s. */
  cooldownMs?: number;
  /** After a failed fetch, the next attempt no sooner than this. Default: 5 s. */
  retryMs?: number;
  /** A fetch that has not answered by then has failed. Default: 5 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface RemoteKeys extends JWTVerifyGetKey {
  /** When the kept set was fetched (ms), or null if never. */
  fetchedAt(): number | null;
  /** The refresh under way, if any (tests await it). */
  refreshing(): Promise<void> | undefined;
  /** Fetches the set now if none is kept yet (a host's start: the first request then need not wait); never throws. */
  prefetch(): Promise<void>;
}

export const JWKS_MAX_AGE_MS = 10 * 60_000;
export const JWKS_COOLDOWN_MS = 30_000;
export const JWKS_RETRY_MS = 5_000;
const JWKS_TIMEOUT_MS = 5_000;
/** A JWKS is a few keys; a response far larger is not one. */
const MAX_JWKS_BYTES = 256 * 1024;

/** What went wrong, with the network error under fetch's own "fetch failed". */
function reason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : undefined;
  return detail ? `${e.message}: ${detail}` : e.message;
}

export function remoteKeys(jwksUri: string, options: RemoteKeysOptions = {}): RemoteKeys {
  const {
    now = Date.now,
    maxAgeMs = JWKS_MAX_AGE_MS,
    cooldownMs = JWKS_COOLDOWN_MS,
    retryMs = JWKS_RETRY_MS,
    timeoutMs = JWKS_TIMEOUT_MS,
    log = (line: string) => console.error(line),
  } = options;
  const url = new URL(jwksUri);
  let kept: { keys: JWTVerifyGetKey; at: number } | null = null;
  let lastAttempt: { at: number; ok: boolean } | null = null;
  let inFlight: Promise<void> | undefined;

  /** When the next fetch may start (ms). */
  const nextAttemptAt = () => (lastAttempt ? lastAttempt.at + (lastAttempt.ok ? cooldownMs : retryMs) : -Infinity);

  async function fetchSet(): Promise<JWTVerifyGetKey> {
    const res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > MAX_JWKS_BYTES) throw new Error("the response is too large for a JWKS");
    const jwks = JSON.parse(text) as JSONWebKeySet;
    // A set with no key verifies nothing: keeping it would refuse every token until the next fetch.
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error("the JWKS has no key");
    // Throws on anything that is not a JWKS.
    return createLocalJWKSet(jwks);
  }

  /** One fetch at a time; never throws: a failure leaves the kept set as it was. */
  function refresh(): Promise<void> {
    inFlight ??= (async () => {
      const at = now();
      try {
        const keys = await fetchSet();
        kept = { keys, at: now() };
        lastAttempt = { at, ok: true };
      } catch (e) {
        lastAttempt = { at, ok: false };
        const keptNote = kept ? `keeping the last keys fetched, ${Math.round((now() - kept.at) / 1000)} s old` : "no keys fetched yet";
        log(`JWKS ${url.origin}${url.pathname}: fetch failed (${reason(e)}); ${keptNote}; next attempt in ${retryMs / 1000} s or later`);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  const unavailable = () =>
    new Failure("unavailable", KEYS_UNAVAILABLE, {
      retryAfter: Math.max(1, Math.ceil((nextAttemptAt() - now()) / 1000)),
    });

  /** A refresh if one may start now, or the one under way; else nothing. */
  const refreshIfDue = (): Promise<void> | undefined => inFlight ?? (now() >= nextAttemptAt() ? refresh() : undefined);

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (!kept) {
      await refreshIfDue();
      if (!kept) throw unavailable();
    } else if (now() - kept.at > maxAgeMs) {
      void refreshIfDue(); // in the background: the kept keys answer meanwhile
    }
    const current = kept;
    try {
      return await current.keys(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      // Not among the kept keys: perhaps the issuer rotated them.
      await refreshIfDue();
      if (kept !== current) return kept.keys(header, token); // a new set: it decides (no match there: 401)
      if (lastAttempt && !lastAttempt.ok) throw unavailable(); // the endpoint is down: we cannot tell
      throw e; // the set is fresh enough and has no such key: 401
    }
  };

  return Object.assign(getKey, {
    fetchedAt: () => kept?.at ?? null,
    refreshing: () => inFlight,
    prefetch: async () => {
      if (kept) return;
      await refreshIfDue();
      // A prefetch that failed does not hold the first request back: it fetches again itself.
      if (!kept) lastAttempt = null;
    },
  });
}
