import { createHash } from "node:crypto";
import { isFailure } from "../shared/kernel/failure.js";
import type { Principal } from "../shared/kernel/principal.js";
import { etagOf } from "../shared/tickets/ticket-writer.js";
import { startStore } from "../test/support/store.js";
import { percentile } from "./stats.js";

/**
 * Concurrent writers on one ticket, against the embedded endpoint: N separate instances
 * of the API (their own caches) comment on the same ticket at once, first without
 * If-Match (every write must land), then all with the same If-Match (one wins, the rest
 * get 412). Prints successes, 412s, 503s and p50/p99 latency per round, measured in
 * this run; then the size of a ticket document after many keyed comments.
 */
const WRITERS = (process.env.WRITERS ?? "10,50,100").split(",").map(Number);
const KEYED_COMMENTS = Number(process.env.KEYED_COMMENTS ?? 1000);

const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const jane: Principal = { id: "jane", name: "Jane Doe", email: "jane@example.com", role: "agent" };
const opts = { requestId: "bench" };

const s = await startStore();

async function round(n: number, withIfMatch: boolean) {
  const t = (await s.service.tickets.open(karen, { subject: `contention ${n}`, description: "d" }, opts)).ticket;
  const ifMatch = withIfMatch ? etagOf(t) : undefined;
  const writers = Array.from({ length: n }, () => s.newService());
  const outcomes = await Promise.all(
    writers.map(async (w, i) => {
      const start = performance.now();
      try {
        await w.tickets.comment(jane, t.id, { body: `note ${i}`, visibility: "internal" }, { ...opts, ifMatch });
        return { kind: "ok", ms: performance.now() - start };
      } catch (e) {
        const kind = isFailure(e, "precondition_failed") ? "412" : isFailure(e, "unavailable") ? "503" : "other";
        if (kind === "other") console.error(e);
        return { kind, ms: performance.now() - start };
      }
    }),
  );
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const count = (kind: string) => outcomes.filter((o) => o.kind === kind).length;
  const fmt = (x: number) => `${x.toFixed(0)} ms`.padStart(8);
  console.log(
    `${String(n).padStart(7)}  ${(withIfMatch ? "same" : "none").padEnd(8)} ${String(count("ok")).padStart(9)} ${String(count("412")).padStart(5)} ${String(count("503")).padStart(5)} ${String(count("other")).padStart(5)} ${fmt(percentile(ms, 50))} ${fmt(percentile(ms, 99))}`,
  );
}

try {
  console.log("writers  If-Match successes   412   503 other      p50      p99");
  for (const n of WRITERS) {
    await round(n, false);
    await round(n, true);
  }

  const t = (await s.service.tickets.open(karen, { subject: "keyed comments", description: "d" }, opts)).ticket;
  const size = async () => JSON.stringify((await s.container.item(t.id, t.id).read()).resource).length;
  const before = await size();
  for (let i = 0; i < KEYED_COMMENTS; i++) {
    await s.service.tickets.comment(
      karen,
      t.id,
      { body: `comment ${i}`, visibility: "public" },
      // A request hash as the HTTP layer makes it: hex SHA-256.
      { ...opts, idempotency: { key: `key-${i}`, requestHash: createHash("sha256").update(`comment ${i}`).digest("hex") } },
    );
  }
  const after = await size();
  console.log(`ticket document: ${before} bytes after opening, ${after} bytes after ${KEYED_COMMENTS} keyed comments`);
} finally {
  await s.close();
}
