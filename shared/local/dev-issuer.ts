import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { ADMIN_ROLE, AGENT_ROLE } from "../adapters/identity/claims.js";
import type { IssuerTrust } from "../adapters/identity/verify.js";
import { isInsideAzure } from "../app/config.js";

/**
 * The local development issuer: a key pair kept under `.local/`, made on first
 * use, trusted only by the local host, which turns it on explicitly (the Functions
 * entry point never does: it requires AUTH_*). It also refuses to run inside Azure,
 * so a deployed app can never accept a token anyone with the repo can mint.
 */
export const DEV_ISSUER = "https://helpdesk.local/dev-issuer";
export const DEV_AUDIENCE = "api://helpdesk-local";
/** The delegated scope of the development issuer's tokens (the default of AUTH_REQUIRED_SCOPE). */
const DEV_SCOPE = "access_as_user";
const KEY_FILE = "dev-issuer-key.json";

interface KeyFile {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

function refuseInAzure(): void {
  if (isInsideAzure()) throw new Error("The development issuer refuses to run inside Azure.");
}

async function loadOrCreateKey(dir: string): Promise<KeyFile> {
  refuseInAzure();
  const path = join(dir, KEY_FILE);
  try {
    return JSON.parse(await readFile(path, "utf8")) as KeyFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const file: KeyFile = {
    kid,
    privateJwk: await exportJWK(privateKey),
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" },
  };
  await mkdir(dir, { recursive: true });
  // Written whole under a temporary name, then linked into place: link fails if the key
  // exists, so two processes starting together agree on one key, and neither ever reads
  // a half-written file.
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify(file), { mode: 0o600 });
  try {
    await link(temporary, path);
    return file;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return JSON.parse(await readFile(path, "utf8")) as KeyFile;
  } finally {
    await unlink(temporary);
  }
}

export async function devTrust(dir: string): Promise<IssuerTrust> {
  const key = await loadOrCreateKey(dir);
  return { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, requiredScope: DEV_SCOPE, keys: createLocalJWKSet({ keys: [key.publicJwk] }) };
}

export interface DevUser {
  name: string;
  email: string;
  role?: "agent" | "admin" | "requester";
  /** Defaults to a stable id derived from the email, like an `oid` per user. */
  id?: string;
  lifetimeSeconds?: number;
}

export async function signDevToken(dir: string, user: DevUser): Promise<string> {
  const key = await loadOrCreateKey(dir);
  const roles = user.role === "admin" ? [ADMIN_ROLE] : user.role === "agent" ? [AGENT_ROLE] : [];
  const oid = user.id ?? `user-${Buffer.from(user.email.toLowerCase()).toString("base64url")}`;
  // A person's token, as Entra issues it to an app acting for a user: the delegated scope in `scp`.
  return new SignJWT({ oid, name: user.name, email: user.email, roles, scp: DEV_SCOPE })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(oid)
    .setIssuedAt()
    .setExpirationTime(`${user.lifetimeSeconds ?? 12 * 3600}s`)
    .sign(await importJWK(key.privateJwk, "ES256"));
}
