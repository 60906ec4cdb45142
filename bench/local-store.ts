import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY } from "../shared/adapters/cosmos/connect.js";
import { restoreSnapshot, SNAPSHOT_REQUEST_TIMEOUT_MS, takeSnapshot } from "../shared/adapters/cosmos/snapshot.js";
import { loadConfig } from "../shared/app/config.js";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { startEmbeddedCosmos } from "../shared/local/embedded-cosmos.js";
import { startHost } from "../shared/local/host.js";
import { silentRequestLog } from "../shared/local/request-log.js";
import { keepStore } from "../shared/local/kept-store.js";
import { readStoreFile, STORE_FILE_NAME, writeStoreFile } from "../shared/local/store-file.js";

/**
 * How long the local host takes to save and to load its kept store with TICKETS tickets
 * (default 10,000), each with the timeline the product writes for it: opened over the API,
 * triaged, answered by an agent, put in progress (five documents a ticket). Figures from
 * one run: the save (every document read through the SDK, then the file replaced) at a
 * few sizes on the way, with a queue page's time beside it (both query the embedded
 * endpoint, whose query time grows faster than the store); at the end the save and the
 * load (the file read and checked, then bulk upserts into a new embedded endpoint), each
 * split into its two halves, the file's size and the documents counted.
 */
const TICKETS = Number(process.env.TICKETS ?? 10_000);
const CONCURRENCY = 8;

const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
const file = join(dir, STORE_FILE_NAME);
const config = loadConfig({ RATE_LIMIT_CALLER_POINTS: "100000000", RATE_LIMIT_ANONYMOUS_POINTS: "100000000" });
// In memory while it fills: the saves are what is measured, once it is full.
const host = await startHost({ config, local: { port: 0, dir, store: "memory" }, requestLog: silentRequestLog });
const ms = (since: number) => `${(performance.now() - since).toFixed(0)} ms`;
let hostClosed = false;
try {
  const requesters = await Promise.all(
    Array.from({ length: 20 }, (_, i) => signDevToken(dir, { name: `Requester ${i}`, email: `requester${i}@example.com` })),
  );
  const agent = await signDevToken(dir, { name: "Jane Doe", email: "jane@example.com", role: "agent" });
  // A 503 is retried after a pause, as a client honouring Retry-After would (counted and printed:
  // the embedded endpoint now and then resets a kept-alive connection, which the app answers 503).
  let retried = 0;
  const call = async (token: string, method: string, path: string, body: unknown): Promise<{ id: string }> => {
    const res = await fetch(`${host.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { id: string };
    if (res.status === 503 && retried++ < 100) {
      await new Promise((r) => setTimeout(r, 100));
      return call(token, method, path, body);
    }
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  // Filled in steps; at each, one save (as the host's kept store runs it, on the host's
  // endpoint) and one queue page, so the figures show how both grow with the store.
  const embedded = host.standIns.embeddedCosmos()!;
  const steps = [1_000, 2_500, 5_000, 10_000].filter((n) => n < TICKETS).concat(TICKETS);
  let next = 0;
  const started = performance.now();
  for (const upTo of steps) {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < upTo) {
          const n = next++;
          const { id } = await call(requesters[n % requesters.length]!, "POST", "/tickets", {
            subject: `Ticket ${n}: the VPN drops every few minutes`,
            description: "Since this morning the branch VPN disconnects every five to ten minutes; reconnecting works until the next drop.",
          });
          await call(agent, "PATCH", `/tickets/${id}`, { priority: "high", category: "network", reason: "several users affected" });
          await call(agent, "POST", `/tickets/${id}/comments`, { body: "We are looking at the branch's gateway.", visibility: "public" });
          await call(agent, "POST", `/tickets/${id}/status`, { status: "in_progress" });
        }
      }),
    );
    const kept = await keepStore(embedded, { file, database: config.cosmos.database });
    const saved = await kept.save();
    await kept.close();
    const size = (await stat(file)).size;
    const t0 = performance.now();
    const page = await fetch(`${host.url}/tickets?limit=25`, { headers: { authorization: `Bearer ${agent}` } });
    await page.arrayBuffer();
    console.log(
      `${String(upTo).padStart(6)} tickets: save ${saved.ms.toFixed(0).padStart(6)} ms, ${saved.documents} documents, ` +
        `${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes); GET /tickets?limit=25 ${ms(t0)} (${page.status})`,
    );
  }
  console.log(
    `(filled over HTTP, 4 calls a ticket, ${CONCURRENCY} at a time, in ${ms(started)} with the steps; ${retried} calls retried after a 503)`,
  );

  // The save's two halves, again: the SDK's read of every document, then the file.
  const client = await connectCosmos({ endpoint: embedded.endpoint, key: EMBEDDED_KEY, requestTimeoutMs: SNAPSHOT_REQUEST_TIMEOUT_MS });
  let t = performance.now();
  const snapshot = await takeSnapshot(client.database(config.cosmos.database), new Date());
  const read = ms(t);
  t = performance.now();
  await writeStoreFile(join(dir, "again.json"), snapshot);
  console.log(`  of which: reading every document through the SDK ${read}, writing the file (temp, fsync, rename) ${ms(t)}`);
  client.dispose();
  hostClosed = true;
  await host.close();

  // The load, as the host's start runs it, into a new endpoint.
  const fresh = await startEmbeddedCosmos();
  t = performance.now();
  const loading = await keepStore(fresh, { file, database: config.cosmos.database });
  console.log(`load: ${ms(t)}, ${loading.loaded?.documents} documents (${loading.loaded?.expired} expired)`);
  await loading.close();
  await fresh.close();

  // The load's two halves, again, on another new endpoint.
  const other = await startEmbeddedCosmos();
  const otherClient = await connectCosmos({ endpoint: other.endpoint, key: EMBEDDED_KEY, requestTimeoutMs: SNAPSHOT_REQUEST_TIMEOUT_MS });
  await bootstrapCosmos(otherClient, config.cosmos.database);
  t = performance.now();
  const parsed = (await readStoreFile(file))!;
  const parse = ms(t);
  t = performance.now();
  await restoreSnapshot(otherClient.database(config.cosmos.database), parsed, new Date());
  console.log(`  of which: reading and checking the file ${parse}, bulk upserts through the SDK ${ms(t)}`);
  // What came back is what was saved: one ticket read through the SDK, as the app reads it.
  const sample = JSON.parse((await readFile(file, "utf8")).split("\n")[2]!.replace(/,$/, "")) as { id: string; ticketId: string };
  const { resource } = await otherClient.database(config.cosmos.database).container("tickets").item(sample.id, sample.ticketId).read();
  if (!resource) throw new Error(`document ${sample.id} did not come back`);
  otherClient.dispose();
  await other.close();
} finally {
  if (!hostClosed) await host.close();
  await rm(dir, { recursive: true, force: true });
}
