import type { AccessToken, TokenCredential } from "@azure/identity";
import { request } from "node:https";

/**
 * What a client of the attachments does with a SAS URL, by hand: one HTTP request, over
 * plain `fetch` (HTTP Azurite) or `node:https` trusting the test CA (HTTPS Azurite, which
 * `fetch` cannot be told to trust).
 */
export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string; ca?: string } = {},
): Promise<Answer> {
  const { method = "GET", headers = {}, body, ca } = init;
  if (!ca) {
    const response = await fetch(url, { method, headers, body: body as BodyInit | undefined });
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) answerHeaders.set(name, String(value));
        resolve({ status: res.statusCode ?? 0, headers: answerHeaders, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Put Blob: the one request of a small upload. */
export const putBlob = (url: string, bytes: Uint8Array | string, ca?: string, headers: Record<string, string> = {}) =>
  send(url, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob", ...headers }, body: bytes, ca });

/** The same URL with `?` and its extra parameters: `comp=block&blockid=...`. */
export const withQuery = (url: string, extra: string) => `${url}&${extra}`;

/** The URL's path made to name another blob, its SAS kept. */
export function otherBlob(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = u.pathname.replace(/[^/]+$/, encodeURIComponent(name));
  return u.toString();
}

/**
 * An Entra ID token as Azurite's OAuth mode reads it: decoded, its times, issuer and audience
 * checked, its signature not. `fail` makes the next calls throw as @azure/identity does when
 * the managed identity gives no token.
 */
export function fakeEntraCredential(now: () => Date = () => new Date()): TokenCredential & { calls: number; fail: number } {
  const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  const credential = {
    calls: 0,
    fail: 0,
    async getToken(): Promise<AccessToken> {
      credential.calls++;
      if (credential.fail > 0) {
        credential.fail--;
        throw Object.assign(new Error("ManagedIdentityCredential: no managed identity endpoint found."), {
          name: "CredentialUnavailableError",
        });
      }
      const t = Math.floor(now().getTime() / 1000);
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const claims = {
        aud: "https://storage.azure.com",
        iss: `https://sts.windows.net/${tenant}/`,
        iat: t - 60,
        nbf: t - 60,
        exp: t + 3600,
        oid: "00000000-0000-0000-0000-0000000000a1",
        tid: tenant,
      };
      return { token: `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`, expiresOnTimestamp: (t + 3600) * 1000 };
    },
  };
  return credential;
}
