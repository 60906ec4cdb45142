import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, createLocalJWKSet } from "jose";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Failure } from "../../shared/kernel/failure.js";
import { principalFromClaims } from "../../shared/adapters/identity/claims.js";
import { remoteKeys } from "../../shared/adapters/identity/keys.js";
import { rememberingVerifier, verifyBearer, type IssuerTrust } from "../../shared/adapters/identity/verify.js";

const issuer = "https://login.example.com/tenant/v2.0";
const audience = "api://helpdesk";
let trust: IssuerTrust;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privateKey = pair.privateKey;
  trust = {
    issuer,
    audience,
    requiredScope: "access_as_user",
    keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256" }] }),
  };
});

const sign = (claims: Record<string, unknown>, build: (j: SignJWT) => SignJWT = (j) => j.setExpirationTime("5m")) =>
  build(
    new SignJWT({ oid: "u1", name: "Jane Doe", ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(),
  ).sign(privateKey);

const refusal = async (authorization: string | null, t = trust) => {
  try {
    await verifyBearer(authorization, t);
    return "accepted";
  } catch (e) {
    return e instanceof Failure ? (e.kind === "unauthenticated" ? "401" : e.kind) : String(e);
  }
};

describe("bearer tokens", () => {
  it("accepts a token of the issuer for the audience, and reads the principal from it", async () => {
    const principal = await verifyBearer(`Bearer ${await sign({ roles: ["Tickets.Agent"], email: "jane@example.com" })}`, trust);
    expect(principal).toEqual({ id: "u1", name: "Jane Doe", email: "jane@example.com", role: "agent" });
  });

  it("refuses a missing, malformed, unsigned, expired or expiry-less token, and one for another audience or issuer", async () => {
    expect(await refusal(null)).toBe("401");
    expect(await refusal("Basic dXNlcjpwYXNz")).toBe("401");
    expect(
      await refusal(`Bearer ${new UnsecuredJWT({ oid: "u1" }).setIssuer(issuer).setAudience(audience).setExpirationTime("5m").encode()}`),
    ).toBe("401");
    expect(await refusal(`Bearer ${await sign({}, (j) => j.setExpirationTime(Math.floor(Date.now() / 1000) - 3600))}`)).toBe("401");
    expect(await refusal(`Bearer ${await sign({}, (j) => j)}`)).toBe("401"); // no exp: good forever, refused
    expect(await refusal(`Bearer ${await sign({}, (j) => j.setAudience("api://other").setExpirationTime("5m"))}`)).toBe("401");
    expect(await refusal(`Bearer ${await sign({}, (j) => j.setIssuer("https://evil.example.com").setExpirationTime("5m"))}`)).toBe("401");
  });

  it("answers 503, not 401, when the issuer's keys cannot be fetched", async () => {
    const unreachable = {
      issuer,
      audience,
      requiredScope: "access_as_user",
      keys: remoteKeys("http://127.0.0.1:9/keys", { log: () => {} }),
    };
    expect(await refusal(`Bearer ${await sign({})}`, unreachable)).toBe("unavailable");
  });
});

describe("scopes and app roles", () => {
  it("refuses a token without scp that carries none of the API's roles: an app-only token is not a requester", async () => {
    expect(await refusal(`Bearer ${await sign({})}`)).toBe("401");
    expect(await refusal(`Bearer ${await sign({ roles: ["Some.Other.Role"] })}`)).toBe("401");
  });

  it("takes an app-only token (no scp) that carries a role of the API as that role", async () => {
    expect((await verifyBearer(`Bearer ${await sign({ roles: ["Tickets.Agent"] })}`, trust)).role).toBe("agent");
    expect((await verifyBearer(`Bearer ${await sign({ roles: ["Tickets.Admin"] })}`, trust)).role).toBe("admin");
  });

  it("refuses a user's token whose scp lacks the required scope, and takes one that has it", async () => {
    expect(await refusal(`Bearer ${await sign({ scp: "User.Read" })}`)).toBe("401");
    expect(await refusal(`Bearer ${await sign({ scp: "User.Read", roles: ["Tickets.Admin"] })}`)).toBe("401");
    expect(await refusal(`Bearer ${await sign({ scp: "" })}`)).toBe("401");
    expect((await verifyBearer(`Bearer ${await sign({ scp: "User.Read access_as_user" })}`, trust)).role).toBe("requester");
    expect((await verifyBearer(`Bearer ${await sign({ scp: "access_as_user", roles: ["Tickets.Agent"] })}`, trust)).role).toBe("agent");
  });

  it("requires the scope the trust names (AUTH_REQUIRED_SCOPE), not a fixed one", async () => {
    const custom = { ...trust, requiredScope: "Tickets.ReadWrite" };
    expect(await refusal(`Bearer ${await sign({ scp: "access_as_user" })}`, custom)).toBe("401");
    expect(await refusal(`Bearer ${await sign({ scp: "Tickets.ReadWrite" })}`, custom)).toBe("accepted");
  });
});

describe("the development issuer", () => {
  it("is trusted only where the host turns it on: a composition without it refuses the development issuer's tokens", async () => {
    const { signDevToken, devTrust } = await import("../../shared/local/dev-issuer.js");
    const { Composition } = await import("../../shared/app/composition.js");
    const { loadConfig } = await import("../../shared/app/config.js");
    const dir = await mkdtemp(join(tmpdir(), "helpdesk-key-"));
    try {
      const token = `Bearer ${await signDevToken(dir, { name: "Mallory", email: "mallory@example.com", role: "admin" })}`;
      const without = new Composition(loadConfig({}), {});
      await expect(without.authenticate(token)).rejects.toThrow(/AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URI are required/);
      const local = new Composition(loadConfig({}), { devIssuer: () => devTrust(dir) });
      expect((await local.authenticate(token)).role).toBe("admin");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("agrees on one key when many callers create it at once", async () => {
    const { devTrust, signDevToken } = await import("../../shared/local/dev-issuer.js");
    const dir = await mkdtemp(join(tmpdir(), "helpdesk-key-"));
    try {
      const tokens = await Promise.all(
        Array.from({ length: 8 }, (_, i) => signDevToken(dir, { name: `U${i}`, email: `u${i}@example.com` })),
      );
      const trust = await devTrust(dir);
      for (const token of tokens) expect((await verifyBearer(`Bearer ${token}`, trust)).role).toBe("requester");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("roles", () => {
  it("admin includes agent; no role is a requester; oid before sub; email before preferred_username", () => {
    expect(principalFromClaims({ oid: "o", sub: "s", roles: ["Tickets.Admin", "Tickets.Agent"] })?.role).toBe("admin");
    expect(principalFromClaims({ sub: "s", preferred_username: "p@example.com" })).toEqual({
      id: "s",
      name: "p@example.com",
      email: "p@example.com",
      role: "requester",
    });
    expect(principalFromClaims({ name: "nobody" })).toBeNull();
  });
});

describe("a remembered token", () => {
  it("is verified once until it expires, by a hash of it; a failure is never remembered", async () => {
    let lookups = 0;
    const counting: IssuerTrust = {
      ...trust,
      keys: (header, token) => {
        lookups++;
        return (trust.keys as (h: typeof header, t: typeof token) => ReturnType<IssuerTrust["keys"]>)(header, token);
      },
    };
    let now = Date.now();
    const verify = rememberingVerifier(counting, () => now);
    const token = await sign({ roles: ["Tickets.Agent"] }, (j) => j.setExpirationTime("2m"));
    const first = await verify(`Bearer ${token}`);
    expect(await verify(`Bearer ${token}`)).toBe(first);
    expect(lookups).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    // Past its exp by the verifier's clock, it is checked again (jose's own, the real one, still takes it).
    now += 3 * 60_000;
    await verify(`Bearer ${token}`);
    expect(lookups).toBe(2);
    // A bad token is checked every time.
    const forged = `${token.slice(0, -4)}AAAA`;
    for (let i = 0; i < 2; i++) await expect(verify(`Bearer ${forged}`)).rejects.toMatchObject({ kind: "unauthenticated" });
    expect(lookups).toBe(4);
  });
});
