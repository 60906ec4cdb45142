import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JWKS_MAX_AGE_MS, JWKS_RETRY_MS } from "../../shared/adapters/identity/keys.js";
import { ManualScheduler } from "../support/manual-scheduler.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * A host with a real token issuer (AUTH_*): its JWKS endpoint is a server this test
 * starts and stops, and the host's clock is one the test moves. Over HTTP, as a client
 * sees it: 503 with Retry-After only while the keys were never fetched, the kept keys
 * through an outage, scp and app roles; and the development issuer no longer trusted.
 */
const issuer = "https://login.example.com/tenant/v2.0";
const audience = "api://helpdesk";

let privateKey: CryptoKey;
let publicJwk: JWK;
let server: Server | undefined;
let port = 0;
let t: TestHost;
const scheduler = new ManualScheduler();

async function startJwks(): Promise<void> {
  server = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] })));
  await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
}
async function stopJwks(): Promise<void> {
  const s = server;
  server = undefined;
  s?.closeAllConnections();
  await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
}

/** The keys endpoint up (as the first test leaves it), for a test that runs alone too. */
async function keysUp(): Promise<void> {
  if (!server) await startJwks();
}

const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ oid: "u-karen", name: PEOPLE.karen.name, email: PEOPLE.karen.email, ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(privateKey);

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  await startJwks(); // for a free port, which it keeps ...
  await stopJwks(); // ... down until the test brings it up
  t = await startTestHost({ AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, AUTH_JWKS_URI: `http://127.0.0.1:${port}/keys` }, { scheduler });
});
afterAll(async () => {
  await t.close();
  await stopJwks();
});

describe("a host with a token issuer", () => {
  it("answers 503 with Retry-After while the keys were never fetched, then keeps them through an outage", async () => {
    const user = await sign({ scp: "access_as_user" });
    const down = await t.call(user, "GET", "/tickets");
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe(String(JWKS_RETRY_MS / 1000));

    await startJwks();
    await scheduler.advance(JWKS_RETRY_MS);
    expect((await t.call(user, "GET", "/tickets")).status).toBe(200);

    await stopJwks();
    await scheduler.advance(JWKS_MAX_AGE_MS + 60_000);
    expect((await t.call(user, "GET", "/tickets")).status).toBe(200);
    await scheduler.advance(60 * 60_000);
    expect((await t.call(user, "GET", "/tickets")).status).toBe(200);
    await startJwks();
  });

  it("refuses an app-only token without a role of the API, and a user's token without the required scope; takes an app with a role", async () => {
    await keysUp();
    expect((await t.call(await sign({}), "GET", "/tickets")).status).toBe(401);
    expect((await t.call(await sign({ scp: "User.Read" }), "GET", "/tickets")).status).toBe(401);
    const app = await sign({ oid: "app-1", name: "Monitoring", email: undefined, roles: ["Tickets.Agent"] });
    expect((await t.call(app, "GET", "/agents")).status).toBe(200);
  });

  it("does not trust the development issuer's tokens", async () => {
    await keysUp();
    await scheduler.advance(JWKS_RETRY_MS); // the endpoint is back: an unknown kid is looked up, and is not there
    expect((await t.call(await t.token({ ...PEOPLE.karen, role: "admin" }), "GET", "/tickets")).status).toBe(401);
  });
});
