import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../shared/app/config.js";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { startHost } from "../shared/local/host.js";
import { silentRequestLog } from "../shared/local/request-log.js";

/**
 * A burst from one caller against the local host with the default limits: how many
 * requests are answered before the first 429, and how the rest are answered. Another
 * caller, in the same second, is served as usual.
 */
const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
const config = loadConfig({});
const host = await startHost({ config, local: { port: 0, dir, store: "memory" }, requestLog: silentRequestLog });
try {
  const karen = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
  const ken = await signDevToken(dir, { name: "Ken Ken", email: "ken@example.com" });
  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${host.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const opened = (await (await call(karen, "POST", "/tickets", { subject: "burst", description: "target" })).json()) as { id: string };

  // Each burst from a caller of its own, with a full bucket (an agent may read any ticket).
  const agent = (n: number) => signDevToken(dir, { name: `Agent ${n}`, email: `agent${n}@example.com`, role: "agent" });
  for (const [label, path, count, who] of [
    ["point reads (GET /tickets/{id})", `/tickets/${opened.id}`, 800, await agent(1)],
    ["queue pages (GET /tickets)", "/tickets", 300, await agent(2)],
  ] as const) {
    const statuses: number[] = [];
    const started = performance.now();
    // Ten at a time, as a client with a connection pool would send them.
    for (let i = 0; i < count; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => call(who, "GET", path)));
      for (const res of batch) {
        statuses.push(res.status);
        await res.arrayBuffer();
      }
    }
    const ms = performance.now() - started;
    const firstRefusal = statuses.indexOf(429);
    const answered = statuses.filter((s) => s === 200).length;
    console.log(
      `${label.padEnd(34)} ${count} sent in ${ms.toFixed(0)} ms: ${answered} answered 200, ${statuses.length - answered} answered 429; first 429 at request ${firstRefusal + 1}`,
    );
  }
  const other = await call(ken, "GET", "/tickets");
  console.log(`another caller meanwhile: ${other.status}`);
  console.log(
    `limit: ${config.rateLimit.callerPoints} points per ${config.rateLimit.windowSeconds} s per caller (read 1, write 2, page 3)`,
  );
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
