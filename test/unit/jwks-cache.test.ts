import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { JWKS_COOLDOWN_MS, JWKS_MAX_AGE_MS, JWKS_RETRY_MS, remoteKeys } from "../../shared/adapters/identity/keys.js";
import { verifyBearer, type IssuerTrust } from "../../shared/adapters/identity/verify.js";
import { Failure } from "../../shared/kernel/failure.js";

/**
 * The issuer's keys as shared/adapters/identity/keys.ts keeps them, against a JWKS
 * endpoint this test starts and stops, on a clock it moves (no test waits ten minutes).
 */
const issuer = "https://login.example.com/tenant/v2.0";
const audience = "api://helpdesk";

interface Key {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}
async function makeKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}
const sign = (key: Key, claims: Record<string, unknown> = { scp: "access_as_user" }) =>
  new SignJWT({ oid: "u1", name: "Jane Doe", ...claims })
    .setProtectedHeader({ alg: "RS256", kid: key.kid })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key.privateKey);

/** A JWKS endpoint that serves `published`, counts its requests, and can be stopped and started again on its port. */
class JwksEndpoint {
  published: Key[] = [];
  requests = 0;
  /** When set, requests are held unanswered (a hanging endpoint). */
  hang = false;
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests++;
      if (this.hang) return;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: this.published.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get uri() {
    return `http://127.0.0.1:${this.port}/keys`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let endpoint: JwksEndpoint;
afterEach(() => endpoint?.stop());

async function setUp(options: { timeoutMs?: number } = {}) {
  endpoint = new JwksEndpoint();
  await endpoint.start();
  let t = 1_000_000;
  const clock = {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
  const logged: string[] = [];
  const keys = remoteKeys(endpoint.uri, { now: clock.now, log: (line) => logged.push(line), ...options });
  const trust: IssuerTrust = { issuer, audience, requiredScope: "access_as_user", keys };
  const outcome = async (token: string) => {
    try {
      return (await verifyBearer(`Bearer ${token}`, trust)).role;
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      return e.kind === "unavailable" ? `503 retry-after ${e.retryAfter}` : e.kind === "unauthenticated" ? "401" : e.kind;
    }
  };
  return { clock, keys, outcome, logged };
}

describe("the issuer's keys", () => {
  it("are fetched by a host's start (prefetch), once; a prefetch that failed leaves the first request to fetch", async () => {
    const { keys, outcome } = await setUp();
    const k1 = await makeKey("k1");
    endpoint.published = [k1];
    await keys.prefetch();
    expect(endpoint.requests).toBe(1);
    await keys.prefetch();
    expect(await outcome(await sign(k1))).toBe("requester");
    expect(endpoint.requests).toBe(1);

    await endpoint.stop();
    const other = await setUp();
    const port = endpoint.port;
    await endpoint.stop();
    await other.keys.prefetch(); // the endpoint is down: nothing kept, nothing thrown
    expect(other.keys.fetchedAt()).toBeNull();
    endpoint.port = port;
    await endpoint.start();
    endpoint.published = [k1];
    // Not refused for the 5 s a failed fetch otherwise waits: the request fetches again.
    expect(await other.outcome(await sign(k1))).toBe("requester");
  });

  it("are kept when the endpoint answers a set with no key: an empty set would refuse every token", async () => {
    const { clock, keys, outcome, logged } = await setUp();
    const k1 = await makeKey("k1");
    endpoint.published = [k1];
    expect(await outcome(await sign(k1))).toBe("requester");
    endpoint.published = [];
    clock.advance(JWKS_MAX_AGE_MS + 1);
    expect(await outcome(await sign(k1))).toBe("requester");
    await keys.refreshing();
    expect(logged.join("\n")).toMatch(/no key/);
    expect(await outcome(await sign(k1))).toBe("requester");
  });

  it("are fetched once and kept: tokens verify without a request per token", async () => {
    const { outcome } = await setUp();
    const k1 = await makeKey("k1");
    endpoint.published = [k1];
    expect(await outcome(await sign(k1))).toBe("requester");
    expect(await outcome(await sign(k1))).toBe("requester");
    expect(endpoint.requests).toBe(1);
  });

  it("keep working past their max age while the endpoint is down, and the refresh is retried in the background", async () => {
    const { clock, keys, outcome, logged } = await setUp();
    const k1 = await makeKey("k1");
    endpoint.published = [k1];
    expect(await outcome(await sign(k1))).toBe("requester");
    await endpoint.stop();

    clock.advance(JWKS_MAX_AGE_MS + 1);
    expect(await outcome(await sign(k1))).toBe("requester"); // not 503: the kept keys are still the issuer's
    await keys.refreshing(); // the background refresh it started fails ...
    expect(logged.join("\n")).toMatch(/fetch failed.*keeping the last keys fetched/);
    expect(await outcome(await sign(k1))).toBe("requester"); // ... and changes nothing

    clock.advance(60 * 60_000); // an hour later, still down
    expect(await outcome(await sign(k1))).toBe("requester");
    await keys.refreshing();
    expect(logged.length).toBe(2); // retried, in the background

    await endpoint.start(); // back, on the same port
    clock.advance(JWKS_RETRY_MS);
    expect(await outcome(await sign(k1))).toBe("requester");
    await keys.refreshing();
    expect(keys.fetchedAt()).toBe(clock.now()); // the kept set is the new one
  });

  it("answer 503 with Retry-After for a key never fetched while the endpoint is down, and verify it once it is back", async () => {
    const { clock, outcome } = await setUp();
    const [k1, k2] = [await makeKey("k1"), await makeKey("k2")];
    endpoint.published = [k1];
    expect(await outcome(await sign(k1))).toBe("requester");
    await endpoint.stop();
    clock.advance(JWKS_MAX_AGE_MS + 1);

    const rotated = await sign(k2);
    clock.advance(JWKS_COOLDOWN_MS); // the unknown kid may fetch again: it tries, and the endpoint is down
    expect(await outcome(rotated)).toBe(`503 retry-after ${JWKS_RETRY_MS / 1000}`);
    expect(await outcome(await sign(k1))).toBe("requester"); // the kept key still verifies meanwhile

    endpoint.published = [k1, k2]; // the issuer rotated while we could not see it
    await endpoint.start();
    expect(await outcome(rotated)).toMatch(/^503/); // within the retry interval: no new fetch yet
    clock.advance(JWKS_RETRY_MS);
    expect(await outcome(rotated)).toBe("requester");
  });

  it("answer 401, not 503, for a key the endpoint does not publish, and fetch for unknown kids at most once per cooldown", async () => {
    const { clock, outcome } = await setUp();
    const [k1, forged] = [await makeKey("k1"), await makeKey("forged")];
    endpoint.published = [k1];
    expect(await outcome(await sign(k1))).toBe("requester");
    clock.advance(JWKS_COOLDOWN_MS);
    const token = await sign(forged);
    expect(await outcome(token)).toBe("401");
    expect(endpoint.requests).toBe(2);
    for (let i = 0; i < 5; i++) expect(await outcome(token)).toBe("401");
    expect(endpoint.requests).toBe(2); // within the cooldown: no fetch per forged token
  });

  it("answer 503 when they were never fetched: the endpoint down, or not answering within the timeout", async () => {
    const { outcome } = await setUp({ timeoutMs: 200 });
    const k1 = await makeKey("k1");
    endpoint.published = [k1];
    endpoint.hang = true;
    const started = performance.now();
    expect(await outcome(await sign(k1))).toMatch(/^503/);
    expect(performance.now() - started).toBeLessThan(2_000);
    await endpoint.stop();
    expect(await outcome(await sign(k1))).toMatch(/^503/);
  });
});
