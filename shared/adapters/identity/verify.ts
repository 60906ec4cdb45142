import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { LRUCache } from "lru-cache";
import { createHash } from "node:crypto";
import { Failure } from "../../kernel/failure.js";
import type { Principal } from "../../kernel/principal.js";
import { hasApiRole, principalFromClaims } from "./claims.js";
import { KEYS_UNAVAILABLE } from "./keys.js";

/**
 * Bearer-token verification with jose: signature against the issuer's keys,
 * `iss`, `aud`, `exp`/`nbf` (a minute of clock skew), and only asymmetric
 * algorithms, so an `alg: none` or HMAC-confused token never passes.
 */
export const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"];

export interface IssuerTrust {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  /**
   * The delegated scope a user's token must carry in `scp` (AUTH_REQUIRED_SCOPE). A token
   * without `scp` is an application's own (client credentials): it is taken only if it
   * carries one of the API's roles, as that role, never as a requester.
   */
  requiredScope: string;
}

/** Why a token's scopes and roles do not admit it, or null when they do. */
function scopeRefusal(claims: JWTPayload, requiredScope: string): string | null {
  if (claims.scp === undefined) return hasApiRole(claims) ? null : "an app-only token (no scp) without a role of the API";
  const scopes = typeof claims.scp === "string" ? claims.scp.split(" ").filter(Boolean) : [];
  return scopes.includes(requiredScope) ? null : `the token's scp lacks the scope ${requiredScope}`;
}

/**
 * Every 401 says the same thing: which check a token failed would tell a forger what to
 * change. The reason goes to the server's log (the Failure's cause), never to the client.
 */
const UNAUTHENTICATED = "A valid Bearer token is required.";
const unauthenticated = (reason: string) => new Failure("unauthenticated", UNAUTHENTICATED, { cause: new Error(reason) });

function bearerToken(authorization: string | null): string {
  const match = /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)\s*$/i.exec(authorization ?? "");
  if (!match?.[1]) throw unauthenticated(authorization ? "the Authorization header is not a Bearer token" : "no Authorization header");
  return match[1];
}

/** One check of a token, nothing remembered: what rememberingVerifier (the app's) does on a token it has not seen. */
export async function verifyBearer(authorization: string | null, trust: IssuerTrust): Promise<Principal> {
  return (await verifyToken(bearerToken(authorization), trust)).principal;
}

/** Verified tokens kept at most (the least recently used goes first). */
const MAX_VERIFIED = 10_000;

/**
 * verifyBearer with a memory: a token that passed is not checked again until it expires
 * (its `exp`, by `now`), so a client's every request does not pay for a signature check.
 * Kept by a hash of the token, never the token itself; failures are never kept. A key the
 * issuer withdraws keeps the tokens it signed good here until they expire, as it does for
 * any API that takes self-contained tokens.
 */
export function rememberingVerifier(
  trust: IssuerTrust,
  now: () => number = Date.now,
): (authorization: string | null) => Promise<Principal> {
  // By size, not `max`, so that the cache's slots are not all allocated at start (rate-limit.ts).
  const verified = new LRUCache<string, { principal: Principal; expiresAt: number }>({ maxSize: MAX_VERIFIED, sizeCalculation: () => 1 });
  return async (authorization) => {
    const token = bearerToken(authorization);
    const key = createHash("sha256").update(token).digest("base64url");
    const known = verified.get(key);
    if (known && known.expiresAt > now()) return known.principal;
    const { principal, expiresAt } = await verifyToken(token, trust);
    verified.set(key, { principal, expiresAt });
    return principal;
  };
}

async function verifyToken(token: string, trust: IssuerTrust): Promise<{ principal: Principal; expiresAt: number }> {
  try {
    const { payload } = await jwtVerify(token, trust.keys, {
      issuer: trust.issuer,
      audience: trust.audience,
      algorithms: ALLOWED_ALGORITHMS,
      clockTolerance: 60,
      // A token without an expiry would be good forever.
      requiredClaims: ["exp"],
    });
    const refused = scopeRefusal(payload, trust.requiredScope);
    if (refused) throw unauthenticated(refused);
    const principal = principalFromClaims(payload);
    if (!principal) throw unauthenticated("the token names no subject");
    // Shared by every request with this token (rememberingVerifier): nobody may change it.
    return { principal: Object.freeze(principal), expiresAt: payload.exp! * 1000 };
  } catch (e) {
    if (e instanceof Failure) throw e;
    // The issuer's keys could not be fetched: our outage, not a bad token (503, not 401).
    // (A fetch that failed is already a Failure from keys.ts; a key set that will not load is this.)
    if (e instanceof errors.JWKSInvalid || !(e instanceof errors.JOSEError) || e.code === "ERR_JOSE_GENERIC") {
      throw new Failure("unavailable", KEYS_UNAVAILABLE, { retryAfter: 5 });
    }
    // The reason goes to the log; the token itself never does.
    throw unauthenticated(`the token is not valid: ${e.code}`);
  }
}
