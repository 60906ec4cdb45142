import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../shared/app/config.js";
import { signDevToken, type DevUser } from "../../shared/local/dev-issuer.js";
import { startHost, type Host, type HostOptions } from "../../shared/local/host.js";
import { silentRequestLog } from "../../shared/local/request-log.js";
import { parseBody, validateResponse } from "./contract.js";

/**
 * A real local host for end-to-end tests: its own port, its own embedded Cosmos
 * DB endpoint and its own development signing key, spoken to over HTTP.
 */
export interface TestHost {
  url: string;
  /** Where this host keeps its development signing key (LOCAL_DIR). */
  dir: string;
  host: Host;
  token(user: DevUser): Promise<string>;
  /**
   * fetch against the API with a token (or none), JSON in and out. The response is checked
   * against the OpenAPI document (support/contract.ts): it throws when the document does not
   * declare its status, its body does not match the declared schema, or its headers are not
   * the declared ones.
   */
  call(token: string | null, method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is, for malformed or non-JSON bodies. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
}

export async function startTestHost(
  env: Record<string, string> = {},
  options: Pick<HostOptions, "outbox" | "scheduler"> = {},
): Promise<TestHost> {
  const dir = await mkdtemp(join(tmpdir(), "helpdesk-test-"));
  // The suite makes thousands of requests with a few callers: limits out of its way, unless a test sets them.
  const limits = { RATE_LIMIT_CALLER_POINTS: "1000000", RATE_LIMIT_ANONYMOUS_POINTS: "1000000" };
  // A throwaway store in memory: nothing is read from or written to any LOCAL_DIR store file.
  const host = await startHost({
    config: loadConfig({ ...limits, ...env }),
    local: { port: 0, dir, store: "memory" },
    requestLog: silentRequestLog,
    ...options,
  });
  const call: TestHost["call"] = async (token, method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const url = `${host.url}${path}`;
    // A redirect (a download) is the answer itself, not a request to follow.
    const res = await fetch(url, { method, headers, body, redirect: "manual" });
    const parsed = parseBody(await res.text());
    // Every answer is held to what GET /api/openapi.json declares: a drift fails the test that made the call.
    validateResponse(method, url, res.status, res.headers.get("content-type"), parsed, res.headers);
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return {
    url: host.url,
    dir,
    host,
    token: (user) => signDevToken(dir, user),
    call,
    close: async () => {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The people of the seed scenario (DESIGN.md section 1). */
export const PEOPLE = {
  karen: { name: "Karen Karen", email: "karen.karen@example.com" },
  ken: { name: "Ken Ken", email: "ken.ken@example.com" },
  qa: { name: "Quinn QA", email: "quinn.qa@example.com", role: "agent" as const },
  jane: { name: "Jane Doe", email: "jane.doe@example.com", role: "agent" as const },
  admin: { name: "Ada Admin", email: "ada.admin@example.com", role: "admin" as const },
};
