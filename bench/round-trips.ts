import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../shared/app/config.js";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { startHost } from "../shared/local/host.js";
import { silentRequestLog } from "../shared/local/request-log.js";
import { apiCall } from "./api-call.js";

/**
 * Cosmos DB round trips per API call: the requests the embedded endpoint
 * receives while the local host serves one call over HTTP, after a warm-up
 * (the first call of a process connects and makes the caller known, and reads the SLA policy).
 */
const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
// The outbox is dispatched after a call returns (in Azure by the change feed), and marking its
// entries sent is no round trip of the call: left undispatched, it stays out of the next call's count.
const host = await startHost({
  config: loadConfig({}),
  local: { port: 0, dir, store: "memory" },
  requestLog: silentRequestLog,
  outbox: "manual",
});
try {
  const karen = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
  const jane = await signDevToken(dir, { name: "Jane Doe", email: "jane@example.com", role: "agent" });
  const call = async (token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    (await apiCall(host.url, token, method, path, body, headers)).json;
  // Warm-up: connect, bootstrap, make both callers known.
  const warm = await call(karen, "POST", "/tickets", { subject: "warm", description: "up" });
  await call(jane, "GET", `/tickets/${warm.id}`);
  const agentId = (await call(jane, "GET", "/agents")).items[0].id;
  // A client's first cross-partition query reads the container's partition key ranges, once.
  await call(jane, "GET", "/tickets?limit=1");

  const counted = async (label: string, run: () => Promise<unknown>) => {
    const before = host.standIns.embeddedCosmos()!.requests();
    await run();
    const n = host.standIns.embeddedCosmos()!.requests() - before;
    console.log(`${label.padEnd(40)} ${n} request${n === 1 ? "" : "s"}`);
    return n;
  };
  let id = "";
  await counted("POST /tickets (open)", async () => (id = (await call(karen, "POST", "/tickets", { subject: "s", description: "d" })).id));
  await counted("GET /tickets/{id}", () => call(jane, "GET", `/tickets/${id}`));
  // (A triage to emergency is one round trip too; the escalation it raises is dispatched afterwards.)
  await counted("PATCH /tickets/{id} (triage)", () => call(jane, "PATCH", `/tickets/${id}`, { priority: "high" }));
  await counted("PUT /tickets/{id}/assignee", () => call(jane, "PUT", `/tickets/${id}/assignee`, { agentId }));
  await counted("POST /tickets/{id}/comments", () =>
    call(jane, "POST", `/tickets/${id}/comments`, { body: "note", visibility: "internal" }),
  );
  // With a key, the comment's batch creates its receipt too: still one round trip.
  await counted("POST /tickets/{id}/comments (keyed)", () =>
    call(jane, "POST", `/tickets/${id}/comments`, { body: "keyed note", visibility: "internal" }, { "idempotency-key": "bench-key" }),
  );
  await counted("POST /tickets/{id}/status", () => call(jane, "POST", `/tickets/${id}/status`, { status: "in_progress" }));
  await counted("DELETE /tickets/{id}/assignee", () => call(jane, "DELETE", `/tickets/${id}/assignee`));
  // Pages of 25 (more than the SDK's own page size, 10) over 60 tickets. The first query of
  // its text asks Cosmos DB for its plan, which is kept (query-plans.ts).
  for (let i = 0; i < 60; i++) await call(karen, "POST", "/tickets", { subject: `s${i}`, description: "d" });
  await counted("GET /tickets (queue page, first)", () => call(jane, "GET", "/tickets?limit=25"));
  let next = "";
  await counted("GET /tickets (queue page, again)", async () => (next = (await call(jane, "GET", "/tickets?limit=25")).nextCursor));
  await counted(
    "GET /tickets (queue page 2, first)",
    async () => (next = (await call(jane, "GET", `/tickets?limit=25&cursor=${next}`)).nextCursor),
  );
  // Page 3 is another cursor, the same query text: its plan is kept.
  await counted("GET /tickets (queue page 3)", () => call(jane, "GET", `/tickets?limit=25&cursor=${next}`));
  // A timeline of 40 entries, in pages of 25: the second page by its cursor.
  for (let i = 0; i < 32; i++) await call(jane, "POST", `/tickets/${id}/comments`, { body: `note ${i}`, visibility: "internal" });
  let cursor = "";
  await counted("GET /tickets/{id}/timeline", async () => (cursor = (await call(jane, "GET", `/tickets/${id}/timeline`)).nextCursor));
  await counted("GET /tickets/{id}/timeline (page 2)", () => call(jane, "GET", `/tickets/${id}/timeline?cursor=${cursor}`));
  // A write by another instance (cold cache) reads first: 2 round trips, never a lost update.
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
